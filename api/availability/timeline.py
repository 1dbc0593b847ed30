"""Pure time-weighting: runs of probe results → up/degraded/down/unknown seconds (no I/O).

A *run* is a stretch of consecutive results of one device with the same status and no gap between
two results longer than the split threshold (at most the cap). The run holds from its first result
until its last result plus the time that last result holds: up to the next result (the next run's
start), capped at ``stale_after_intervals`` × the probe interval. Everything else is ``unknown``.
Runs are exact: they are what the database hands back instead of every point (see source.py).
"""

from __future__ import annotations

import itertools
import operator
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from typing import Literal, NamedTuple

State = Literal["up", "degraded", "down", "unknown"]
CODE_STATE: dict[int, State] = {2: "up", 1: "degraded", 0: "down"}


class Run(NamedTuple):
    """Results of one device, same status, ``first_ms``..``last_ms`` (epoch milliseconds)."""

    first_ms: int
    last_ms: int
    code: int  # 2 up, 1 degraded, 0 down
    interval_s: float  # the agent's probe interval while the run lasted


class Segment(NamedTuple):
    start_ms: int
    end_ms: int
    state: State


_BY_TIME = operator.itemgetter(0, 1)  # first_ms, last_ms


def segments(runs: Sequence[Run], stale_after_intervals: float) -> list[Segment]:
    """Observed stretches of one device, in time order; the gaps between them are unknown.

    Consecutive runs in the same state that touch are merged.
    """
    ordered = sorted(runs, key=_BY_TIME)
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


class Tally(NamedTuple):
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
    if not any(h1 > start and h0 < end for h0, h1 in holes):
        # The common case: no maintenance, so only the first and last can stick out (in order).
        inside = [seg for seg in segs if seg.end_ms > start and seg.start_ms < end]
        if inside and inside[0].start_ms < start:
            inside[0] = inside[0]._replace(start_ms=start)
        if inside and inside[-1].end_ms > end:
            inside[-1] = inside[-1]._replace(end_ms=end)
        return inside
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
    up = degraded = down = 0
    outages: list[int] = []
    in_outage = False
    for seg_start, seg_end, state in clip(segs, start, end, holes):  # hot loop: plain integers
        length = seg_end - seg_start
        if state == "up":
            up += length
            in_outage = False
        elif state == "degraded":
            degraded += length
            in_outage = False
        elif state == "unknown":
            continue
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


_NEVER = 1 << 62  # later than any instant, in ms
_REMOTE_RANK: dict[State, int] = {"down": 0, "unknown": 1, "degraded": 2, "up": 3}
_REMOTE: dict[tuple[State, State], State] = {
    (a, b): min(a, b, key=_REMOTE_RANK.__getitem__) for a in _REMOTE_RANK for b in _REMOTE_RANK
}


def remote(camera: Sequence[Segment], uplink: Sequence[Segment]) -> list[Segment]:
    """Camera reachable from outside: camera healthy AND uplink up at the same instant.

    Either one down ⇒ down (known fault); otherwise either unknown ⇒ unknown; otherwise the worse
    of the two (degraded if either is degraded).
    """
    out: list[Segment] = []
    ci = ui = 0
    n_camera, n_uplink = len(camera), len(uplink)
    at = min(camera[0].start_ms if camera else _NEVER, uplink[0].start_ms if uplink else _NEVER)
    run_start, run_end = at, at
    run_state: State = "unknown"
    # Hot loop (a year of 18 cameras): walk both lists at once, one step per change of either.
    while ci < n_camera or ui < n_uplink:
        cam: State = "unknown"
        upl: State = "unknown"
        following = _NEVER
        if ci < n_camera:
            seg = camera[ci]
            if seg.start_ms <= at:
                cam, following = seg.state, seg.end_ms
            else:
                following = seg.start_ms
        if ui < n_uplink:
            seg = uplink[ui]
            if seg.start_ms <= at:
                upl, following = seg.state, min(following, seg.end_ms)
            else:
                following = min(following, seg.start_ms)
        state = _REMOTE[cam, upl]
        if state != run_state or at != run_end:
            if run_state != "unknown":
                out.append(Segment(run_start, run_end, run_state))
            run_start, run_state = at, state
        run_end = at = following
        if ci < n_camera and camera[ci].end_ms <= at:
            ci += 1
        if ui < n_uplink and uplink[ui].end_ms <= at:
            ui += 1
    if run_state != "unknown":
        out.append(Segment(run_start, run_end, run_state))
    return out


class Buckets:
    """Time per state in each bucket ``[edges[i], edges[i+1])``, summed over the timelines added.

    One sweep per timeline instead of a ``tally`` per bucket: a year of days for 20 devices is
    7,320 buckets. Same rules as ``tally`` applied to each bucket on its own: an outage that
    crosses an edge counts in both buckets, with the down time each holds.
    """

    def __init__(self, edges: Sequence[int]) -> None:
        self.edges = list(edges)
        n = len(self.edges) - 1
        self.timelines = 0
        self.up = [0] * n
        self.degraded = [0] * n
        self.down = [0] * n
        self.maintenance = [0] * n
        self.outages: list[list[int]] = [[] for _ in range(n)]

    @classmethod
    def of(
        cls, edges: Sequence[int], segs: Sequence[Segment], holes: Sequence[tuple[int, int]]
    ) -> Buckets:
        """The buckets of one timeline."""
        out = cls(edges)
        out.add(segs, holes)
        return out

    def add(self, segs: Sequence[Segment], holes: Sequence[tuple[int, int]]) -> None:
        """One timeline (segments in time order) with its maintenance holes (merged, sorted)."""
        edges, first, last = self.edges, self.edges[0], self.edges[-1]
        self.timelines += 1
        if any(h1 > first and h0 < last for h0, h1 in holes):
            for h0, h1 in holes:
                self._spread(self.maintenance, max(h0, first), min(h1, last))
            segs = clip(segs, first, last, holes)
        up, degraded, down, outages = self.up, self.degraded, self.down, self.outages
        i = 0
        outage_bucket = -1  # the bucket whose last outage this timeline is still extending
        for seg_start, seg_end, state in segs:  # hot loop: plain integers, no objects
            if state == "unknown":
                continue
            start, end = max(seg_start, first), min(seg_end, last)
            while start < end:
                while edges[i + 1] <= start:
                    i += 1
                piece_end = min(end, edges[i + 1])
                length = piece_end - start
                if state == "up":
                    up[i] += length
                    outage_bucket = -1
                elif state == "degraded":
                    degraded[i] += length
                    outage_bucket = -1
                else:
                    down[i] += length
                    if outage_bucket == i:
                        outages[i][-1] += length
                    else:
                        outages[i].append(length)
                        outage_bucket = i
                start = piece_end

    def _spread(self, into: list[int], start: int, end: int) -> None:
        edges = self.edges
        i = max(0, bisect_right(edges, start) - 1)
        while start < end:
            piece_end = min(end, edges[i + 1])
            into[i] += piece_end - start
            start, i = piece_end, i + 1

    def merge(self, other: Buckets) -> None:
        """Add another set of buckets over the same edges."""
        self.timelines += other.timelines
        for mine, theirs in (
            (self.up, other.up),
            (self.degraded, other.degraded),
            (self.down, other.down),
            (self.maintenance, other.maintenance),
        ):
            for i, value in enumerate(theirs):
                mine[i] += value
        for mine_o, theirs_o in zip(self.outages, other.outages, strict=True):
            mine_o.extend(theirs_o)

    def tallies(self) -> list[Tally]:
        out = []
        for i, (a, b) in enumerate(itertools.pairwise(self.edges)):
            up, degraded, down, maintenance = (
                self.up[i],
                self.degraded[i],
                self.down[i],
                self.maintenance[i],
            )
            unknown = self.timelines * (b - a) - maintenance - up - degraded - down
            out.append(Tally(up, degraded, down, unknown, maintenance, tuple(self.outages[i])))
        return out
