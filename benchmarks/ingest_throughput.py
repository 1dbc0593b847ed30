"""Ingest throughput against the raw limit of the same InfluxDB, measured in the same run.

1. raw: the reports' points, formatted beforehand, written straight to InfluxDB in batches of
   5,000 by one writer (the ceiling of this machine: what ingest could at best reach);
2. e2e: agents' reports of 20 devices each → Mosquitto (QoS 1) → ``python -m ingest`` (a real
   process) → InfluxDB, published as fast as the broker acknowledges; the rate is points stored
   (ingest's own counter, checked against InfluxDB at the end: every point exactly once) over the
   time from the first publish to the last point stored; ingest's CPU and peak RSS from /proc;
3. target: paced at 42,000 points/s (the issue's load: a report a minute from 120,000 areas)
   for ``--lag-seconds``; ingest's CPU per report over that phase, times 2,000 reports/s, is
   the ``ingest_cpu_cores`` of the last line (its CPU over the phase's time is the same while
   ingest keeps up, and looks smaller when a busy machine leaves it behind); the full-speed
   phase prints its own, and the CPU per point;
4. lag: half the e2e rate, paced, each report stamped with its publish time; p99 of ingest's
   end-to-end lag histogram (stored minus observed) over that phase.

Stops by itself (about a minute). The machine is shared: the last lines say how busy it was.
Run: ``.venv/bin/python benchmarks/ingest_throughput.py [--reports N] [--agents N]``.

``--variants every`` (or a comma-separated list; see ``mqtt_consumer.py``) measures instead what
patches of paho's internals would buy at the national load: for each variant, in turn and
``--rounds`` times, a fresh ingest process with the variant's patches, a few seconds of warm-up,
then 42,000 points/s paced for ``--lag-seconds``; ingest's CPU per message (its whole process,
from /proc) and the cores that makes at 2,000 messages/s, each against public paho measured in
the same run (medians).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mqtt_consumer import VARIANTS, apply, variant_names

from contract import topics
from contract.fastreport import received
from contract.models import DeviceResult, Report
from devstack.processes import Child, child_env, free_port, python_module, wait_until
from devstack.servers import InfluxDB, Mosquitto
from ingest.__main__ import main as ingest_main
from ingest.points import report_lines
from ingest.service import IngestService
from tsdb.writer import InfluxV1Writer

DEVICES = 20
POINTS_PER_REPORT = DEVICES + 1  # one per device and the report's own point
RAW_BATCH = 5000
TARGET_POINTS_PER_S = 120_000 * POINTS_PER_REPORT // 60  # 42,000: the country, once a minute
TARGET_REPORTS_PER_S = TARGET_POINTS_PER_S / POINTS_PER_REPORT  # 2,000 MQTT messages a second
WARM_UP_S = 3.0
TICK = os.sysconf("SC_CLK_TCK")
OBSERVED = "2000-01-01T00:00:00Z"  # placeholder replaced in each payload


def template(area: str, agent: str) -> bytes:
    """A realistic report of 20 devices (18 cameras, uplink, Wi-Fi) with a time placeholder."""
    results = [
        DeviceResult(
            device_id=f"cam-{i:02d}",
            kind="camera",
            status="up" if i % 7 else "down",
            reason=None if i % 7 else "timeout",
            duration_ms=41.5 + i,
            metrics={"width_px": 768, "height_px": 576, "brightness": 0.42, "reference_new": False},
        )
        for i in range(1, 19)
    ]
    results += [
        DeviceResult(
            device_id="uplink",
            kind="uplink",
            status="up",
            duration_ms=12.0,
            metrics={"rtt_ms": 8.25, "targets_up": 2},
        ),
        DeviceResult(device_id="wifi", kind="wifi", status="up", duration_ms=3.5),
    ]
    report = Report(
        area_id=area,
        agent_id=agent,
        seq=0,
        observed_at=datetime(2000, 1, 1, tzinfo=UTC),
        interval_s=60,
        results=results,
        agent_metrics={"cycle_ms": 950.0, "unacked_reports": 0},
    )
    return report.to_json().replace(b'"2000-01-01T00:00:00Z"', b'"' + OBSERVED.encode() + b'"')


def stamp(payload: bytes, moment: datetime) -> bytes:
    return payload.replace(OBSERVED.encode(), moment.isoformat().encode())


def agents(count: int) -> list[tuple[str, bytes]]:
    out = []
    for n in range(count):
        area = f"bench-area-{n}"
        out.append((topics.report_topic(area, "nvh"), template(area, "nvh")))
    return out


def _remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _publish_packet(topic: str, payload: bytes, packet_id: int) -> bytes:
    name = topic.encode()
    body = len(name).to_bytes(2, "big") + name + packet_id.to_bytes(2, "big") + payload
    return b"\x32" + _remaining_length(len(body)) + body  # PUBLISH, QoS 1


def _connect_packet(client_id: str) -> bytes:
    ident = client_id.encode()
    body = b"\x00\x04MQTT\x04\x02\x00\x3c" + len(ident).to_bytes(2, "big") + ident
    return b"\x10" + _remaining_length(len(body)) + body  # MQTT 3.1.1, clean session


def publish(port: int, n_agents: int, reports: int, rate: float, base_ts: float) -> None:
    """Publisher process: ``reports`` reports round-robin over the agents, QoS 1, waiting for
    the broker's PUBACK of every one.

    MQTT packets are encoded by hand and written in bulk, so that the load generator, which shares
    the two cores with what it measures, costs a few microseconds per report (paho's publish costs
    about 140). ``rate`` 0: as fast as the broker acknowledges (at most 2,000 outstanding), report
    i observed at ``base_ts`` + i // agents minutes; else paced at ``rate`` per second, stamped now.
    """
    fleet = agents(n_agents)
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(_connect_packet(f"bench-pub-{os.getpid()}"))
    if sock.recv(4)[:1] != b"\x20":
        raise RuntimeError("the broker refused the publisher")
    acked = [0]
    window = threading.Semaphore(2000)

    def read_acks() -> None:
        buffer = b""
        while acked[0] < reports:
            data = sock.recv(65536)
            if not data:
                return
            buffer += data
            whole = len(buffer) - len(buffer) % 4  # PUBACK: 0x40 0x02 id id
            count = whole // 4
            buffer = buffer[whole:]
            acked[0] += count
            for _ in range(count):
                window.release()

    reader = threading.Thread(target=read_acks, daemon=True)
    reader.start()
    start = time.monotonic()
    base = datetime.fromtimestamp(base_ts, UTC)
    pending: list[bytes] = []
    for i in range(reports):
        topic, payload = fleet[i % n_agents]
        if rate:
            due = start + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                if pending:
                    sock.sendall(b"".join(pending))
                    pending.clear()
                time.sleep(delay)
            body = stamp(payload, datetime.now(UTC))
        else:
            body = stamp(payload, base + timedelta(minutes=i // n_agents))
        if not window.acquire(blocking=False):
            if pending:
                sock.sendall(b"".join(pending))
                pending.clear()
            window.acquire()
        pending.append(_publish_packet(topic, body, i % 65535 + 1))
        if len(pending) >= 64:
            sock.sendall(b"".join(pending))
            pending.clear()
    if pending:
        sock.sendall(b"".join(pending))
    reader.join(120)
    sock.sendall(b"\xe0\x00")  # DISCONNECT
    sock.close()


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def peak_rss_mb(pid: int) -> float:
    match = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(match.group(1)) / 1024 if match else float("nan")


def machine_busy_s() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICK, sum(values) / TICK


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
        return str(response.read().decode())


def counter(text: str, name: str) -> float:
    match = re.search(rf"^smartarea_ingest_{name}(?:_total)? (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def lag_buckets(text: str) -> dict[float, float]:
    found = re.findall(
        r'^smartarea_ingest_e2e_lag_seconds_bucket\{le="([^"]+)"\} (\S+)$', text, re.M
    )
    return {float(le): float(count) for le, count in found}


def p99(before: dict[float, float], after: dict[float, float]) -> float:
    diff = sorted((le, after[le] - before.get(le, 0.0)) for le in after)
    total = diff[-1][1]
    for le, count in diff:
        if total and count >= 0.99 * total:
            return le
    return float("nan")


def raw_limit(influx: InfluxDB, fleet: list[tuple[str, bytes]], reports: int) -> float:
    influx.query('CREATE DATABASE "raw"')
    base = datetime.now(UTC) - timedelta(days=1)
    lines: list[str] = []
    for i in range(reports):
        _, payload = fleet[i % len(fleet)]
        report = Report.model_validate_json(
            stamp(payload, base + timedelta(minutes=i // len(fleet)))
        )
        lines += report_lines(received(report), base)
    writer = InfluxV1Writer(influx.url, "raw")
    started = time.monotonic()
    for at in range(0, len(lines), RAW_BATCH):
        writer.write(lines[at : at + RAW_BATCH])
    took = time.monotonic() - started
    writer.close()
    return len(lines) / took


def start_ingest(
    work: Path, broker: Mosquitto, influx: InfluxDB, variant: str | None = None
) -> tuple[Child, str]:
    """``python -m ingest`` as in production (or with a variant's patches of paho), with its
    /metrics on a free port."""
    metrics_port = free_port()
    metrics = f"http://127.0.0.1:{metrics_port}/metrics"
    env = child_env(
        {
            "SMARTAREA_MQTT_PORT": str(broker.port),
            "SMARTAREA_MQTT_CLIENT_ID": "bench-ingest",
            "SMARTAREA_INFLUX_URL": influx.url,
            "SMARTAREA_INFLUX_DATABASE": influx.database,
            "SMARTAREA_METRICS_PORT": str(metrics_port),
            "SMARTAREA_DEAD_LETTER_FILE": str(work / "dead-letters.jsonl"),
        }
    )
    if variant is None:
        argv, log = python_module("ingest"), work / "ingest.log"
    else:
        argv = [sys.executable, str(Path(__file__).resolve()), "--serve-ingest", variant]
        log = work / f"ingest-{variant}.log"
    ingest = Child("ingest", argv, log, env=env)
    ingest.start()
    ready = metrics.replace("/metrics", "/readyz")
    ingest.wait_ready(lambda: _ok(ready), timeout=30)
    return ingest, metrics


def full_speed(
    args: argparse.Namespace, broker: Mosquitto, influx: InfluxDB, pid: int, metrics: str
) -> tuple[float, float]:
    """Publish every report as fast as the broker takes them; (points/s, ingest cores)."""
    expected = args.reports * POINTS_PER_REPORT
    base_ts = (datetime.now(UTC) - timedelta(days=2)).timestamp()
    others = {"mosquitto": broker.child, "influxd": influx.child}
    other_pids = {k: c.proc.pid for k, c in others.items() if c and c.proc}
    other0 = {k: cpu_s(p) for k, p in other_pids.items()}
    cpu0, busy0, t0 = cpu_s(pid), machine_busy_s(), time.monotonic()
    publisher = mp.Process(
        target=publish, args=(broker.port, args.agents, args.reports, 0.0, base_ts)
    )
    publisher.start()
    assert publisher.pid is not None
    wait_until(
        lambda: counter(scrape(metrics), "points_written") >= expected,
        timeout=300,
        what="ingest to store every point",
        # Each scrape renders /metrics in ingest's process, on its CPU: 5 per second keeps that
        # near what Prometheus costs (one per 15 s) while the end is known within 0.2 s.
        step=0.2,
    )
    elapsed = time.monotonic() - t0
    cpu1, busy1 = cpu_s(pid), machine_busy_s()
    other1 = {k: cpu_s(p) for k, p in other_pids.items()}
    pub_cores = cpu_s(publisher.pid) / elapsed  # a zombie until joined: still readable
    publisher.join(30)
    e2e, cores = expected / elapsed, (cpu1 - cpu0) / elapsed
    machine = (busy1[0] - busy0[0]) / elapsed
    stored = influx.query('SELECT count("status_code") FROM "camera"')
    cameras = stored["results"][0]["series"][0]["values"][0][1]  # type: ignore[index]
    assert cameras == args.reports * 18, f"stored {cameras} camera points, not exactly once"
    print(
        f"e2e: {e2e:,.0f} points/s ({expected:,} points in {elapsed:.1f} s; every point "
        f"stored exactly once); ingest {cores:.2f} cores; machine busy {machine:.2f} of "
        f"{os.cpu_count()} cores (all processes)",
        flush=True,
    )
    shares = ", ".join(f"{k} {(other1[k] - other0[k]) / elapsed:.2f}" for k in other_pids)
    print(f"cores during e2e: {shares}, publisher {pub_cores:.2f}", flush=True)
    per_point = (cpu1 - cpu0) / expected
    print(
        f"ingest CPU: {per_point * 1e6:.1f} us per point, "
        f"{per_point * POINTS_PER_REPORT * 1e6:.0f} us per report "
        f"(would be {per_point * TARGET_POINTS_PER_S:.2f} cores at {TARGET_POINTS_PER_S:,} "
        "points/s at this efficiency)",
        flush=True,
    )
    return e2e, cores


def paced(
    args: argparse.Namespace,
    broker: Mosquitto,
    points_per_s: float,
    metrics: str,
    pid: int,
    seconds: float | None = None,
) -> tuple[float, float, float]:
    """Publish at ``points_per_s`` for ``seconds`` (``--lag-seconds``); (p99 of
    stored-minus-observed in seconds, ingest's cores from the first publish to the last point
    stored, ingest's CPU µs per report)."""
    rate = points_per_s / POINTS_PER_REPORT
    seconds = args.lag_seconds if seconds is None else seconds
    reports = int(rate * seconds)
    before = lag_buckets(scrape(metrics))
    written = counter(scrape(metrics), "points_written")
    cpu0, t0 = cpu_s(pid), time.monotonic()
    publisher = mp.Process(target=publish, args=(broker.port, args.agents, reports, rate, 0.0))
    publisher.start()
    publisher.join(seconds * 3 + 30)
    target = written + reports * POINTS_PER_REPORT
    wait_until(
        lambda: counter(scrape(metrics), "points_written") >= target,
        timeout=60,
        what="the paced reports",
        step=0.2,
    )
    cpu = cpu_s(pid) - cpu0
    cores = cpu / (time.monotonic() - t0)
    lag = p99(before, lag_buckets(scrape(metrics)))
    print(
        f"paced: {points_per_s:,.0f} points/s for {seconds:.0f} s; ingest {cores:.2f} cores "
        f"({cpu / reports * 1e6:.0f} us per report); p99 stored-minus-observed <= {lag} s "
        "(a histogram bucket bound)",
        flush=True,
    )
    return lag, cores, cpu / reports * 1e6


def compare_variants(
    args: argparse.Namespace, work: Path, broker: Mosquitto, influx: InfluxDB
) -> None:
    """Ingest's CPU at the national rate with each variant of paho, against public paho."""
    per_report: dict[str, list[float]] = {name: [] for name in args.variants}
    for round_ in range(args.rounds):
        # Each round in another order, so that no variant always follows the same one.
        shift = round_ % len(args.variants)
        for name in args.variants[shift:] + args.variants[:shift]:
            ingest, metrics = start_ingest(work, broker, influx, name)
            try:
                assert ingest.proc is not None
                print(f"round {round_ + 1}, {name}:", flush=True)
                paced(args, broker, TARGET_POINTS_PER_S, metrics, ingest.proc.pid, WARM_UP_S)
                _, _, us = paced(args, broker, TARGET_POINTS_PER_S, metrics, ingest.proc.pid)
                per_report[name].append(us)
            finally:
                ingest.stop()
    base = statistics.median(per_report["public"])
    print(f"ingest at {TARGET_POINTS_PER_S:,} points/s ({TARGET_REPORTS_PER_S:,.0f} messages/s):")
    for name, values in per_report.items():
        us = statistics.median(values)
        cores = us * TARGET_REPORTS_PER_S / 1e6
        saved = (base - us) * TARGET_REPORTS_PER_S / 1e6
        print(
            f"  {name:<10} {us:6.1f} us CPU per message (rounds: "
            f"{', '.join(f'{v:.0f}' for v in values)}); {cores:.3f} cores; ratio to public "
            f"{us / base:.2f}; {saved:+.3f} cores saved against public",
            flush=True,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--reports", type=int, default=24_000, help="reports in the e2e phase")
    parser.add_argument("--agents", type=int, default=400, help="agents (areas) publishing")
    parser.add_argument("--lag-seconds", type=float, default=15.0, help="length of the lag phase")
    parser.add_argument(
        "--variants",
        type=variant_names,
        help=f"compare paho variants at the national rate instead: comma-separated, from "
        f"{', '.join(VARIANTS)}; or every",
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of --variants")
    parser.add_argument("--serve-ingest", metavar="VARIANT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_ingest:
        return serve_ingest(args.serve_ingest)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        work = Path(tmp)
        broker = Mosquitto(work / "mosquitto").start()
        influx = InfluxDB(work / "influxdb").start()
        ingest: Child | None = None
        try:
            if args.variants:
                compare_variants(args, work, broker, influx)
                _print_load(load_before)
                return 0
            raw = raw_limit(influx, agents(args.agents), args.reports)
            print(
                f"raw: {raw:,.0f} points/s ({args.reports * POINTS_PER_REPORT:,} points, "
                f"batches of {RAW_BATCH}, one writer)",
                flush=True,
            )
            ingest, metrics = start_ingest(work, broker, influx)
            assert ingest.proc is not None
            pid = ingest.proc.pid
            e2e, _ = full_speed(args, broker, influx, pid, metrics)
            # The load: one report a minute from 120,000 areas, 21 points each.
            _, _, us = paced(args, broker, TARGET_POINTS_PER_S, metrics, pid)
            cores = us * TARGET_REPORTS_PER_S / 1e6
            lag, _, _ = paced(args, broker, 0.5 * e2e, metrics, pid)
            rss = peak_rss_mb(ingest.proc.pid)
        finally:
            if ingest is not None:
                ingest.stop()
            influx.stop()
            broker.stop()
    _print_load(load_before)
    print(
        f"e2e_points_per_s={e2e:.0f} raw_points_per_s={raw:.0f} ratio={e2e / raw:.2f} "
        f"ingest_cpu_cores={cores:.2f} ingest_rss_mb={rss:.0f} p99_lag_s={lag}"
    )
    return 0


def _print_load(before: tuple[float, float, float]) -> None:
    print(
        f"caveat: shared {os.cpu_count()}-core machine with other engineers' work running; "
        f"load average {before[0]:.2f} before, {os.getloadavg()[0]:.2f} after",
        flush=True,
    )


def serve_ingest(variant: str) -> int:
    """``python -m ingest`` with the variant's patches of paho (for ``--variants``)."""
    send_pubacks = apply(variant)

    def _send_pubacks(self: IngestService, mids: list[int]) -> None:
        send_pubacks(self.client, mids)

    IngestService._send_pubacks = _send_pubacks  # type: ignore[method-assign]
    return ingest_main()


def _ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback
            return bool(response.status == 200)
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(main())
