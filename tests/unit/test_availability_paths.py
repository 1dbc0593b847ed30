"""Raw points and roll-up blocks give one answer for any window (issue 15, causes 2 and 3).

A timeline of reports (random gaps, agent silences, statuses and probe intervals that change from
report to report) is read the way ``api.availability.source`` reads InfluxDB: per span, each
device's first and last point and the rows where the status changed or a gap above
``ROLLUP_SPLIT_INTERVALS`` × the span's shortest interval began; what holds into the window from
before it is each device's last earlier result. The raw path reads the window as one span; the
roll-up path reads random blocks (some built, some not, sticking out of the window) and raw
points in the gaps, as ``read_runs`` does. Both must equal each other to the millisecond, and a
brute-force sweep written from docs/availability.md: every result holds until the device's next
result, at most ``stale_after_intervals`` × the interval of its own report.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from api.availability.source import (
    DEFAULT_INTERVAL_S,
    MAX_INTERVAL_S,
    ROLLUP_SPLIT_INTERVALS,
    DeviceKey,
    Runs,
    Steps,
    assemble,
    earlier,
    gaps,
)
from api.availability.timeline import Buckets, Holes, Run, segments, tally
from contract.models import DeviceKind

S = 1000
STATE = {2: "up", 1: "degraded", 0: "down"}


@dataclass(frozen=True)
class Report:
    at: int  # ms
    interval_s: float
    results: dict[str, int]  # device → status code


def _span_runs(reports: list[Report], start: int, end: int) -> dict[str, list[Run]]:
    """What ``raw_runs`` gets from InfluxDB for [start, end), assembled as it does."""
    inside = [r for r in reports if start <= r.at < end]
    shortest = min((r.interval_s for r in inside), default=DEFAULT_INTERVAL_S)
    threshold = shortest * ROLLUP_SPLIT_INTERVALS * S
    steps = Steps([], [])
    for r in inside:  # the first report and every change of interval
        if not steps.intervals or steps.intervals[-1] != r.interval_s:
            steps.times.append(r.at)
            steps.intervals.append(r.interval_s)
    points: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for r in inside:
        for device, code in r.results.items():
            points[device].append((r.at, code))
    out = {}
    for device, pts in points.items():
        changes = [
            (t, c - pts[i - 1][1], t - pts[i - 1][0])
            for i, (t, c) in enumerate(pts)
            if i and (c != pts[i - 1][1] or t - pts[i - 1][0] > threshold)
        ]
        out[device] = assemble(pts[0][0], pts[0][1], changes, pts[-1][0], steps.at)
    return out


def _before(reports: list[Report], start: int, stale: float) -> dict[str, list[Run]]:
    """What ``before`` gets: each device's last result in the look-back, with its interval."""
    since = start - stale * MAX_INTERVAL_S * S
    out: dict[str, list[Run]] = {}
    for r in reports:
        if since <= r.at < start:
            for device, code in r.results.items():
                out[device] = [Run(r.at, r.at, code, r.interval_s)]
    return out


def _read(
    reports: list[Report],
    start: int,
    end: int,
    stale: float,
    blocks: list[tuple[int, int, int]],
) -> dict[str, list[Run]]:
    """``read_runs``: the look-back, the built blocks overlapping the window, raw in the gaps."""
    covered = [b for b in blocks if b[1] > start and b[0] < end]
    held = Runs()
    for device, runs in _before(reports, start, stale).items():
        held.by_device[DeviceKey(DeviceKind.CAMERA, device)].extend(runs)
        held.agents[DeviceKey(DeviceKind.CAMERA, device)] = "nvh"
    out: dict[str, list[Run]] = defaultdict(list)
    for key, runs in earlier(held, covered).by_device.items():
        out[key.device_id].extend(runs)
    parts = [_span_runs(reports, s, e) for s, e, _ in covered]
    parts += [_span_runs(reports, s, e) for s, e in gaps(covered, start, end)]
    for part in parts:
        for device, runs in part.items():
            out[device].extend(runs)
    return out


def _brute(
    reports: list[Report], device: str, stale: float, start: int, end: int
) -> dict[str, int]:
    """Every result holds until the device's next result, at most stale × its own interval."""
    points = [(r.at, r.results[device], r.interval_s) for r in reports if device in r.results]
    out = {"up": 0, "degraded": 0, "down": 0}
    for i, (t, code, interval) in enumerate(points):
        hold_end = t + round(interval * stale * S)
        if i + 1 < len(points):
            hold_end = min(hold_end, points[i + 1][0])
        out[STATE[code]] += max(0, min(hold_end, end) - max(t, start))
    return out


@st.composite
def timelines(draw: st.DrawFn) -> list[Report]:
    """Reports of one agent for two devices: gaps of 1 s to 3 h, intervals that change."""
    n = draw(st.integers(1, 40))
    at = draw(st.integers(0, 3600)) * S
    interval = draw(st.sampled_from([30.0, 60.0, 300.0, 1800.0]))
    out = []
    for _ in range(n):
        if draw(st.integers(0, 5)) == 0:
            interval = draw(st.sampled_from([30.0, 60.0, 300.0, 1800.0]))
        results = {
            device: draw(st.sampled_from([2, 2, 1, 0]))
            for device in ("cam", "uplink")
            if draw(st.integers(0, 6)) > 0
        }
        out.append(Report(at, interval, results))
        gap = draw(st.sampled_from([1.0, interval, interval, interval, 2 * interval, 10_800.0]))
        at += round(gap * S)
    return out


@settings(max_examples=250, deadline=None)
@given(
    reports=timelines(),
    data=st.data(),
    built=st.lists(st.booleans(), min_size=9, max_size=9),
    stale=st.sampled_from([1.5, 3.0, 5.0]),
    step=st.integers(600, 20_000),
)
def test_raw_and_rollup_give_one_answer_for_any_window(
    reports: list[Report],
    data: st.DataObject,
    built: list[bool],
    stale: float,
    step: int,
) -> None:
    # Windows, block edges and the maintenance hole where the data is (seconds).
    span = reports[-1].at // S + 7200
    near = st.integers(0, span)
    first = data.draw(near, label="window start")
    start, end = first * S, (first + data.draw(st.integers(1, span), label="length")) * S
    cuts = data.draw(st.lists(near, max_size=8, unique=True), label="block edges")
    hole = data.draw(st.tuples(near, st.integers(0, 5_000)), label="maintenance")
    edges = [0, *sorted(c * S for c in cuts), (span + 80_000) * S]
    blocks = [
        (a, b, 1) for (a, b), keep in zip(itertools.pairwise(edges), built, strict=False) if keep
    ]
    holes = Holes.of([(hole[0] * S, (hole[0] + hole[1]) * S)])
    raw = _read(reports, start, end, stale, [])
    rolled = _read(reports, start, end, stale, blocks)
    bucket_edges = [*range(start, end, step * S), end]
    for device in ("cam", "uplink"):
        raw_segs = segments(raw.get(device, []), stale)
        rolled_segs = segments(rolled.get(device, []), stale)
        t = tally(raw_segs, start, end, holes)
        assert tally(rolled_segs, start, end, holes) == t
        assert (
            Buckets.of(bucket_edges, rolled_segs, holes).tallies()
            == Buckets.of(bucket_edges, raw_segs, holes).tallies()
        )
        # Listed or not: the same on both paths (a result holds inside the window).
        assert any(s.end_ms > start and s.start_ms < end for s in raw_segs) == any(
            s.end_ms > start and s.start_ms < end for s in rolled_segs
        )
        # And both equal the rules applied to every result, holes left out.
        expected = _brute(reports, device, stale, start, end)
        plain = tally(raw_segs, start, end, [])
        assert (plain.up_ms, plain.degraded_ms, plain.down_ms) == (
            expected["up"],
            expected["degraded"],
            expected["down"],
        )
        assert plain.unknown_ms == (end - start) - sum(expected.values())
