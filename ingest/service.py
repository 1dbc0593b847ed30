"""The ingest service: a persistent MQTT v5 session, acknowledging each message after its write.

Flow per message: decode (or dead-letter with a reason) → points → InfluxDB → MQTT ack. While
InfluxDB is unreachable the message is retried with capped backoff and *not* acknowledged, so the
broker keeps it; if ingest stops meanwhile, the broker redelivers it to the next session.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from contract import topics
from contract.models import Report
from ingest.deadletter import DeadLetters
from ingest.decode import Limits, Reason, Rejection, decode
from ingest.metrics import Metrics
from ingest.points import presence_lines, report_lines
from ingest.settings import IngestSettings
from tsdb.lineprotocol import UnwritableValue
from tsdb.writer import Rejected, Retryable, Writer

logger = logging.getLogger(__name__)

BACKOFF_START_S = 0.5
BACKOFF_MAX_S = 30.0


class IngestService:
    def __init__(
        self, settings: IngestSettings, writer: Writer, metrics: Metrics | None = None
    ) -> None:
        self.settings = settings
        self.writer = writer
        self.metrics = metrics or Metrics()
        self.dead_letters = DeadLetters(self.metrics, settings.dead_letter_file)
        self.limits = Limits(
            max_payload_bytes=settings.max_payload_bytes,
            max_future=timedelta(seconds=settings.max_future_s),
            max_past=timedelta(seconds=settings.max_past_s),
        )
        self.subscribed = threading.Event()
        self._stopping = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.mqtt_client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        self.client.enable_logger(logging.getLogger("ingest.paho"))
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        if settings.mqtt_username is not None:
            password = settings.mqtt_password.get_secret_value() if settings.mqtt_password else None
            self.client.username_pw_set(settings.mqtt_username, password)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe

    def _filters(self) -> list[str]:
        filters = [
            topics.subscription(topics.Channel.REPORT),
            topics.subscription(topics.Channel.STATUS),
        ]
        group = self.settings.mqtt_share_group
        return [topics.shared(f, group) for f in filters] if group else filters

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            logger.error("broker refused ingest: %s", reason)
            return
        client.subscribe([(f, 1) for f in self._filters()])
        logger.info("connected (session present: %s); subscribing", flags.session_present)

    def _on_subscribe(
        self,
        client: mqtt.Client,
        userdata: object,
        mid: int,
        reasons: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        refused = [str(r) for r in reasons if r.is_failure]
        if refused:
            logger.error("broker refused ingest's subscriptions: %s", ", ".join(refused))
            return
        self.subscribed.set()  # only now does the broker route messages to us

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        self.metrics.inc("messages_received")
        if self.handle(message.topic, bytes(message.payload)):
            client.ack(message.mid, message.qos)

    def handle(self, topic: str, payload: bytes) -> bool:
        """Store or dead-letter one message. False only when stopping before it could be written."""
        received_at = datetime.now(UTC)
        decoded = decode(topic, payload, received_at, self.limits)
        if isinstance(decoded, Rejection):
            self.dead_letters.add(topic, payload, decoded)
            return True
        try:
            if isinstance(decoded, Report):
                lines, counter = report_lines(decoded, received_at), "reports_stored"
            else:
                lines, counter = presence_lines(decoded, received_at), "presence_stored"
        except UnwritableValue as exc:
            self.dead_letters.add(topic, payload, Rejection(Reason.UNWRITABLE, str(exc)))
            return True
        if not self._write(topic, payload, lines):
            return False
        self.metrics.inc(counter)
        self.metrics.inc("points_written", len(lines))
        return True

    def _write(self, topic: str, payload: bytes, lines: list[str]) -> bool:
        delay = BACKOFF_START_S
        while True:
            try:
                self.writer.write(lines)
                return True
            except Rejected as exc:
                self.dead_letters.add(topic, payload, Rejection(Reason.DB_REJECTED, str(exc)))
                return True
            except Retryable as exc:
                self.metrics.inc("write_retries")
                wait = exc.retry_after_s if exc.retry_after_s is not None else delay
                logger.warning("write failed (%s); retrying in %.1f s", exc, wait)
                if self._stopping.wait(min(wait, BACKOFF_MAX_S)):
                    return False
                delay = min(delay * 2, BACKOFF_MAX_S)

    def start(self) -> None:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self.settings.mqtt_session_expiry_s
        self.client.connect_async(
            self.settings.mqtt_host,
            self.settings.mqtt_port,
            keepalive=30,
            clean_start=False,
            properties=props,
        )
        self.client.loop_start()

    def stop(self) -> None:
        self._stopping.set()
        # paho 2.2's loop thread logs a spurious ERROR ("Client is not connected") when it runs once
        # more after a deliberate disconnect; nothing said during our own shutdown is news.
        self.client.disable_logger()
        self.client.disconnect()
        self.client.loop_stop()
        self.writer.close()
