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

from servicekit.mqtt import Session

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
        self._username, self._password = username, password
        self._lock = threading.Lock()
        self._session: Session | None = None
        self._acks: dict[int, ReasonCode] = {}

    def _client(self) -> mqtt.Client:
        # A client id of its own per process: several API workers must not kick each other off.
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"smartarea-api-{secrets.token_hex(4)}",
            protocol=mqtt.MQTTv5,
        )
        if self._username is not None:
            secret = self._password.get_secret_value() if self._password else None
            client.username_pw_set(self._username, secret)
        client.on_publish = self._on_publish
        return client

    def _on_publish(
        self,
        client: mqtt.Client,
        userdata: object,
        mid: int,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self._acks[mid] = reason  # read after wait_for_publish (paho sets "published" after this)

    def _started(self) -> Session:
        """The session, started on first use; one the broker refused for good is replaced, so
        a command after the account is fixed tries again (one connection attempt per command)."""
        with self._lock:
            if self._session is not None and self._session.failed.is_set():
                self._session.stop()
                self._session = None
            if self._session is None:
                self._session = Session("api.commands", self._client(), self.host, self.port)
                self._session.start()
            return self._session

    def publish(self, topic: str, payload: bytes) -> None:
        """Publish at QoS 1 and wait for the broker's acknowledgement; ``BrokerUnavailable``."""
        session = self._started()
        deadline = time.monotonic() + self.timeout_s
        while not session.connected.wait(0.05):
            if session.failed.is_set() or time.monotonic() > deadline:
                why = session.failure or f"no connection to {self.host}:{self.port}"
                raise BrokerUnavailable(why)
        info = session.client.publish(topic, payload, qos=1, retain=False)
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
            if self._session is not None:
                self._session.stop()
                self._session = None
