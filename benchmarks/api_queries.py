"""API query latency: 30-day and 365-day availability of one area, and a province's live status.

Data, written by this script through the line-protocol formatter and InfluxV1Writer into a fresh
InfluxDB 1.6.7 on a loopback port:
- the area under test: 20 devices (18 cameras, uplink, Wi-Fi) every 60 s for ``--days`` (30)
  days up to now, with outages (about one per device every two days, 1–30 min), degraded spells
  and agent silences (one a week, 10–60 min): 864,000 device points;
- a long area: the same devices for ``--long-days`` (365) days every ``--long-interval`` s (300:
  the run roll-up holds one row per run, so its read cost depends on the outages, not on the
  probe interval; materializing it from 60 s data would take 5× longer here);
- the province: ``--areas`` (2,000) areas × 20 devices for the last ``--province-minutes`` (60)
  minutes every 60 s, so the live roll-up sees the province's real number of series.
The issue's full dataset (2,000 areas × 30 days at 60 s, 86 million points) takes about 17
minutes to write on this machine; the province's older days are left out because the live query
reads only the last hour (and the availability query reads one area's series), which is the
caveat of this scaled-down run.

Measured (p50/p95 over ``--repeats``), each with a baseline from the same run:
- area30d: ``device_availability`` over the last 30 days from the roll-up (day blocks and the
  completed hours of today, raw points for the rest); baseline: the same answer from raw points
  only (InfluxDB computes the state changes over 864,000 points) and ``SELECT count(*)``;
- province_status: ``province_status`` for all areas given the catalog (each area counted from
  its agent's latest report, see api/rollup.py); the same without a catalog (each device's latest
  result), checked equal; baseline: ``area_status`` (api/status.py) called once per area;
- area365d: 365 days from the roll-up; baseline: raw points only, run once.
The machine (2 cores) may be shared: the load average is printed at the end.
Run: ``.venv/bin/python benchmarks/api_queries.py [--areas N] [--days N] [--repeats N]``.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.availability import device_availability, materialize
from api.availability.service import LOCAL
from api.rollup import province_status
from api.status import area_status
from devstack.servers import InfluxDB
from tsdb.fingerprint import device_set_digest
from tsdb.influxql import InfluxQL
from tsdb.lineprotocol import FieldValue, line
from tsdb.writer import InfluxV1Writer

DEVICES = [(f"cam-{i:02d}", "camera") for i in range(1, 19)] + [
    ("uplink", "uplink"),
    ("wifi", "wifi"),
]
DIGEST = device_set_digest(device for device, _ in DEVICES)
BATCH = 10_000
STATUS = {2: "up", 1: "degraded", 0: "down"}


def codes(rng: random.Random, n: int, step_s: int) -> list[int]:
    """One device's status codes: up, with outages and degraded spells."""
    out = [2] * n
    per_day = 86_400 // step_s
    for _ in range(max(1, n // (2 * per_day))):
        start = rng.randrange(n)
        length = max(1, rng.randint(60, 1800) // step_s)
        code = 0 if rng.random() < 0.8 else 1
        out[start : start + length] = [code] * len(out[start : start + length])
    return out


def area_lines(
    area: str, start: datetime, n: int, step_s: int, rng: random.Random, silences: bool
) -> Iterator[str]:
    agent = f"agent-{area}"
    silent = [False] * n
    if silences:
        for _ in range(max(1, n * step_s // (7 * 86_400))):
            s = rng.randrange(n)
            length = max(1, rng.randint(600, 3600) // step_s)
            silent[s : s + length] = [True] * len(silent[s : s + length])
    per_device = [codes(rng, n, step_s) for _ in DEVICES]
    # Each point formatted once by the project's formatter, then stamped: "<series> <fields> <t>".
    heads = [
        {
            c: line(
                kind,
                {"agent": agent, "area": area, "device": device},
                {"status": STATUS[c], "status_code": c, "duration_ms": 12.5},
                0,
            )[:-1]
            for c in STATUS
        }
        for device, kind in DEVICES
    ]
    t0 = int(start.timestamp()) * 1_000_000_000
    for k in range(n):
        if silent[k]:
            continue
        at = t0 + k * step_s * 1_000_000_000
        stamp = str(at)
        for head, series in zip(heads, per_device, strict=True):
            yield head[series[k]] + stamp
        states = [series[k] for series in per_device]
        summary: dict[str, FieldValue] = {
            "seq": k,
            "interval_s": float(step_s),
            "devices": len(DEVICES),
            "lag_s": 0.2,
        }
        summary.update((f"devices_{STATUS[c]}", states.count(c)) for c in STATUS)
        summary["devices_digest"] = DIGEST
        yield line("agent_report", {"agent": agent, "area": area}, summary, at)


def write(writer: InfluxV1Writer, lines: Iterator[str]) -> int:
    batch: list[str] = []
    count = 0
    for item in lines:
        batch.append(item)
        if len(batch) >= BATCH:
            writer.write(batch)
            count += len(batch)
            batch = []
    writer.write(batch)
    return count + len(batch)


def local_midnight(at: datetime) -> datetime:
    return at.astimezone(LOCAL).replace(hour=0, minute=0, second=0, microsecond=0)


def build_rollup(influx: InfluxQL, writer: InfluxV1Writer, area: str, start: datetime) -> int:
    """What the roll-up job does: a block per completed local month, per completed day of this
    month, per completed hour of today (a day block cuts every run at midnight: a month block
    holds half the rows of its 30 day blocks for a healthy device)."""
    now = datetime.now(UTC)
    today = local_midnight(now)
    this_month = today.replace(day=1)
    at = local_midnight(start)
    blocks = 0
    while at < today:
        if at < this_month:
            nxt = (at.replace(day=1) + timedelta(days=32)).replace(day=1)
            nxt = min(nxt, this_month)
        else:
            nxt = local_midnight(at + timedelta(hours=30))
        materialize(influx, writer, area, at, nxt)
        at, blocks = nxt, blocks + 1
    hour = today
    while hour + timedelta(hours=1) <= now:
        materialize(influx, writer, area, hour, hour + timedelta(hours=1))
        hour, blocks = hour + timedelta(hours=1), blocks + 1
    return blocks


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def show(name: str, values: list[float]) -> None:
    print(
        f"{name}: n={len(values)} p50={statistics.median(values):.1f} ms "
        f"p95={p95(values):.1f} ms max={max(values):.1f} ms",
        flush=True,
    )


def load(writer: InfluxV1Writer, args: argparse.Namespace, now: datetime) -> None:
    rng = random.Random(7)
    started = time.perf_counter()
    n = write(
        writer,
        area_lines("area-test", now - timedelta(days=args.days), args.days * 1440, 60, rng, True),
    )
    steps = args.long_days * 86_400 // args.long_interval
    long_start = now - timedelta(days=args.long_days)
    n += write(writer, area_lines("area-long", long_start, steps, args.long_interval, rng, True))
    province_start = now - timedelta(minutes=args.province_minutes)

    def province() -> Iterator[str]:
        for i in range(args.areas):
            area = f"area-{i:05d}"
            yield from area_lines(area, province_start, args.province_minutes, 60, rng, False)

    n += write(writer, province())
    write_s = time.perf_counter() - started
    print(f"wrote {n:,} points in {write_s:.0f} s ({n / write_s:,.0f}/s)", flush=True)


def availability(
    influx: InfluxQL, area: str, days: int, use_rollup: bool = True, device_series: bool = True
) -> object:
    now = datetime.now(UTC)
    return device_availability(
        influx,
        area,
        now - timedelta(days=days),
        now,
        [],
        use_rollup=use_rollup,
        device_series=device_series,
    )


def measure_area30d(influx: InfluxQL, repeats: int) -> tuple[list[float], list[float]]:
    now = datetime.now(UTC)
    result = device_availability(influx, "area-test", now - timedelta(days=30), now, [])
    raw = device_availability(
        influx, "area-test", now - timedelta(days=30), now, [], use_rollup=False
    )
    worst = max(
        abs((a.health.availability or 0) - (b.health.availability or 0))
        for a, b in zip(result.devices, raw.devices, strict=True)
    )
    health = result.area.health
    print(
        f"area30d: {len(result.devices)} devices, {result.sources}; area availability "
        f"{health.availability:.4f} %, coverage {health.coverage:.4f} %, outages "
        f"{health.outages}; largest difference roll-up vs raw: {worst:.6f} percentage points",
        flush=True,
    )
    measured = timed(lambda: availability(influx, "area-test", 30), repeats)
    show("area30d (roll-up)", measured)
    baseline = timed(lambda: availability(influx, "area-test", 30, use_rollup=False), 3)
    show("baseline area30d (raw points only, exact)", baseline)
    count = timed(
        lambda: influx.query(
            'SELECT count("status_code") FROM "camera","uplink","wifi" '
            "WHERE \"area\" = 'area-test' AND time > now() - 30d"
        ),
        3,
    )
    show("baseline area30d (SELECT count over the raw points)", count)
    return measured, baseline


def measure_province(influx: InfluxQL, args: argparse.Namespace) -> tuple[list[float], float]:
    catalog = {f"area-{i:05d}": {device for device, _ in DEVICES} for i in range(args.areas)}
    status = province_status(influx, catalog)
    print(f"province_status: {len(status.areas)} areas, counts {status.counts}", flush=True)
    # Without a catalog every area of the database is read device by device: the same counts.
    by_device = {a.area_id: a.counts for a in province_status(influx, None).areas}
    assert all(by_device[a.area_id] == a.counts for a in status.areas)
    measured = timed(lambda: province_status(influx, catalog), max(5, args.repeats // 2))
    show("province_status (catalog given: one series per agent)", measured)
    slow = timed(lambda: province_status(influx, None), max(3, args.repeats // 8))
    show("province_status without a catalog (one series per device)", slow)
    sample = [f"area-{i:05d}" for i in range(0, args.areas, max(1, args.areas // 50))]
    lookback = timedelta(minutes=args.province_minutes)
    per_area = timed(lambda: [area_status(influx, a, lookback, 3.0, []) for a in sample], 1)[
        0
    ] / len(sample)
    baseline = per_area * args.areas
    print(
        f"baseline province_status (area_status once per area, {len(sample)} sampled): "
        f"{per_area:.1f} ms/area × {args.areas} = {baseline:.0f} ms",
        flush=True,
    )
    return measured, baseline


def measure_area365d(influx: InfluxQL, repeats: int) -> tuple[list[float], list[float]]:
    result = device_availability(
        influx, "area-long", datetime.now(UTC) - timedelta(days=365), datetime.now(UTC), []
    )
    print(f"area365d: {len(result.area.series)} days, {result.sources}", flush=True)
    measured = timed(lambda: availability(influx, "area-long", 365, device_series=False), repeats)
    show("area365d (roll-up; daily series per kind and area, per-device totals)", measured)
    full = timed(lambda: availability(influx, "area-long", 365), max(3, repeats // 4))
    show("area365d with each device's 366-day series too", full)
    baseline = timed(lambda: availability(influx, "area-long", 365, use_rollup=False), 1)
    show("baseline area365d (raw points only, exact)", baseline)
    return measured, baseline


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--areas", type=int, default=2000, help="areas in the province")
    parser.add_argument("--days", type=int, default=30, help="days of the dense area")
    parser.add_argument("--long-days", type=int, default=365)
    parser.add_argument("--long-interval", type=int, default=300, help="seconds")
    parser.add_argument("--province-minutes", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=40)
    args = parser.parse_args()
    now = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix="api-bench-") as tmp:
        server = InfluxDB(Path(tmp) / "influxdb").start()
        writer = InfluxV1Writer(server.url, server.database, timeout_s=120)
        influx = InfluxQL(server.url, server.database, timeout_s=600)
        try:
            load(writer, args, now)
            started = time.perf_counter()
            blocks = build_rollup(influx, writer, "area-test", now - timedelta(days=args.days))
            long_start = now - timedelta(days=args.long_days)
            blocks += build_rollup(influx, writer, "area-long", long_start)
            print(
                f"roll-up job: {blocks} blocks of 2 areas in {time.perf_counter() - started:.1f} s",
                flush=True,
            )
            a30, raw30 = measure_area30d(influx, args.repeats)
            prov, naive = measure_province(influx, args)
            a365, raw365 = measure_area365d(influx, args.repeats)
            print(
                f"ratios (baseline / measured, p95): area30d {p95(raw30) / p95(a30):.0f}x "
                f"province_status {naive / p95(prov):.0f}x "
                f"area365d {p95(raw365) / p95(a365):.0f}x"
            )
            load_avg = os.getloadavg()
            print(f"load average at the end: {load_avg[0]:.2f} {load_avg[1]:.2f} (2 cores, shared)")
            print(
                f"area30d_p95_ms={p95(a30):.1f} province_status_p95_ms={p95(prov):.1f} "
                f"area365d_p95_ms={p95(a365):.1f}"
            )
        finally:
            influx.close()
            writer.close()
            server.stop()


if __name__ == "__main__":
    main()
