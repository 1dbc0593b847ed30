"""Pure time-weighting: runs of probe results → up/degraded/down/unknown seconds (no I/O).

A *run* is a stretch of consecutive results of one device with the same status and no gap between
two results longer than the split threshold (at most the cap). The run holds from its first result
until its last result plus the time that last result holds: up to the next result (the next run's
start), capped at ``stale_after_intervals`` × the probe interval. Everything else is ``unknown``.
Runs are exact: they are what the database hands back instead of every point (see source.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

State = Literal["up", "degraded", "down", "unknown"]
CODE_STATE: dict[int, State] = {2: "up", 1: "degraded", 0: "down"}


@dataclass(frozen=True, slots=True)
class Run:
    """Results of one device, same status, ``first_ms``..``last_ms`` (epoch milliseconds)."""

    first_ms: int
    last_ms: int
    code: int  # 2 up, 1 degraded, 0 down
    interval_s: float  # the agent's probe interval while the run lasted


@dataclass(frozen=True, slots=True)
class Segment:
    start_ms: int
    end_ms: int
    state: State


def segments(runs: Sequence[Run], stale_after_intervals: float) -> list[Segment]:
    """Observed stretches of one device, in time order; the gaps between them are unknown.

    Consecutive runs in the same state that touch are merged.
    """
    ordered = sorted(runs, key=lambda r: (r.first_ms, r.last_ms))
    out: list[Segment] = []
    for i, run in enumerate(ordered):
        cap_ms = round(run.interval_s * stale_after_intervals * 1000)
        end = run.last_ms + cap_ms
        if i + 1 < len(ordered):
            end = min(end, ordered[i + 1].first_ms)
        if end <= run.first_ms:
            continue  # a duplicate or overlapping run: the later one wins
        state = CODE_STATE[run.code]
        if out and out[-1].state == state and out[-1].end_ms >= run.first_ms:
            out[-1] = Segment(out[-1].start_ms, max(end, out[-1].end_ms), state)
        else:
            out.append(Segment(run.first_ms, end, state))
    return out


def merge_spans(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping spans (maintenance windows overlap in practice)."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def subtract(start: int, end: int, holes: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """[start, end) minus the (merged, sorted) holes."""
    out: list[tuple[int, int]] = []
    cursor = start
    for h0, h1 in holes:
        if h1 <= cursor or h0 >= end:
            continue
        if h0 > cursor:
            out.append((cursor, h0))
        cursor = max(cursor, h1)
        if cursor >= end:
            break
    if cursor < end:
        out.append((cursor, end))
    return out


@dataclass(frozen=True, slots=True)
class Tally:
    """Milliseconds per state inside one span, maintenance taken out, plus the outages in it."""

    up_ms: int
    degraded_ms: int
    down_ms: int
    unknown_ms: int
    maintenance_ms: int
    outages_ms: tuple[int, ...]  # down time of each outage that has down time inside the span

    @property
    def observed_ms(self) -> int:
        return self.up_ms + self.degraded_ms + self.down_ms


def clip(
    segs: Sequence[Segment], start: int, end: int, holes: Sequence[tuple[int, int]]
) -> list[Segment]:
    """The segments restricted to [start, end) minus maintenance holes."""
    out: list[Segment] = []
    open_parts = subtract(start, end, holes)
    for seg in segs:
        if seg.end_ms <= start or seg.start_ms >= end:
            continue
        for p0, p1 in open_parts:
            s0, s1 = max(seg.start_ms, p0), min(seg.end_ms, p1)
            if s1 > s0:
                out.append(Segment(s0, s1, seg.state))
    return out


def tally(segs: Sequence[Segment], start: int, end: int, holes: Sequence[tuple[int, int]]) -> Tally:
    """Time per state in [start, end); an outage is a stretch of ``down`` not interrupted by up or
    degraded (unknown and maintenance inside it do not end it, and do not count as down)."""
    maintenance = 0
    for h0, h1 in holes:
        maintenance += max(0, min(h1, end) - max(h0, start))
    open_parts = subtract(start, end, holes) if maintenance else [(start, end)]
    up = degraded = down = 0
    outages: list[int] = []
    in_outage = False
    for seg in segs:  # hot loop (days × devices × segments): plain integers, no objects
        if seg.end_ms <= start or seg.start_ms >= end:
            continue
        state = seg.state
        if state == "unknown":
            continue
        length = 0
        for p0, p1 in open_parts:
            part = min(seg.end_ms, p1) - max(seg.start_ms, p0)
            if part > 0:
                length += part
        if not length:
            continue
        if state == "up":
            up += length
            in_outage = False
        elif state == "degraded":
            degraded += length
            in_outage = False
        elif in_outage:
            down += length
            outages[-1] += length
        else:
            down += length
            outages.append(length)
            in_outage = True
    return Tally(
        up_ms=up,
        degraded_ms=degraded,
        down_ms=down,
        unknown_ms=(end - start) - maintenance - up - degraded - down,
        maintenance_ms=maintenance,
        outages_ms=tuple(outages),
    )


def outage_spans(
    segs: Sequence[Segment], start: int, end: int, holes: Sequence[tuple[int, int]]
) -> list[list[Segment]]:
    """The down segments of each outage in [start, end) (same grouping as ``tally``)."""
    out: list[list[Segment]] = []
    in_outage = False
    for seg in clip(segs, start, end, holes):
        if seg.state == "unknown":
            continue
        if seg.state == "down":
            if in_outage:
                out[-1].append(seg)
            else:
                out.append([seg])
                in_outage = True
        else:
            in_outage = False
    return out


_REMOTE_RANK: dict[State, int] = {"down": 0, "unknown": 1, "degraded": 2, "up": 3}
_REMOTE: dict[tuple[State, State], State] = {
    (a, b): min(a, b, key=_REMOTE_RANK.__getitem__) for a in _REMOTE_RANK for b in _REMOTE_RANK
}


def remote(camera: Sequence[Segment], uplink: Sequence[Segment]) -> list[Segment]:
    """Camera reachable from outside: camera healthy AND uplink up at the same instant.

    Either one down ⇒ down (known fault); otherwise either unknown ⇒ unknown; otherwise the worse
    of the two (degraded if either is degraded).
    """
    cuts = sorted({s.start_ms for s in (*camera, *uplink)} | {s.end_ms for s in (*camera, *uplink)})
    out: list[Segment] = []
    ci = ui = 0
    n_camera, n_uplink = len(camera), len(uplink)
    for a, b in itertools.pairwise(cuts):  # hot loop (a year of 18 cameras): lookups only
        while ci < n_camera and camera[ci].end_ms <= a:
            ci += 1
        while ui < n_uplink and uplink[ui].end_ms <= a:
            ui += 1
        cam: State = camera[ci].state if ci < n_camera and camera[ci].start_ms <= a else "unknown"
        upl: State = uplink[ui].state if ui < n_uplink and uplink[ui].start_ms <= a else "unknown"
        state = _REMOTE[cam, upl]
        if state == "unknown":
            continue
        if out and out[-1].end_ms == a and out[-1].state == state:
            out[-1] = Segment(out[-1].start_ms, b, state)
        else:
            out.append(Segment(a, b, state))
    return out
