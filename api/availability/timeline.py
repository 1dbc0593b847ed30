"""Pure time-weighting: runs of probe results → up/degraded/down/unknown seconds (no I/O).

A *run* is a stretch of consecutive results of one device with the same status and no gap between
two results longer than the split threshold (at most the cap). The run holds from its first result
until its last result plus the time that last result holds: up to the next result (the next run's
start), capped at ``stale_after_intervals`` × the probe interval *of that result's own report*.
Everything else is ``unknown``. Runs are exact: they are what the database hands back instead of
every point (see source.py). Because every hold depends only on its own result, a timeline cut
into runs anywhere (more often than needed: at block boundaries, at a smaller split threshold)
gives the same segments: raw points and roll-up blocks agree by construction.

Time taken out of a figure (``Holes``) is of three kinds, counted apart: planned maintenance,
retroactive maintenance (declared after it began) and the time before the device was installed.
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
    interval_s: float  # the probe interval of the report that carried the run's last result


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


def subtract_all(
    spans: Sequence[tuple[int, int]], holes: Sequence[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Merged ``spans`` minus merged ``holes``."""
    return [part for a, b in spans for part in subtract(a, b, holes)]


class Holes(NamedTuple):
    """Time taken out of a timeline's figures, by kind; the three lists are disjoint (before
    installation wins over maintenance, planned over retroactive), ``all`` is their union."""

    planned: list[tuple[int, int]]
    retroactive: list[tuple[int, int]]
    before_install: list[tuple[int, int]]
    all: list[tuple[int, int]]

    @classmethod
    def of(
        cls,
        planned: Iterable[tuple[int, int]] = (),
        retroactive: Iterable[tuple[int, int]] = (),
        before_install: Iterable[tuple[int, int]] = (),
    ) -> Holes:
        pre = merge_spans(before_install)
        plan = subtract_all(merge_spans(planned), pre)
        retro = subtract_all(subtract_all(merge_spans(retroactive), pre), plan)
        return cls(plan, retro, pre, merge_spans([*pre, *plan, *retro]))

    def union(self, other: Holes) -> Holes:
        return Holes.of(
            [*self.planned, *other.planned],
            [*self.retroactive, *other.retroactive],
            [*self.before_install, *other.before_install],
        )


NO_HOLES = Holes([], [], [], [])


def _holes(holes: Holes | Sequence[tuple[int, int]]) -> Holes:
    """A plain list of spans is planned maintenance (merged here)."""
    return holes if isinstance(holes, Holes) else Holes.of(holes)


def _overlap(spans: Sequence[tuple[int, int]], start: int, end: int) -> int:
    return sum(max(0, min(h1, end) - max(h0, start)) for h0, h1 in spans)


class Tally(NamedTuple):
    """Milliseconds per state inside one span, holes taken out, plus the outages in it."""

    up_ms: int
    degraded_ms: int
    down_ms: int
    unknown_ms: int
    maintenance_ms: int  # planned + retroactive
    outages_ms: tuple[int, ...]  # down time of each outage that has down time inside the span
    resolved_ms: tuple[int, ...] = ()  # of those seen to begin and end inside the span
    retroactive_ms: int = 0  # part of maintenance_ms declared after it began
    before_install_ms: int = 0

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


def tally(
    segs: Sequence[Segment], start: int, end: int, holes: Holes | Sequence[tuple[int, int]]
) -> Tally:
    """Time per state in [start, end); an outage is a stretch of ``down`` not interrupted by up or
    degraded (unknown and holes inside it do not end it, and do not count as down). An outage is
    *resolved* when the device was seen working inside the span both before and after it: only
    those enter MTTR (one cut by the span's edges has no known duration)."""
    kinds = _holes(holes)
    planned = _overlap(kinds.planned, start, end)
    retroactive = _overlap(kinds.retroactive, start, end)
    before_install = _overlap(kinds.before_install, start, end)
    up = degraded = down = 0
    outages: list[int] = []
    resolved: list[int] = []
    in_outage = seen_working = bracketed = False
    for seg_start, seg_end, state in clip(segs, start, end, kinds.all):  # hot loop: integers
        length = seg_end - seg_start
        if state in {"up", "degraded"}:
            if state == "up":
                up += length
            else:
                degraded += length
            if in_outage and bracketed:
                resolved.append(outages[-1])
            in_outage = False
            seen_working = True
        elif state == "unknown":
            continue
        elif in_outage:
            down += length
            outages[-1] += length
        else:
            down += length
            outages.append(length)
            in_outage, bracketed = True, seen_working
    return Tally(
        up_ms=up,
        degraded_ms=degraded,
        down_ms=down,
        unknown_ms=(end - start) - planned - retroactive - before_install - up - degraded - down,
        maintenance_ms=planned + retroactive,
        outages_ms=tuple(outages),
        resolved_ms=tuple(resolved),
        retroactive_ms=retroactive,
        before_install_ms=before_install,
    )


def outage_spans(
    segs: Sequence[Segment], start: int, end: int, holes: Holes | Sequence[tuple[int, int]]
) -> list[list[Segment]]:
    """The down segments of each outage in [start, end) (same grouping as ``tally``)."""
    out: list[list[Segment]] = []
    in_outage = False
    for seg in clip(segs, start, end, _holes(holes).all):
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


_BEST_RANK: dict[State, int] = {"up": 0, "degraded": 1, "unknown": 2, "down": 3}


def _state_at(segs: Sequence[Segment], at: int) -> State:
    i = bisect_right(segs, at, key=operator.itemgetter(0)) - 1
    return segs[i].state if i >= 0 and segs[i].end_ms > at else "unknown"


def _in(spans: Sequence[tuple[int, int]], at: int) -> bool:
    i = bisect_right(spans, at, key=operator.itemgetter(0)) - 1
    return i >= 0 and spans[i][1] > at


def best_uplink(uplinks: Sequence[tuple[Sequence[Segment], Holes]]) -> tuple[list[Segment], Holes]:
    """The area's connection over several uplinks (a backup line), and when it is out of service.

    At each instant the uplinks in service are those outside their own holes (their maintenance,
    before their installation). The area is connected (up) while any in-service uplink is up;
    else degraded if one is degraded; else unknown if one is unknown (unknown is never down); down
    only when every in-service uplink is seen down. With none in service the time is a hole of
    the cameras' remote figures: maintenance (planned if one of the uplinks' windows then was
    planned, else retroactive), or before installation when no uplink was installed yet.
    """
    if len(uplinks) == 1 and not uplinks[0][1].all:
        return list(uplinks[0][0]), NO_HOLES  # the common case: one line, no window of its own
    cuts: set[int] = set()
    for segs, holes in uplinks:
        cuts.update(x for seg in segs for x in seg[:2])
        cuts.update(x for span in holes.all for x in span)
    out: list[Segment] = []
    planned: list[tuple[int, int]] = []
    retroactive: list[tuple[int, int]] = []
    before_install: list[tuple[int, int]] = []
    for a, b in itertools.pairwise(sorted(cuts)):
        serving = [segs for segs, holes in uplinks if not _in(holes.all, a)]
        if not serving:
            if any(_in(holes.planned, a) for _, holes in uplinks):
                planned.append((a, b))
            elif any(_in(holes.retroactive, a) for _, holes in uplinks):
                retroactive.append((a, b))
            else:
                before_install.append((a, b))
            continue
        state = min((_state_at(segs, a) for segs in serving), key=_BEST_RANK.__getitem__)
        if state == "unknown":
            continue
        if out and out[-1].state == state and out[-1].end_ms == a:
            out[-1] = Segment(out[-1].start_ms, b, state)
        else:
            out.append(Segment(a, b, state))
    return out, Holes.of(planned, retroactive, before_install)


class Buckets:
    """Time per state in each bucket ``[edges[i], edges[i+1])``, summed over the timelines added.

    One sweep per timeline instead of a ``tally`` per bucket: a year of days for 20 devices is
    7,320 buckets. Same rules as ``tally`` applied to each bucket on its own: an outage that
    crosses an edge counts in both buckets, with the down time each holds (and is resolved in
    neither: each bucket sees only one of its ends).
    """

    def __init__(self, edges: Sequence[int]) -> None:
        self.edges = list(edges)
        n = len(self.edges) - 1
        self.timelines = 0
        self.up = [0] * n
        self.degraded = [0] * n
        self.down = [0] * n
        self.planned = [0] * n
        self.retroactive = [0] * n
        self.before_install = [0] * n
        self.outages: list[list[int]] = [[] for _ in range(n)]
        self.resolved: list[list[int]] = [[] for _ in range(n)]

    @classmethod
    def of(
        cls, edges: Sequence[int], segs: Sequence[Segment], holes: Holes | Sequence[tuple[int, int]]
    ) -> Buckets:
        """The buckets of one timeline."""
        out = cls(edges)
        out.add(segs, holes)
        return out

    def add(self, segs: Sequence[Segment], holes: Holes | Sequence[tuple[int, int]]) -> None:
        """One timeline (segments in time order) with its holes."""
        edges, first, last = self.edges, self.edges[0], self.edges[-1]
        self.timelines += 1
        kinds = _holes(holes)
        if any(h1 > first and h0 < last for h0, h1 in kinds.all):
            self._spread_holes(kinds)
            segs = clip(segs, first, last, kinds.all)
        up, degraded, down, outages, resolved = (
            self.up,
            self.degraded,
            self.down,
            self.outages,
            self.resolved,
        )
        i = 0
        outage_bucket = -1  # the bucket whose last outage this timeline is still extending
        working_bucket = -1  # the last bucket in which the device was seen working
        bracketed = False  # the open outage began after a working result in its bucket
        for seg_start, seg_end, state in segs:  # hot loop: plain integers, no objects
            if state == "unknown":
                continue
            start, end = max(seg_start, first), min(seg_end, last)
            while start < end:
                while edges[i + 1] <= start:
                    i += 1
                piece_end = min(end, edges[i + 1])
                length = piece_end - start
                if state == "down":
                    down[i] += length
                    if outage_bucket == i:
                        outages[i][-1] += length
                    else:
                        outages[i].append(length)
                        outage_bucket, bracketed = i, working_bucket == i
                else:
                    if state == "up":
                        up[i] += length
                    else:
                        degraded[i] += length
                    if outage_bucket == i and bracketed:
                        resolved[i].append(outages[i][-1])
                    outage_bucket = -1
                    working_bucket = i
                start = piece_end

    def _spread_holes(self, kinds: Holes) -> None:
        first, last = self.edges[0], self.edges[-1]
        for into, spans in (
            (self.planned, kinds.planned),
            (self.retroactive, kinds.retroactive),
            (self.before_install, kinds.before_install),
        ):
            for h0, h1 in spans:
                self._spread(into, max(h0, first), min(h1, last))

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
            (self.planned, other.planned),
            (self.retroactive, other.retroactive),
            (self.before_install, other.before_install),
        ):
            for i, value in enumerate(theirs):
                mine[i] += value
        for mine_o, theirs_o in (
            *zip(self.outages, other.outages, strict=True),
            *zip(self.resolved, other.resolved, strict=True),
        ):
            mine_o.extend(theirs_o)

    def tallies(self) -> list[Tally]:
        out = []
        for i, (a, b) in enumerate(itertools.pairwise(self.edges)):
            up, degraded, down = self.up[i], self.degraded[i], self.down[i]
            planned, retro, pre = self.planned[i], self.retroactive[i], self.before_install[i]
            unknown = self.timelines * (b - a) - planned - retro - pre - up - degraded - down
            out.append(
                Tally(
                    up,
                    degraded,
                    down,
                    unknown,
                    planned + retro,
                    tuple(self.outages[i]),
                    tuple(self.resolved[i]),
                    retro,
                    pre,
                )
            )
        return out
