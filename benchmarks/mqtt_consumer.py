"""What patching paho's internals would buy a consumer, against public paho in the same run.

Three patches of paho 2.x internals were once in the consumers' client and ingest; they were
measured at the national load and removed (``ingest_throughput.py --variants`` measures ingest's
whole CPU with them; this file holds them, so that the measurement can be repeated):

- ``buffer``: reads in 64 KiB chunks. paho reads a packet with three to five ``recv`` calls (the
  type byte, each length byte, the body) after a ``select`` of its own; ``ReadBuffer`` serves
  them from a buffer (through ``Client._create_socket``), and every packet already buffered is
  handled before paho's next ``select``.
- ``tables``: paho's ``Properties`` builds three constant lookup tables in its constructor, and
  its decoder makes one per received PUBLISH; ``_SharedTables`` shares one copy (it replaces
  ``paho.mqtt._packet.Properties``).
- ``puback``: ``ack()`` queues one packet per message and wakes the network thread for each; the
  patch queues a group's PUBACKs as one chunk of bytes (``Client._packet_queue``).

Variants: ``public`` (none), ``all`` (the three) and ``no-X`` (all but X). This benchmark: a real
Mosquitto, ``--messages`` ingest-sized reports (20 devices, ~3.6 KB) from the ingest benchmark's
publisher, QoS 1, received by one client that acknowledges them in groups of 200 from its
callback. Measured: CPU of the client's network thread (``time.thread_time``) from the first
message to the last, per message. Each variant runs in a fresh process (the patches stay for the
life of a process), in turn, ``--rounds`` times; medians, and each against ``public``.
Run: ``.venv/bin/python benchmarks/mqtt_consumer.py [--messages N] [--rounds N] [--variants ...]``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import paho.mqtt.client as mqtt
from paho.mqtt import _packet
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from devstack.servers import Mosquitto
from servicekit.mqtt import consumer_client

AGENTS = 2000
PATCHES = ("buffer", "tables", "puback")
VARIANTS: dict[str, tuple[str, ...]] = {
    "public": (),
    "all": PATCHES,
    **{f"no-{p}": tuple(q for q in PATCHES if q != p) for p in PATCHES},
}
READ_CHUNK = 65536

# --- the patches -------------------------------------------------------------------------------


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


_public_create_socket = mqtt.Client._create_socket
_public_loop_read = mqtt.Client.loop_read


def _buffered_socket(self: mqtt.Client) -> Any:
    return ReadBuffer(_public_create_socket(self))


def _read_buffered(self: mqtt.Client, max_packets: int = 1) -> MQTTErrorCode:
    """paho reads one packet per ``select``; go on while whole packets wait in the buffer."""
    rc = _public_loop_read(self, max_packets)
    sock = self._sock
    while rc == MQTTErrorCode.MQTT_ERR_SUCCESS and isinstance(sock, ReadBuffer):
        if not sock.buffered or self._sock is not sock:
            break
        rc = _public_loop_read(self, max_packets)
    return rc


class _SharedTables(Properties):
    """paho's ``Properties`` with the constant tables of its constructor shared, not rebuilt."""

    _tables: ClassVar[dict[str, Any]] = {}

    def __init__(self, packetType: int) -> None:
        object.__setattr__(self, "packetType", packetType)
        for name, value in self._tables.items():
            object.__setattr__(self, name, value)


def _share_property_tables() -> None:
    decoder = vars(_packet)  # paho's decoder module looks ``Properties`` up here at each call
    template = vars(Properties(PacketTypes.PUBLISH))  # type: ignore[no-untyped-call]
    names = {"types", "names", "properties"}
    if decoder.get("Properties") is not Properties or set(template) != {"packetType", *names}:
        raise RuntimeError("this paho differs from the one the tables patch was written for")
    _SharedTables._tables = {name: template[name] for name in names}
    decoder["Properties"] = _SharedTables


_PUBACK_HEAD = b"\x40\x02"  # PUBACK, remaining length 2: the packet id follows (v5: Success)


def public_pubacks(client: mqtt.Client, mids: list[int]) -> None:
    for mid in mids:
        client.ack(mid, 1)


def queued_pubacks(client: mqtt.Client, mids: list[int]) -> None:
    """The PUBACKs of a group as one chunk in paho's output queue: one wake-up, one write."""
    if mids:
        packet = b"".join([_PUBACK_HEAD + mid.to_bytes(2, "big") for mid in mids])
        client._packet_queue(0x40, packet, 0, 0)


def apply(variant: str) -> Callable[[mqtt.Client, list[int]], None]:
    """Install the variant's patches in this process (paho's client class and decoder); return
    the way it sends a group's PUBACKs."""
    patches = VARIANTS[variant]
    if "buffer" in patches:
        mqtt.Client._create_socket = _buffered_socket  # type: ignore[method-assign]
        mqtt.Client.loop_read = _read_buffered  # type: ignore[method-assign]
    if "tables" in patches:
        _share_property_tables()
    return queued_pubacks if "puback" in patches else public_pubacks


def variant_names(text: str) -> list[str]:
    """``--variants``: a comma-separated list, or ``every``; ``public`` always comes first."""
    names = list(VARIANTS) if text == "every" else [n.strip() for n in text.split(",")]
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown variant(s) {unknown}; known: {list(VARIANTS)}")
    return ["public", *(n for n in names if n != "public")]


# --- the benchmark -----------------------------------------------------------------------------


def receive(port: int, messages: int, variant: str, out: mp.Queue[float]) -> None:
    """In a child process: receive ``messages``, put the network thread's CPU µs per message."""
    # The same publisher and payloads; imported here, as ingest_throughput imports this module.
    from ingest_throughput import publish  # noqa: PLC0415

    send_pubacks = apply(variant)
    client = consumer_client("bench", None, None, "bench")
    count = [0]
    mids: list[int] = []
    cpu = [0.0, 0.0]
    done, subscribed = threading.Event(), threading.Event()

    def on_message(c: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        count[0] += 1
        mids.append(message.mid)
        if len(mids) >= 200:
            send_pubacks(c, mids)
            mids.clear()
        if count[0] == 1:
            cpu[0] = time.thread_time()
        if count[0] == messages:
            cpu[1] = time.thread_time()
            done.set()

    client.on_message = on_message
    client.on_connect = lambda c, *_: c.subscribe("smartarea/#", 1)
    client.on_subscribe = lambda *_: subscribed.set()
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 0
    props.ReceiveMaximum = 1000
    client.connect("127.0.0.1", port, properties=props)
    client.loop_start()
    subscribed.wait(10)
    sender = threading.Thread(target=publish, args=(port, AGENTS, messages, 0, time.time() - 3600))
    sender.start()
    done.wait(300)
    sender.join()
    client.disconnect()
    client.loop_stop()
    out.put((cpu[1] - cpu[0]) / (messages - 1) * 1e6)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--variants",
        type=variant_names,
        default=variant_names("every"),
        help=f"comma-separated, from {', '.join(VARIANTS)}; or every (the default)",
    )
    args = parser.parse_args()
    spawn = mp.get_context("spawn")
    results: dict[str, list[float]] = {name: [] for name in args.variants}
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="mqtt-bench-") as tmp:
        broker = Mosquitto(Path(tmp) / "mosquitto").start()
        try:
            for _ in range(args.rounds):
                for name, values in results.items():
                    out: mp.Queue[float] = spawn.Queue()
                    child = spawn.Process(
                        target=receive, args=(broker.port, args.messages, name, out)
                    )
                    child.start()
                    values.append(out.get(timeout=600))
                    child.join()
        finally:
            broker.stop()
    base = statistics.median(results["public"])
    for name, values in results.items():
        median = statistics.median(values)
        print(
            f"{name}: {', '.join(f'{v:.1f}' for v in values)} us per message; median "
            f"{median:.1f}, ratio to public {median / base:.2f}"
        )
    print(
        f"load average {load[0]:.2f} before, {os.getloadavg()[0]:.2f} after "
        f"({os.cpu_count()} cores, shared)"
    )


if __name__ == "__main__":
    main()
