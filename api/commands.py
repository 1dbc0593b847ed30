"""Sending commands to agents: one MQTT v5 client per API process, connected on first use.

A command is published at QoS 1 and counts as sent only when the broker acknowledged it (PUBACK,
with a success reason) within a short timeout; otherwise ``BrokerUnavailable``, and the route
answers 503. A command is never queued for later while the broker is away: the technician asked
now, and the agent ignores commands older than a few minutes anyway (``edge.commands``).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from pydantic import SecretStr

logger = logging.getLogger(__name__)


class BrokerUnavailable(Exception):
    """The broker did not take the command (unreachable, refused, or no PUBACK in time)."""


class CommandPublisher:
    def __init__(
        self,
        host: str,
        port: int,
        username: str | None,
        password: SecretStr | None,
        timeout_s: float = 5.0,
    ) -> None:
        self.host, self.port, self.timeout_s = host, port, timeout_s
        # A client id of its own per process: several API workers must not kick each other off.
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"smartarea-api-{secrets.token_hex(4)}",
            protocol=mqtt.MQTTv5,
        )
        if username is not None:
            secret = password.get_secret_value() if password else None
            self._client.username_pw_set(username, secret)
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish
        self._connected = threading.Event()
        self._lock = threading.Lock()
        self._started = False
        self._acks: dict[int, ReasonCode] = {}
        self._refused: str | None = None

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            self._refused = str(reason)
            logger.warning("the broker refused the API's connection: %s", reason)
            return
        self._refused = None
        self._connected.set()

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self._connected.clear()

    def _on_publish(
        self,
        client: mqtt.Client,
        userdata: object,
        mid: int,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self._acks[mid] = reason  # read after wait_for_publish (paho sets "published" after this)

    def _start(self) -> None:
        with self._lock:
            if not self._started:
                self._client.connect_async(self.host, self.port, keepalive=30)
                self._client.loop_start()  # connects, and reconnects with backoff, in a thread
                self._started = True

    def publish(self, topic: str, payload: bytes) -> None:
        """Publish at QoS 1 and wait for the broker's acknowledgement; ``BrokerUnavailable``."""
        self._start()
        if not self._connected.wait(self.timeout_s):
            raise BrokerUnavailable(self._refused or f"no connection to {self.host}:{self.port}")
        info = self._client.publish(topic, payload, qos=1, retain=False)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            raise BrokerUnavailable(f"publish failed: {mqtt.error_string(info.rc)}")
        try:
            info.wait_for_publish(self.timeout_s)
        except (RuntimeError, ValueError) as exc:  # the connection dropped meanwhile
            raise BrokerUnavailable(str(exc)) from None
        if not info.is_published():
            raise BrokerUnavailable("no acknowledgement from the broker in time")
        reason = self._acks.pop(info.mid, None)
        if reason is not None and reason.is_failure:  # e.g. 0x87: the account may not publish
            raise BrokerUnavailable(f"the broker refused the command: {reason}")

    def close(self) -> None:
        with self._lock:
            if self._started:
                self._client.disconnect()
                self._client.loop_stop()
                self._started = False


class Cooldown:
    """At most one command per agent every ``seconds``, counted in this API process.

    A probe cycle costs the cultural-house PC seconds of CPU (it decodes every camera); the
    button must not keep its cameras busy however often it is pressed. ``take`` reserves the
    agent's turn, ``give_back`` returns it when the command could not be sent. The table is
    bounded: past ``max_agents``, agents whose turn has come again are forgotten first."""

    def __init__(self, seconds: float = 15.0, max_agents: int = 10_000) -> None:
        self.seconds, self.max_agents = seconds, max_agents
        self._last: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def take(self, agent: tuple[str, str]) -> float:
        """0 if the command may go now (the turn is taken), else the seconds left to wait."""
        now = time.monotonic()
        with self._lock:
            last = self._last.get(agent)
            if last is not None and now - last < self.seconds:
                return self.seconds - (now - last)
            if len(self._last) >= self.max_agents:
                self._last = {k: t for k, t in self._last.items() if now - t < self.seconds}
            self._last[agent] = now
            return 0.0

    def give_back(self, agent: tuple[str, str]) -> None:
        with self._lock:
            self._last.pop(agent, None)
