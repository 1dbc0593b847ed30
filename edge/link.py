"""The agent's road to the broker: one thread that connects, sends the outbox in order, reconnects.

- Every report waits in the durable outbox; it is sent at QoS 1 and deleted only when ingest's
  receipt says it is stored (or refused for good): the broker's PUBACK does not survive a broker
  crash. ``edge.receipts`` decides which unconfirmed reports to send again. A bounded window of
  reports awaits the broker's PUBACK at once, and a token bucket caps the send rate so a day of
  backlog does not flood the broker after a fibre cut.
- Each connection is a fresh paho client; reports the broker had not acknowledged when a
  connection dropped are sent again on the next.
- Network failures back off from 1 s to 2 min with full jitter; a refused identity (bad login, not
  authorised to connect or to publish on our own topic) stops the agent and says so.
- Presence: ``online`` (retained) on every connect, ``offline`` by the Will, and ``offline`` on a
  graceful stop after flushing what can be flushed.
- Commands: the agent's own command topic is subscribed (QoS 1) on every connect; each message
  goes to the ``CommandInbox`` (``edge.commands``), which decides what to do with it.
"""

from __future__ import annotations

import logging
import random
import ssl
import threading
import time
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from contract import topics
from contract.models import Presence, PresenceState, Receipt
from edge import __version__
from edge.commands import CommandInbox
from edge.config import AgentConfig
from edge.outbox import Outbox
from edge.receipts import Unconfirmed

logger = logging.getLogger(__name__)

# MQTT v5 reason codes that retrying cannot fix (CONNACK and PUBACK).
_FATAL = {
    0x84: "unsupported protocol version",
    0x85: "client identifier not valid",
    0x86: "bad user name or password",
    0x87: "not authorized",
    0x8C: "bad authentication method",
}
_NO_SUBSCRIBERS = 0x10  # PUBACK: the broker took it, and threw it away (nobody subscribed)
_LOOP_S = 0.05  # the link thread's network poll
BACKOFF_MIN_S = 1.0
BACKOFF_MAX_S = 120.0


class CredentialsRefused(Exception):
    """The broker refused this agent's identity or its right to publish: retrying would not help."""


class TokenBucket:
    def __init__(self, rate_per_s: float, burst: int) -> None:
        self.rate = rate_per_s
        self.burst = float(burst)
        self._tokens = float(burst)
        self._at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


class BrokerLink:
    def __init__(
        self, config: AgentConfig, outbox: Outbox, commands: CommandInbox | None = None
    ) -> None:
        self.config = config
        self.outbox = outbox
        self.commands = commands or CommandInbox(config.area_id, config.agent_id)
        self.report_topic = topics.report_topic(config.area_id, config.agent_id)
        self.status_topic = topics.status_topic(config.area_id, config.agent_id)
        self.command_topic = topics.command_topic(config.area_id, config.agent_id)
        self.receipt_topic = topics.receipt_topic(config.area_id, config.agent_id)
        self.client_id = f"agent-{config.area_id}-{config.agent_id}"
        self.connected = threading.Event()
        self.refused: str | None = None
        # Counters for the agent's own metrics.
        self.connects = 0
        self.connect_failures = 0
        self.no_subscribers = 0  # PUBACKs with reason 0x10: kept and sent again
        self.refused_reports = 0  # reports ingest refused for good (left the outbox)
        self.receipts = 0
        self.bad_receipts = 0
        self.unconfirmed = Unconfirmed(config.outbox.receipt_timeout_s)
        self._refusals_logged: set[str] = set()
        self._stop = threading.Event()
        self._stopped = threading.Event()
        self._flush_deadline = 0.0
        self._inflight: dict[int, int] = {}  # MQTT message id → report seq
        self._last_sent = 0
        # Burst of one loop period's worth: the rate holds over any second, not just on average.
        rate = config.outbox.send_rate_per_s
        self._bucket = TokenBucket(rate, burst=max(1, int(rate * _LOOP_S)))
        self._thread = threading.Thread(target=self._run, name="mqtt-link", daemon=True)

    # ----- one connection -----------------------------------------------------------------

    def _presence(self, state: PresenceState, at: datetime | None) -> bytes:
        return Presence(
            area_id=self.config.area_id,
            agent_id=self.config.agent_id,
            state=state,
            at=at,
            version=__version__,
        ).to_json()

    def _new_client(self) -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5
        )
        broker = self.config.broker
        if broker.auth is not None:
            client.username_pw_set(broker.auth.username, broker.auth.password())
        if broker.tls:
            ca = str(broker.ca_file) if broker.ca_file else None
            client.tls_set(ca_certs=ca, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        offline = self._presence(PresenceState.OFFLINE, None)
        client.will_set(self.status_topic, offline, qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_publish = self._on_publish
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _refuse(self, why: str) -> None:
        self.refused = why
        logger.error("the broker refused this agent (%s): check its credentials and ACL", why)

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            if reason.value in _FATAL:
                self._refuse(f"connect: {_FATAL[reason.value]}")
            else:
                logger.warning("the broker did not accept the connection: %s", reason)
            return
        self.connects += 1
        online = self._presence(PresenceState.ONLINE, datetime.now(UTC))
        client.publish(self.status_topic, online, qos=1, retain=True)
        # A fresh session each time: subscribe again (receipts first: they empty the outbox).
        client.subscribe([(self.receipt_topic, 0), (self.command_topic, 1)])
        self.connected.set()
        logger.info(
            "connected to the broker (%s:%s)", self.config.broker.host, self.config.broker.port
        )

    def _on_publish(
        self,
        client: mqtt.Client,
        userdata: object,
        mid: int,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        seq = self._inflight.pop(mid, None)
        if seq is None:
            return  # presence
        if reason.is_failure:
            self._refuse(f"publish of report {seq}: {_FATAL.get(reason.value, str(reason))}")
            return
        if reason.value == _NO_SUBSCRIBERS:
            # Not stored anywhere: it stays unconfirmed, and the canary rule sends it again.
            self.no_subscribers += 1
            if self.no_subscribers == 1:
                logger.warning("the broker has no subscriber for reports: is ingest set up?")

    def _on_subscribe(
        self,
        client: mqtt.Client,
        userdata: object,
        mid: int,
        reasons: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        for reason in reasons:
            if reason.is_failure:  # reports still flow; only commands will not reach us
                logger.warning("the broker refused the command subscription: %s", reason)

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        if message.topic == self.receipt_topic:
            self._on_receipt(bytes(message.payload))
        elif message.topic == self.command_topic:
            self.commands.receive(bytes(message.payload))
        # nothing else is subscribed; a broker bug must not become a command

    def _on_receipt(self, payload: bytes) -> None:
        try:
            receipt = Receipt.model_validate_json(payload)
        except ValueError:
            self.bad_receipts += 1
            logger.warning("ignored a malformed receipt (%d bytes)", len(payload))
            return
        self.receipts += 1
        for refused in receipt.refused:
            self.refused_reports += 1
            if refused.reason not in self._refusals_logged:  # once per reason, not per report
                self._refusals_logged.add(refused.reason)
                logger.error(
                    "the server refused report %d for good: %s: %s",
                    refused.seq,
                    refused.reason,
                    refused.detail,
                )
        done = [*receipt.stored, *(refused.seq for refused in receipt.refused)]
        self.outbox.remove_many(done)
        self.unconfirmed.confirmed(done, time.monotonic())

    def _pump(self, client: mqtt.Client) -> None:
        """Send again what seems lost, then new outbox reports, while the window and rate allow."""
        room = self.config.outbox.window - len(self._inflight)
        if room <= 0:
            return
        again = self.unconfirmed.due(time.monotonic(), room)
        entries = self.outbox.get(again)
        for seq in set(again) - {entry.seq for entry in entries}:
            self.unconfirmed.forget(seq)  # the outbox dropped it meanwhile (counted there)
        if len(entries) < room:
            entries += self.outbox.peek(room - len(entries), after_seq=self._last_sent)
        for entry in entries:
            if not self._bucket.take():
                return  # what is left is due again (or still next in the outbox) next time
            self.outbox.mark_sending(entry.seq)
            info = client.publish(self.report_topic, entry.payload, qos=1)
            self.unconfirmed.sent(entry.seq, time.monotonic())
            self._last_sent = max(self._last_sent, entry.seq)
            if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                self.unconfirmed.not_acknowledged([entry.seq])
                return  # the connection just dropped; sent again on the next one
            self._inflight[info.mid] = entry.seq

    def _session(self, client: mqtt.Client) -> None:
        """Run one connection until it drops, we are refused, or the stop flush is over."""
        while self.refused is None:
            if client.loop(timeout=_LOOP_S) != MQTTErrorCode.MQTT_ERR_SUCCESS:
                return
            if not self.connected.is_set():
                continue
            stopping = self._stop.is_set()
            if stopping and (time.monotonic() > self._flush_deadline or self._drained()):
                self._say_offline(client)
                return
            self._pump(client)

    def _drained(self) -> bool:
        return (
            not self._inflight
            and not self.unconfirmed
            and not self.outbox.peek(1, after_seq=self._last_sent)
        )

    def _say_offline(self, client: mqtt.Client) -> None:
        offline = self._presence(PresenceState.OFFLINE, datetime.now(UTC))
        info = client.publish(self.status_topic, offline, qos=1, retain=True)
        deadline = time.monotonic() + 2
        while not info.is_published() and time.monotonic() < deadline:
            if client.loop(timeout=0.05) != MQTTErrorCode.MQTT_ERR_SUCCESS:
                break
        client.disconnect()
        client.loop(timeout=0.05)

    # ----- reconnecting -------------------------------------------------------------------

    def _run(self) -> None:
        delay = BACKOFF_MIN_S
        try:
            while not self._stop.is_set() and self.refused is None:
                client = self._new_client()
                broker = self.config.broker
                try:
                    client.connect(broker.host, broker.port, broker.keepalive_s, clean_start=True)
                except (OSError, ssl.SSLError) as exc:
                    self.connect_failures += 1
                    logger.warning("cannot reach the broker: %s", type(exc).__name__)
                else:
                    connects_before = self.connects
                    self._session(client)
                    self.connected.clear()
                    self.unconfirmed.not_acknowledged(list(self._inflight.values()))
                    self._inflight.clear()
                    if self.connects > connects_before:
                        delay = BACKOFF_MIN_S
                    if client.is_connected():
                        client.disconnect()
                if self._stop.is_set() or self.refused is not None:
                    return
                wait = random.uniform(0, delay)  # noqa: S311 - full jitter, not cryptography
                logger.info("reconnecting in %.1f s", wait)
                self._stop.wait(wait)
                delay = min(delay * 2, BACKOFF_MAX_S)
        finally:
            self._stopped.set()

    # ----- the agent's side ---------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self, flush_s: float) -> None:
        """Flush the outbox for up to ``flush_s`` seconds if connected, say offline, disconnect."""
        self._flush_deadline = time.monotonic() + flush_s
        self._stop.set()
        self._stopped.wait(flush_s + 5)
