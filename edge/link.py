"""The agent's connection to the broker: presence, the Will, and honest connection state.

``online`` is published (retained) on every connect, the broker publishes ``offline`` by the Will
when the agent vanishes, and a graceful stop publishes ``offline`` itself. Refused credentials stop
the agent with a clear message instead of a retry storm; network failures are retried by paho with
backoff (1 s → 2 min).
"""

from __future__ import annotations

import logging
import ssl
import threading
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from contract import topics
from contract.models import Presence, PresenceState
from edge import __version__
from edge.config import AgentConfig

logger = logging.getLogger(__name__)

# MQTT v5 CONNACK reason codes that retrying cannot fix.
_FATAL_CONNACK = {
    0x84,
    0x85,
    0x86,
    0x87,
    0x8C,
}  # bad protocol, bad client id, bad login, not authorised, bad auth method
IN_MEMORY_QUEUE = 1000  # reports paho may hold while disconnected (a durable outbox is issue 4)


class CredentialsRefused(Exception):
    """The broker refused this agent's identity: retrying would not help."""


class BrokerLink:
    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self.report_topic = topics.report_topic(config.area_id, config.agent_id)
        self.status_topic = topics.status_topic(config.area_id, config.agent_id)
        self.connected = threading.Event()
        self.refused: str | None = None
        self.connects = 0
        self._stopping = False
        client_id = f"agent-{config.area_id}-{config.agent_id}"
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        self.client.enable_logger(logging.getLogger("edge.paho"))
        self.client.reconnect_delay_set(min_delay=1, max_delay=120)
        self.client.max_queued_messages_set(IN_MEMORY_QUEUE)
        broker = config.broker
        if broker.auth is not None:
            self.client.username_pw_set(broker.auth.username, broker.auth.password())
        if broker.tls:
            self.client.tls_set(
                ca_certs=str(broker.ca_file) if broker.ca_file else None,
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
        self.client.will_set(
            self.status_topic, self._presence(PresenceState.OFFLINE, None), qos=1, retain=True
        )
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect

    def _presence(self, state: PresenceState, at: datetime | None) -> bytes:
        return Presence(
            area_id=self.config.area_id,
            agent_id=self.config.agent_id,
            state=state,
            at=at,
            version=__version__,
        ).to_json()

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            if reason.value in _FATAL_CONNACK:
                self.refused = str(reason)
                logger.error(
                    "broker refused this agent (%s): check its credentials and ACL", reason
                )
                client.disconnect()
            else:
                logger.warning("broker did not accept the connection: %s; retrying", reason)
            return
        self.connects += 1
        client.publish(
            self.status_topic,
            self._presence(PresenceState.ONLINE, datetime.now(UTC)),
            qos=1,
            retain=True,
        )
        self.connected.set()
        logger.info(
            "connected to the broker (%s:%s)", self.config.broker.host, self.config.broker.port
        )

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self.connected.clear()
        if self.refused is None and not self._stopping:
            logger.warning("disconnected from the broker (%s); reconnecting with backoff", reason)

    def start(self) -> None:
        broker = self.config.broker
        self.client.connect_async(
            broker.host, broker.port, keepalive=broker.keepalive_s, clean_start=True
        )
        self.client.loop_start()

    def publish_report(self, payload: bytes) -> bool:
        """Publish at QoS 1; True once the broker acknowledged it within the timeout."""
        if self.refused is not None:
            raise CredentialsRefused(self.refused)
        info = self.client.publish(self.report_topic, payload, qos=1)
        if info.rc == MQTTErrorCode.MQTT_ERR_QUEUE_SIZE:
            return False
        if not self.connected.is_set():
            return False  # queued in memory; paho sends it after reconnecting
        try:
            info.wait_for_publish(timeout=self.config.broker.publish_timeout_s)
        except RuntimeError:
            return False
        return info.is_published()

    def stop(self) -> None:
        self._stopping = True
        if self.connected.is_set():
            info = self.client.publish(
                self.status_topic,
                self._presence(PresenceState.OFFLINE, datetime.now(UTC)),
                qos=1,
                retain=True,
            )
            try:
                info.wait_for_publish(timeout=2)
            except RuntimeError:
                logger.warning("could not publish 'offline' before stopping")
        self.client.disable_logger()  # see IngestService.stop: paho logs a spurious error here
        self.client.disconnect()
        self.client.loop_stop()
