"""The MQTT v5 session of every server-side service, and the client of a heavy consumer.

``Session`` (at the end) is how ingest, alerts and the API connect; ``consumer_client`` builds
the client of a consumer with a fixed client id and manual acknowledgement.

Only paho's public API is used. Three patches of paho's internals (reads in 64 KiB chunks,
property tables shared between messages, a batch's PUBACKs as one write) were measured at the
national load (2,000 reports/s, 42,000 points/s) and removed: together they saved ingest about
30 us of its ~375 us of CPU per message (0.06 of a core; 0.75 -> 0.69 cores on the busy shared
2-core machine), each alone about 10 us. ``benchmarks/ingest_throughput.py --variants every``
measures them again (``benchmarks/mqtt_consumer.py`` holds them). Past one worker's capacity,
ingest scales out instead: workers sharing ``SMARTAREA_MQTT_SHARE_GROUP`` split the messages.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable
from typing import cast

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from pydantic import SecretStr

from servicekit.backoff import backoff_s


def _quiet_reconnects(record: logging.LogRecord) -> bool:
    """paho 2.2 logs an ERROR "Client is not connected" at every failed reconnection attempt;
    the session already said it lost the broker, and counts the attempts."""
    return not str(record.msg).startswith("Client is not connected")


def consumer_client(
    client_id: str, username: str | None, password: SecretStr | None, log_name: str
) -> mqtt.Client:
    """A client that acknowledges each message itself (after its work is stored); a ``Session``
    connects it."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, manual_ack=True
    )
    paho_log = logging.getLogger(log_name)
    paho_log.addFilter(_quiet_reconnects)
    client.enable_logger(paho_log)
    if username is not None:
        client.username_pw_set(username, password.get_secret_value() if password else None)
    return client


# Refusals that retrying cannot cure: the program stops and says which (a wrong password must
# not look like a broker that is away). Others (0x88 server unavailable, 0x89 busy…) are retried.
FATAL_REFUSALS = {0x84, 0x85, 0x86, 0x87, 0x8A, 0x8C}


class Session:
    """One MQTT v5 session of a server-side service, the same for ingest, alerts and the API.

    It owns what they used to write each their own way: the CONNECT properties (session expiry,
    receive maximum, clean start), subscribing after every CONNACK and waiting for the SUBACK
    (``subscribed``; no SUBACK within ``subscribe_timeout_s`` drops the connection to try again),
    connection epochs (``epoch`` changes at every connect and disconnect, under ``lock``, so an
    acknowledgement is never sent on a later connection than its message came on), refusals
    retrying cannot cure (``failed`` and ``failure``: the service stops and says why), and
    reconnecting with capped exponential backoff and jitter (``servicekit.backoff``).

    paho's own network thread does the I/O (``loop_start``), so any thread may publish.
    """

    def __init__(
        self,
        name: str,
        client: mqtt.Client,
        host: str,
        port: int,
        *,
        filters: list[str] | None = None,
        session_expiry_s: int | None = None,
        receive_maximum: int | None = None,
        subscribe_timeout_s: float = 30.0,
        backoff_base_s: float = 1.0,
        backoff_cap_s: float = 30.0,
        on_connection: Callable[[bool], None] | None = None,
        on_reconnect: Callable[[], None] | None = None,
    ) -> None:
        self.name, self.client, self.host, self.port = name, client, host, port
        self.filters = filters or []
        self.session_expiry_s, self.receive_maximum = session_expiry_s, receive_maximum
        self.subscribe_timeout_s = subscribe_timeout_s
        self.backoff_base_s, self.backoff_cap_s = backoff_base_s, backoff_cap_s
        self.on_connection = on_connection
        self.on_reconnect = on_reconnect
        self.lock = threading.Lock()
        self.epoch = 0
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.failed = threading.Event()
        self.failure: str | None = None
        self.reconnects = 0  # connections lost or attempts failed, each followed by a wait
        self._attempt = 0
        self._stopping = False
        self._suback_timer: threading.Timer | None = None
        self._log = logging.getLogger(name)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        self._next_wait()

    # --- paho's network thread -----------------------------------------------------------------

    def _next_wait(self) -> None:
        """Set paho's next reconnect wait to one drawn from our backoff (paho's own doubles
        without jitter); paho reads it after the callback that reported the failure."""
        wait = backoff_s(self._attempt, self.backoff_base_s, self.backoff_cap_s)
        self._attempt += 1
        # paho does arithmetic on these seconds; its annotation says int, a float works as well.
        self.client.reconnect_delay_set(min_delay=wait, max_delay=wait)  # type: ignore[arg-type]

    def _new_epoch(self, connected: bool) -> None:
        with self.lock:
            self.epoch += 1
            if connected:
                self.connected.set()
            else:
                self.connected.clear()
                self.subscribed.clear()
            if self.on_connection is not None:
                self.on_connection(connected)

    def _fail(self, why: str) -> None:
        self.failure = why
        self.failed.set()
        self._log.error("%s; not retrying", why)
        self.client.disconnect()  # paho's loop then ends instead of reconnecting

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            if reason.value in FATAL_REFUSALS:
                self._fail(f"the broker refused {self.name}: {reason}")
            else:
                self._log.warning("the broker refused %s for now: %s", self.name, reason)
                self._next_wait()
            return
        self._attempt = 0
        self._next_wait()
        self._new_epoch(connected=True)
        if not self.filters:
            self.subscribed.set()
            self._log.info("connected")
            return
        epoch = self.epoch
        client.subscribe([(f, 1) for f in self.filters])
        self._log.info("connected (session present: %s); subscribing", flags.session_present)
        self._cancel_timer()
        self._suback_timer = threading.Timer(
            self.subscribe_timeout_s, self._suback_overdue, (epoch,)
        )
        self._suback_timer.daemon = True
        self._suback_timer.start()

    def _cancel_timer(self) -> None:
        if self._suback_timer is not None:
            self._suback_timer.cancel()
            self._suback_timer = None

    def _suback_overdue(self, epoch: int) -> None:
        with self.lock:
            overdue = epoch == self.epoch and not self.subscribed.is_set()
        sock = self.client.socket()
        if overdue and sock is not None and not self._stopping:
            self._log.error("no SUBACK in %.0f s; connecting again", self.subscribe_timeout_s)
            with contextlib.suppress(OSError):  # paho types it SocketLike: a socket or SSL socket
                cast(socket.socket, sock).shutdown(socket.SHUT_RDWR)  # paho then reconnects

    def _on_connect_fail(self, client: mqtt.Client, userdata: object) -> None:
        self._count_reconnect()
        self._next_wait()

    def _count_reconnect(self) -> None:
        self.reconnects += 1
        if self.on_reconnect is not None:
            self.on_reconnect()

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self._cancel_timer()
        self._new_epoch(connected=False)
        if not self._stopping and not self.failed.is_set():
            self._count_reconnect()
            self._log.warning("lost the broker (%s); reconnecting", reason)

    def _on_subscribe(
        self,
        client: mqtt.Client,
        userdata: object,
        mid: int,
        reasons: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        refused = [f"{f}: {r}" for f, r in zip(self.filters, reasons, strict=False) if r.is_failure]
        if refused:
            self._fail(f"the broker refused {self.name}'s subscriptions ({', '.join(refused)})")
            return
        self._cancel_timer()
        self._log.info("subscribed to %s", ", ".join(self.filters))
        self.subscribed.set()  # only now does the broker route messages to us

    # --- life cycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in paho's thread; it reconnects by itself until ``stop`` or a fatal refusal."""
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        if self.session_expiry_s is not None:
            props.SessionExpiryInterval = self.session_expiry_s
        if self.receive_maximum is not None:
            props.ReceiveMaximum = self.receive_maximum
        self.client.connect_async(
            self.host,
            self.port,
            keepalive=30,
            clean_start=self.session_expiry_s is None,
            properties=props,
        )
        self.client.loop_start()

    def stop(self) -> None:
        self._stopping = True
        # paho 2.2's loop thread logs a spurious ERROR ("Client is not connected") when it runs
        # once more after a deliberate disconnect; nothing said during our own shutdown is news.
        self.client.disable_logger()
        self.client.disconnect()
        self.client.loop_stop()
        self._cancel_timer()


def stop_on_signals() -> threading.Event:
    """An event SIGTERM and SIGINT set (installed before the service starts)."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def serve_until_stopped(stop: threading.Event, session: Session, account_variables: str) -> int:
    """Block until ``stop`` (0), or until the broker refuses the session for good: then say why,
    naming the settings to check, and return 2."""
    # short slices: see edge.agent._sleep_until for why
    while not stop.wait(0.2) and not session.failed.is_set():
        pass
    if session.failed.is_set():
        print(f"error: {session.failure} (check {account_variables})", file=sys.stderr)
        return 2
    return 0
