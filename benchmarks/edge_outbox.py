"""The agent's durable outbox: what it costs per report, and how fast a day of backlog drains.

1. A day of backlog after a fibre cut: 24 h x 60 reports/h of 30 devices each (1,440 reports)
   is appended to a fresh outbox (durable: fsync per report), and the file size is measured.
2. Overhead per report: append + mark-sending + remove (what the outbox adds to every report),
   against the baseline of building and serialising the same report (measured in the same run).
3. Drain: the real link (``edge.link.BrokerLink``) sends the backlog to a real Mosquitto at the
   default send rate; a subscriber counts arrivals per second to check the rate cap held, and
   that all 1,440 arrived in order. A second drain with the cap lifted shows the link's own limit.

Stops by itself (about two minutes at the default rate). Run:
``.venv/bin/python benchmarks/edge_outbox.py [--reports N] [--rate R]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from contract import topics
from contract.models import DeviceResult, Report
from devstack.processes import wait_until
from devstack.servers import Mosquitto
from edge.config import AgentConfig
from edge.link import BrokerLink
from edge.outbox import Outbox, Stats

AREA, AGENT, DEVICES = "son-vi-khu-6", "nvh", 30


def make_report(seq: int, at: datetime) -> Report:
    results = [
        DeviceResult(
            device_id=f"cam-{n:02d}",
            kind="camera",
            status="up",
            duration_ms=84.2 + n,
            metrics={
                "width_px": 640,
                "height_px": 360,
                "bytes": 41230 + n,
                "connect_ms": 3.1,
                "ttfb_ms": 61.0,
                "mean_luma": 112.4,
                "sharpness": 311.5,
                "change_pct": 4.2,
            },
        )
        for n in range(DEVICES)
    ]
    agent_metrics = {"cycle_ms": 5011.2, "outbox_depth": 1440, "outbox_dropped_total": 0}
    return Report(
        area_id=AREA,
        agent_id=AGENT,
        seq=seq,
        observed_at=at,
        interval_s=60,
        results=results,
        agent_metrics=agent_metrics,
    )


def agent_config(port: int, rate: float, state_dir: Path) -> AgentConfig:
    return AgentConfig.model_validate(
        {
            "area_id": AREA,
            "agent_id": AGENT,
            "interval_s": 60,
            "state_dir": str(state_dir),
            "broker": {"host": "127.0.0.1", "port": port, "tls": False},
            "outbox": {"send_rate_per_s": rate, "window": 16},
            "devices": [{"id": "uplink", "type": "tcp_link", "targets": [f"127.0.0.1:{port}"]}],
        }
    )


def fill(outbox: Outbox, count: int) -> float:
    start = datetime.now(UTC) - timedelta(days=1)
    began = time.perf_counter()
    for i in range(count):
        at = start + timedelta(minutes=i)

        def build(seq: int, _stats: Stats, at: datetime = at) -> bytes:
            return make_report(seq, at).to_json()

        outbox.append(build)
    return (time.perf_counter() - began) * 1000 / count


def overhead_ms(workdir: Path, rounds: int = 300) -> tuple[float, float]:
    """(outbox ms per report, baseline ms per report: build and serialise it)."""
    now = datetime.now(UTC)
    began = time.perf_counter()
    payloads = [make_report(i, now).to_json() for i in range(1, rounds + 1)]
    baseline = (time.perf_counter() - began) * 1000 / rounds
    box = Outbox(workdir / "overhead.sqlite")
    began = time.perf_counter()
    for payload in payloads:

        def stored(_seq: int, _stats: Stats, payload: bytes = payload) -> bytes:
            return payload

        box.append(stored)
        entry = box.peek(1)[0]
        box.mark_sending(entry.seq)
        box.remove(entry.seq)
    cost = (time.perf_counter() - began) * 1000 / rounds
    box.close()
    return cost, baseline


def drain(
    broker: Mosquitto, outbox_path: Path, rate: float, expected: int
) -> tuple[float, int, bool]:
    """Send the outbox through the real link; (seconds, peak reports in any second, in order)."""
    arrivals: list[tuple[float, int]] = []
    subscriber = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id="bench-sub", protocol=mqtt.MQTTv5
    )
    subscriber.on_message = lambda _c, _u, msg: arrivals.append(
        (time.monotonic(), Report.model_validate_json(msg.payload).seq)
    )
    subscriber.connect("127.0.0.1", broker.port)
    subscriber.subscribe(topics.report_topic(AREA, AGENT), qos=1)
    subscriber.loop_start()
    time.sleep(0.5)  # let the subscription settle before the first report
    outbox = Outbox(outbox_path)
    link = BrokerLink(agent_config(broker.port, rate, outbox_path.parent), outbox)
    began = time.monotonic()
    link.start()
    wait_until(lambda: len(arrivals) >= expected, 600, "the backlog to arrive", step=0.05)
    seconds = time.monotonic() - began
    link.stop(flush_s=0)
    outbox.close()
    subscriber.disconnect()
    subscriber.loop_stop()
    per_second = Counter(int(at - began) for at, _ in arrivals)
    seqs = [seq for _, seq in arrivals]
    return seconds, max(per_second.values()), seqs == sorted(seqs) and len(set(seqs)) == expected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=24 * 60, help="backlog size (1 day)")
    parser.add_argument("--rate", type=float, default=20.0, help="the link's send_rate_per_s")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        cost, baseline = overhead_ms(workdir)
        print(
            f"overhead: outbox {cost:.3f} ms/report (append+fsync, mark, remove); "
            f"baseline build+serialise {baseline:.3f} ms/report; ratio {cost / baseline:.2f}"
        )

        path = workdir / "capped" / "outbox.sqlite"
        box = Outbox(path)
        append_ms = fill(box, args.reports)
        stats: Stats = box.stats()
        box.close()
        size_mb = sum(f.stat().st_size for f in path.parent.iterdir()) / 1e6
        print(
            f"backlog: {stats.depth} reports of {DEVICES} devices, {stats.bytes / 1e6:.2f} MB "
            f"of payload, {size_mb:.2f} MB on disk; {append_ms:.3f} ms per append"
        )

        uncapped = workdir / "uncapped" / "outbox.sqlite"
        uncapped.parent.mkdir()
        box = Outbox(uncapped)
        fill(box, args.reports)
        box.close()

        broker = Mosquitto(workdir / "mosquitto").start()
        try:
            seconds, peak, ordered = drain(broker, path, args.rate, args.reports)
            print(
                f"drain at {args.rate:g}/s: {seconds:.1f} s, peak {peak} reports in one second "
                f"(cap {args.rate:g}), all in order: {ordered}"
            )
            fast_s, _, fast_ordered = drain(broker, uncapped, 10_000, args.reports)
            print(
                f"drain uncapped: {fast_s:.1f} s ({args.reports / fast_s:.0f} reports/s), "
                f"in order: {fast_ordered}; capped/uncapped time ratio {seconds / fast_s:.1f}"
            )
        finally:
            broker.stop()
        load = os.getloadavg()[0]
        print(f"machine load average (1 min) at the end: {load:.2f} on {os.cpu_count()} cores")
        print(
            f"drain_s={seconds:.1f} backlog_reports={args.reports} outbox_mb={size_mb:.2f} "
            f"ms_per_report={cost:.3f}"
        )


if __name__ == "__main__":
    main()
