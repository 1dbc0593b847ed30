"""The MQTT v5 client of a server-side consumer: fixed client id, manual acknowledgement.

Ingest receives tens of thousands of messages a second through it, and paho spends more per
message than the work it hands on. Two changes, each measured (``benchmarks/mqtt_consumer.py``)
and each keeping paho's behaviour exactly:

- **Reads in 64 KiB chunks.** paho reads a packet with three to five ``recv`` calls (the type
  byte, each length byte, the body) after a ``select`` of its own. ``ConsumerClient`` hands paho a
  socket that serves those reads from a buffer, and handles every packet already buffered before
  paho's next ``select``; ``pending()`` is how paho already asks an SSL socket the same question.
- **Property tables built once.** paho's ``Properties`` builds three constant lookup tables in
  its constructor, and its packet decoder makes one ``Properties`` per received PUBLISH.
  ``_share_property_tables`` gives the decoder a subclass that shares one copy of the tables.

Both rely on paho internals (``Client._create_socket``, ``paho.mqtt._packet.Properties``);
``pyproject.toml`` bounds paho to 2.x, and tests fail if either stops taking effect.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import paho.mqtt.client as mqtt
from paho.mqtt import _packet
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from pydantic import SecretStr

READ_CHUNK = 65536


class ReadBuffer:
    """A socket read ``READ_CHUNK`` bytes at a time; everything else goes to the socket itself."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._data = b""
        self._at = 0

    def recv(self, size: int) -> bytes:
        if self._at >= len(self._data):
            self._data, self._at = self._sock.recv(READ_CHUNK), 0  # raises as the socket does
            if not self._data:
                return b""  # closed by the broker
        out = self._data[self._at : self._at + size]
        self._at += len(out)
        return out

    @property
    def buffered(self) -> int:
        return len(self._data) - self._at

    def pending(self) -> int:
        """Bytes readable without waiting (paho's ``select`` loop asks SSL sockets this)."""
        inner = self._sock.pending() if hasattr(self._sock, "pending") else 0
        return self.buffered + int(inner)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class ConsumerClient(mqtt.Client):
    def _create_socket(self) -> Any:
        return ReadBuffer(super()._create_socket())

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        """paho reads one packet per ``select``; go on while whole packets wait in the buffer
        (at most one chunk: writes and keep-alives are never held up for long)."""
        rc = super().loop_read(max_packets)
        sock = self._sock
        while rc == MQTTErrorCode.MQTT_ERR_SUCCESS and isinstance(sock, ReadBuffer):
            if not sock.buffered or self._sock is not sock:
                break
            rc = super().loop_read(max_packets)
        return rc


class _SharedTables(Properties):
    """paho's ``Properties`` with the constant tables of its constructor shared, not rebuilt."""

    _tables: ClassVar[dict[str, Any]] = {}

    def __init__(self, packetType: int) -> None:
        object.__setattr__(self, "packetType", packetType)
        for name, value in self._tables.items():
            object.__setattr__(self, name, value)


_TABLE_NAMES = {"types", "names", "properties"}


def _share_property_tables() -> bool:
    """Install ``_SharedTables`` in paho's packet decoder, once; False if this paho differs
    from the one it was written against (then nothing changes)."""
    decoder = vars(_packet)  # paho's decoder module looks ``Properties`` up here at each call
    if decoder.get("Properties") is _SharedTables:
        return True
    template = vars(Properties(PacketTypes.PUBLISH))  # type: ignore[no-untyped-call]
    if decoder.get("Properties") is not Properties or set(template) != {
        "packetType",
        *_TABLE_NAMES,
    }:
        return False
    _SharedTables._tables = {name: template[name] for name in _TABLE_NAMES}
    decoder["Properties"] = _SharedTables
    return True


def consumer_client(
    client_id: str, username: str | None, password: SecretStr | None, log_name: str
) -> ConsumerClient:
    """A client that acknowledges each message itself (after its work is stored) and reconnects
    with backoff; the caller sets its callbacks and connects with its own session properties."""
    if not _share_property_tables():
        logging.getLogger(log_name).warning("paho differs: its property tables stay per message")
    client = ConsumerClient(
        CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, manual_ack=True
    )
    client.enable_logger(logging.getLogger(log_name))
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    if username is not None:
        client.username_pw_set(username, password.get_secret_value() if password else None)
    return client
