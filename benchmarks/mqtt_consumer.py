"""CPU per received message of the consumers' MQTT client, against plain paho in the same run.

A real Mosquitto; ``--messages`` ingest-sized reports (20 devices, ~3.6 KB) from the ingest
benchmark's publisher, QoS 1, received by one client that acknowledges them in groups of 200 as
ingest does. Measured: CPU time of the client's network thread (``time.thread_time``) from the
first message to the last, per message. Each client runs in a fresh process (the shared property
tables, once installed, stay for the life of a process), alternating, ``--rounds`` times each.
Run: ``.venv/bin/python benchmarks/mqtt_consumer.py [--messages N] [--rounds N]``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from devstack.servers import Mosquitto
from servicekit.mqtt import consumer_client

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest_throughput import publish  # the same publisher and payloads

AGENTS = 2000


def receive(port: int, messages: int, plain: bool, out: mp.Queue[float]) -> None:
    """In a child process: receive ``messages``, put the network thread's CPU µs per message."""
    if plain:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id="bench", protocol=mqtt.MQTTv5, manual_ack=True
        )
    else:
        client = consumer_client("bench", None, None, "bench")
    count = [0]
    mids: list[int] = []
    cpu = [0.0, 0.0]
    done, subscribed = threading.Event(), threading.Event()

    def on_message(c: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        count[0] += 1
        mids.append(message.mid)
        if len(mids) >= 200:
            for mid in mids:
                c.ack(mid, 1)
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
    args = parser.parse_args()
    spawn = mp.get_context("spawn")
    results: dict[str, list[float]] = {"paho": [], "consumer_client": []}
    with tempfile.TemporaryDirectory(prefix="mqtt-bench-") as tmp:
        broker = Mosquitto(Path(tmp) / "mosquitto").start()
        try:
            for _ in range(args.rounds):
                for name, values in results.items():
                    out: mp.Queue[float] = spawn.Queue()
                    child = spawn.Process(
                        target=receive, args=(broker.port, args.messages, name == "paho", out)
                    )
                    child.start()
                    values.append(out.get(timeout=600))
                    child.join()
        finally:
            broker.stop()
    for name, values in results.items():
        print(f"{name}: {', '.join(f'{v:.1f}' for v in values)} us per message")
    plain, ours = statistics.median(results["paho"]), statistics.median(results["consumer_client"])
    print(f"paho_us_per_msg={plain:.1f} consumer_us_per_msg={ours:.1f} ratio={ours / plain:.2f}")


if __name__ == "__main__":
    main()
