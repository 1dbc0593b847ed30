"""Reading runs from InfluxDB: the database does the scanning, Python gets only state changes.

Two sources, same answer:
- **raw**: InfluxDB computes ``difference(status_code)`` and ``elapsed(status_code)`` per device
  and returns only the points where the status changed or a gap longer than the split threshold
  began (plus each device's first and last point). A healthy device over a day is 2 rows, not 1,440.
- **roll-up**: the same runs, materialized per block (an hour, a day, a month) by
  ``materialize()`` into the ``availability_runs`` measurement, packed: one row per device and
  block holds up to ``RUNS_PER_ROW`` runs as a text field (a year of one area is about 1,100 rows,
  not 9,400: InfluxDB answers in a quarter of the time). A marker point in ``availability_block``
  says which span a block covers, which build to read and in which format. Long windows read
  the blocks and fall back to raw only where no block exists.
  Late data makes a block stale: re-run ``materialize()`` over the affected blocks (idempotent:
  a new build replaces the old one for readers).

Each run carries the probe interval of the report that carried its last result: that result's
hold is capped by its own interval, never by another report's (``interval_steps``). Runs split at
gaps above ``ROLLUP_SPLIT_INTERVALS`` × the shortest interval reported in the span, so a gap that
could exceed any result's cap is always a run boundary; splitting more often changes nothing.
What holds into a window from before it is the last result of each device before the window
(``before``), looked back as far as any result can hold: both paths read it the same way.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from api.availability.timeline import Run
from contract.models import DeviceKind
from tsdb.influxql import InfluxQL, identifier, literal
from tsdb.lineprotocol import FieldValue, line
from tsdb.schema import (
    AGENT,
    AREA,
    DEVICE,
    Q_AGENT,
    Q_AGENT_REPORT,
    Q_AREA,
    Q_DEVICE,
    Q_DEVICE_MEASUREMENTS,
)
from tsdb.writer import Writer

RUN_MEASUREMENT = "availability_runs"
BLOCK_MEASUREMENT = "availability_block"
# 3: packed runs, each with its last result's own interval. Blocks of another format (1: a row
# per run; 2: the longest interval of the block on every run) are not read and are built again.
RUN_FORMAT = 3
RUNS_PER_ROW = 1000  # 4 numbers per run, ~36 bytes: well under InfluxDB 1.x's 64 KB per string
ROLLUP_SPLIT_INTERVALS = 1.5  # runs in the roll-up split at gaps > 1.5 intervals (≤ any cap used)
MAX_BLOCK_MS = 31 * 86_400_000
DEFAULT_INTERVAL_S = 60.0  # a result whose agent_report is missing (documented)
MAX_INTERVAL_S = 86_400.0  # the contract's largest probe interval (contract.models.Report)
_MEASUREMENTS = Q_DEVICE_MEASUREMENTS


@dataclass(frozen=True, slots=True)
class DeviceKey:
    kind: DeviceKind
    device_id: str


@dataclass
class Runs:
    """Runs per device, and how many rows each source gave."""

    by_device: dict[DeviceKey, list[Run]] = field(default_factory=lambda: defaultdict(list))
    agents: dict[DeviceKey, str] = field(default_factory=dict)
    raw_rows: int = 0
    rollup_rows: int = 0  # runs read from roll-up blocks (several to a row)

    def extend(self, other: Runs) -> None:
        for key, runs in other.by_device.items():
            self.by_device[key].extend(runs)
        self.agents.update(other.agents)
        self.raw_rows += other.raw_rows
        self.rollup_rows += other.rollup_rows


def _ms(value: datetime) -> int:
    return round(value.timestamp() * 1000)


def _where(area_id: str, start_ms: int, end_ms: int) -> str:
    return f"{Q_AREA} = {literal(area_id)} AND time >= {int(start_ms)}ms AND time < {int(end_ms)}ms"


@dataclass(frozen=True, slots=True)
class Steps:
    """An agent's probe interval over time: ``intervals[i]`` from ``times[i]`` on (ms)."""

    times: list[int]
    intervals: list[float]

    def at(self, ms: int) -> float:
        i = bisect_right(self.times, ms) - 1
        return self.intervals[max(i, 0)] if self.intervals else DEFAULT_INTERVAL_S


def interval_steps(
    influx: InfluxQL, area_id: str, start_ms: int, end_ms: int
) -> tuple[dict[str, Steps], float]:
    """Each agent's interval as a step function over [start, end) (its first report and the
    reports where it changed: a device result shares its report's time, so ``at(t)`` is the
    interval of the report that carried it), and the shortest interval in the span."""
    where = _where(area_id, start_ms, end_ms)
    statements = [
        f'SELECT first("interval_s") FROM {Q_AGENT_REPORT} WHERE {where} GROUP BY {Q_AGENT}',  # noqa: S608
        f'SELECT min("interval_s") FROM {Q_AGENT_REPORT} WHERE {where}',  # noqa: S608
        'SELECT * FROM (SELECT difference("interval_s") AS d '  # noqa: S608
        f"FROM {Q_AGENT_REPORT} WHERE {where} GROUP BY {Q_AGENT}) WHERE d != 0 "
        f"AND time >= {int(start_ms)}ms AND time < {int(end_ms)}ms GROUP BY {Q_AGENT}",
    ]
    steps: dict[str, Steps] = {}
    shortest = DEFAULT_INTERVAL_S
    changes: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for series in influx.query("; ".join(statements)):
        rows = series.rows
        if rows and "first" in rows[0]:
            steps[series.tags[AGENT]] = Steps([int(rows[0]["time"])], [float(rows[0]["first"])])
        elif rows and "min" in rows[0]:
            shortest = float(rows[0]["min"])
        else:
            changes[series.tags[AGENT]].extend((int(r["time"]), float(r["d"])) for r in rows)
    for agent, found in changes.items():
        if agent in steps:
            agent_steps = steps[agent]
            for at, delta in sorted(found):
                agent_steps.times.append(at)
                # The new interval = the previous one + the difference (rounded: sums of floats).
                agent_steps.intervals.append(round(agent_steps.intervals[-1] + delta, 6))
    return steps, shortest


def raw_runs(
    influx: InfluxQL, area_id: str, start_ms: int, end_ms: int, split_intervals: float
) -> Runs:
    """Runs of every device of the area from raw points in [start, end).

    The first run of each device starts at its first point inside the span; what came before is
    another span's business (runs from adjacent spans join exactly, see timeline.segments).
    """
    steps, shortest = interval_steps(influx, area_id, start_ms, end_ms)
    threshold_ms = shortest * split_intervals * 1000
    where = _where(area_id, start_ms, end_ms)
    group = f"GROUP BY {Q_DEVICE}, {Q_AGENT}"
    out = Runs()
    firsts: dict[tuple[DeviceKey, str], tuple[int, int]] = {}
    lasts: dict[tuple[DeviceKey, str], int] = {}
    changes: dict[tuple[DeviceKey, str], list[tuple[int, int, int]]] = defaultdict(list)
    # One request, three statements; the outer time bound matters: without it InfluxDB 1.6
    # scans the measurement's whole history for the subquery (227 ms instead of 11 for an hour).
    statements = [
        # User input (area_id) reaches these only through _where(), i.e. literal().
        f'SELECT first("status_code") FROM {_MEASUREMENTS} WHERE {where} {group}',  # noqa: S608
        f'SELECT last("status_code") FROM {_MEASUREMENTS} WHERE {where} {group}',  # noqa: S608
        'SELECT * FROM (SELECT difference("status_code") AS d, '  # noqa: S608
        f'elapsed("status_code", 1ms) AS e FROM {_MEASUREMENTS} WHERE {where} {group}) '
        f"WHERE (d != 0 OR e > {threshold_ms:.0f}) "
        f"AND time >= {int(start_ms)}ms AND time < {int(end_ms)}ms {group}",
    ]
    for series in influx.query("; ".join(statements)):
        key = (DeviceKey(DeviceKind(series.name), series.tags[DEVICE]), series.tags[AGENT])
        rows = series.rows
        if rows and "first" in rows[0]:
            firsts[key] = (int(rows[0]["time"]), int(rows[0]["first"]))
        elif rows and "last" in rows[0]:
            lasts[key] = int(rows[0]["time"])
        else:
            changes[key].extend((int(r["time"]), int(r["d"]), int(r["e"])) for r in rows)
            out.raw_rows += len(rows)
    for key, (first_ms, first_code) in firsts.items():
        device, agent = key
        last_ms = lasts.get(key, first_ms)
        out.by_device[device].extend(
            assemble(
                first_ms,
                first_code,
                changes.get(key, []),
                last_ms,
                steps.get(agent, Steps([], [])).at,
            )
        )
        out.agents[device] = agent
        out.raw_rows += 2
    return out


def before(influx: InfluxQL, area_id: str, start_ms: int, stale_after_intervals: float) -> Runs:
    """Each device's last result before ``start`` that may still hold into it (within
    ``stale_after_intervals`` × the longest interval there is), with its own report's interval:
    a one-result run per device. Older results cannot reach ``start``."""
    out = Runs()
    since = start_ms - round(stale_after_intervals * MAX_INTERVAL_S * 1000)
    where = _where(area_id, since, start_ms)
    last: dict[tuple[DeviceKey, str], tuple[int, int]] = {}
    for series in influx.query(
        f'SELECT last("status_code") FROM {_MEASUREMENTS} WHERE {where} '  # noqa: S608
        f"GROUP BY {Q_DEVICE}, {Q_AGENT}"
    ):
        key = (DeviceKey(DeviceKind(series.name), series.tags[DEVICE]), series.tags[AGENT])
        row = series.rows[0]
        last[key] = (int(row["time"]), int(row["last"]))
    if not last:
        return out
    moments = sorted({at for at, _ in last.values()})
    interval: dict[tuple[str, int], float] = {}
    statements = [
        f'SELECT "interval_s" FROM {Q_AGENT_REPORT} WHERE {_where(area_id, at, at + 1)} '  # noqa: S608
        f"GROUP BY {Q_AGENT}"
        for at in moments
    ]
    for series in influx.query("; ".join(statements)):
        for row in series.rows:
            interval[series.tags[AGENT], int(row["time"])] = float(row["interval_s"])
    for (device, agent), (at, code) in last.items():
        run = Run(at, at, code, interval.get((agent, at), DEFAULT_INTERVAL_S))
        out.by_device[device].append(run)
        out.agents[device] = agent
        out.raw_rows += 1
    return out


def assemble(
    first_ms: int,
    first_code: int,
    changes: list[tuple[int, int, int]],
    last_ms: int,
    interval_at: Callable[[int], float],
) -> list[Run]:
    """Runs from a device's first point, its change rows (time, status difference, time since
    the previous point) and its last point: every point between two change rows has the status of
    the earlier one, and the point before a change row lies ``elapsed`` before it. Each run gets
    ``interval_at`` its last point."""
    runs = []
    start, code = first_ms, first_code
    for at, delta, elapsed in sorted(changes):
        runs.append(Run(start, at - elapsed, code, interval_at(at - elapsed)))
        code += delta
        start = at
    runs.append(Run(start, last_ms, code, interval_at(last_ms)))
    return runs


def blocks(
    influx: InfluxQL, area_id: str, start_ms: int, end_ms: int
) -> list[tuple[int, int, int]]:
    """Materialized blocks that overlap [start, end), as (start, end, build) in ms. Blocks built
    in an older format are left out: readers fall back to raw points, the roll-up job rebuilds."""
    out = []
    for series in influx.query(
        f'SELECT "end_ms", "build", "format" FROM {identifier(BLOCK_MEASUREMENT)} '  # noqa: S608
        f"WHERE {_where(area_id, start_ms - MAX_BLOCK_MS, end_ms)}"
    ):
        for row in series.rows:
            if int(row["end_ms"]) > start_ms and row.get("format") == RUN_FORMAT:
                out.append((int(row["time"]), int(row["end_ms"]), int(row["build"])))
    # Hour blocks of a day that later got its day block: the larger block wins, none overlap.
    kept: list[tuple[int, int, int]] = []
    for block in sorted(out, key=lambda b: (b[0], -b[1])):
        if not kept or block[0] >= kept[-1][1]:
            kept.append(block)
    return kept


def pack(runs: list[Run]) -> str:
    """Runs as text: ``first_ms,last_ms,code,interval_s`` for each, all comma-separated."""
    return ",".join(f"{r.first_ms},{r.last_ms},{r.code},{r.interval_s!r}" for r in runs)


def unpack(text: str) -> list[Run]:
    values = iter(text.split(","))
    return [
        Run(int(first), int(last), int(code), float(interval))
        for first, last, code, interval in zip(values, values, values, values, strict=True)
    ]


def rollup_runs(influx: InfluxQL, area_id: str, spans: list[tuple[int, int, int]]) -> Runs:
    """Runs of the materialized blocks ``spans`` (one query over their hull); a row counts only
    if it belongs to its block's current build (older builds are left behind, never read)."""
    out = Runs()
    if not spans:
        return out
    where = _where(area_id, spans[0][0], spans[-1][1])
    starts = [s for s, _, _ in spans]
    for series in influx.query(
        f'SELECT "runs", "build" FROM {identifier(RUN_MEASUREMENT)} '  # noqa: S608
        f'WHERE {where} GROUP BY "kind", {Q_DEVICE}, {Q_AGENT}'
    ):
        device = DeviceKey(DeviceKind(series.tags["kind"]), series.tags[DEVICE])
        for row in series.rows:
            at = int(row["time"])  # the first run's start: every run of a row is in one block
            i = bisect_right(starts, at) - 1  # blocks of an area never overlap
            if i >= 0 and at < spans[i][1] and int(row["build"]) == spans[i][2]:
                runs = unpack(row["runs"])
                out.by_device[device].extend(runs)
                out.agents[device] = series.tags[AGENT]
                out.rollup_rows += len(runs)
    return out


def read_runs(
    influx: InfluxQL,
    area_id: str,
    start_ms: int,
    end_ms: int,
    use_rollup: bool = True,
    stale_after_intervals: float = 3.0,
) -> Runs:
    """Runs covering [start, end): what holds into it from before (``before``), every
    materialized block that overlaps it (whole: the timeline clips runs to the window, so a block
    may stick out), raw points in the gaps."""
    covered = blocks(influx, area_id, start_ms, end_ms) if use_rollup else []
    out = earlier(before(influx, area_id, start_ms, stale_after_intervals), covered)
    out.extend(rollup_runs(influx, area_id, covered))
    for s, e in gaps(covered, start_ms, end_ms):
        out.extend(raw_runs(influx, area_id, s, e, ROLLUP_SPLIT_INTERVALS))
    return out


def earlier(held: Runs, covered: list[tuple[int, int, int]]) -> Runs:
    """The results of ``before`` that no block read holds: a block that began before the window
    has that result inside one of its runs already (a second copy would cut that run short)."""
    if not covered:
        return held
    out = Runs(raw_rows=held.raw_rows)
    for device, runs in held.by_device.items():
        kept = [run for run in runs if run.first_ms < covered[0][0]]
        if kept:
            out.by_device[device].extend(kept)
            out.agents[device] = held.agents[device]
    return out


def gaps(covered: list[tuple[int, int, int]], start_ms: int, end_ms: int) -> list[tuple[int, int]]:
    """The parts of [start, end) that no block covers (blocks sorted, not overlapping)."""
    out = []
    cursor = start_ms
    for s, e, _ in [*covered, (end_ms, end_ms, 0)]:
        if s > cursor:
            out.append((cursor, min(s, end_ms)))
        cursor = max(cursor, e)
    return out


def materialize(
    influx: InfluxQL, writer: Writer, area_id: str, start: datetime, end: datetime
) -> int:
    """(Re)build one roll-up block [start, end) of an area from raw points; returns its runs.

    Idempotent: each build is stamped, and the block's marker names the build to read, so a
    rebuild (after late data) replaces the old runs for readers without deleting anything. Run it
    for each completed hour or day, and again for blocks that received late data.
    """
    start_ms, end_ms = _ms(start), _ms(end)
    if not 0 < end_ms - start_ms <= MAX_BLOCK_MS:
        raise ValueError("a block lasts more than nothing and at most 31 days")
    build = time.time_ns() // 1_000_000
    runs = raw_runs(influx, area_id, start_ms, end_ms, ROLLUP_SPLIT_INTERVALS)
    lines = []
    count = 0
    for device, device_runs in runs.by_device.items():
        tags = {
            AREA: area_id,
            AGENT: runs.agents[device],
            DEVICE: device.device_id,
            "kind": device.kind.value,
        }
        ordered = sorted(device_runs)
        count += len(ordered)
        for i in range(0, len(ordered), RUNS_PER_ROW):
            chunk = ordered[i : i + RUNS_PER_ROW]
            fields: dict[str, FieldValue] = {"runs": pack(chunk), "build": build}
            lines.append(line(RUN_MEASUREMENT, tags, fields, chunk[0].first_ms * 1_000_000))
    marker: dict[str, FieldValue] = {
        "end_ms": end_ms,
        "runs": count,
        "build": build,
        "format": RUN_FORMAT,
    }
    for i in range(0, len(lines), 5000):
        writer.write(lines[i : i + 5000])
    # The marker last: a reader never sees a block whose runs are not all written.
    writer.write([line(BLOCK_MEASUREMENT, {AREA: area_id}, marker, start_ms * 1_000_000)])
    return count


def stale_blocks(
    influx: InfluxQL, area_id: str, start: datetime, end: datetime
) -> list[tuple[int, int]]:
    """Blocks overlapping [start, end) that received reports after they were built.

    ``agent_report.lag_s`` is arrival − observation, so a report arrived at ``time + lag_s``. Only
    reports whose lag is longer than the time from the block's end to its build can be late; the
    database returns just those (one statement per block, sent together).
    """
    found = blocks(influx, area_id, _ms(start), _ms(end))
    if not found:
        return []
    statements = [
        f'SELECT "lag_s" FROM {Q_AGENT_REPORT} WHERE {_where(area_id, s, e)} '  # noqa: S608
        f'AND "lag_s" > {max(0.0, (build - e) / 1000):.3f}'
        for s, e, build in found
    ]
    late: list[tuple[int, int]] = []  # (observed, arrived) in ms
    for series in influx.query("; ".join(statements)):
        late.extend(
            (int(row["time"]), int(row["time"]) + round(float(row["lag_s"]) * 1000))
            for row in series.rows
        )
    return [
        (s, e)
        for s, e, build in found
        if any(s <= observed < e and arrived >= build for observed, arrived in late)
    ]


def refresh(
    influx: InfluxQL, writer: Writer, area_id: str, start: datetime, end: datetime
) -> list[tuple[int, int]]:
    """Rebuild the blocks of [start, end) that late data made stale; returns them (ms)."""
    stale = stale_blocks(influx, area_id, start, end)
    for s, e in stale:
        materialize(
            influx,
            writer,
            area_id,
            datetime.fromtimestamp(s / 1000, UTC),
            datetime.fromtimestamp(e / 1000, UTC),
        )
    return stale
