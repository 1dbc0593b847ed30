"""Time-weighting rules of api/availability, checked against hand-computed values and against a
brute-force per-point sweep (hypothesis)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.availability.service import _sum, bucket_edges, figures
from api.availability.source import assemble
from api.availability.timeline import (
    Buckets,
    Run,
    Segment,
    State,
    Tally,
    merge_spans,
    outage_spans,
    remote,
    segments,
    tally,
)

S = 1000  # ms per second
UP, DEGRADED, DOWN = 2, 1, 0


def test_a_result_holds_until_the_next_one_but_at_most_the_cap() -> None:
    runs = [
        Run(0, 600 * S, UP, 60),
        Run(1000 * S, 1060 * S, DOWN, 60),
        Run(1120 * S, 1120 * S, UP, 60),
    ]
    assert segments(runs, 3.0) == [
        Segment(0, 780 * S, "up"),  # last up result at 600 s holds 3 × 60 s
        Segment(1000 * S, 1120 * S, "down"),  # holds until the next result (60 s < cap)
        Segment(1120 * S, 1300 * S, "up"),
    ]


def test_runs_cut_at_a_block_boundary_join_again() -> None:
    cut = [Run(0, 540 * S, UP, 60), Run(600 * S, 900 * S, UP, 60)]
    assert segments(cut, 3.0) == [Segment(0, 1080 * S, "up")]


def test_unknown_is_neither_up_nor_down_and_maintenance_is_out_of_both() -> None:
    segs = [Segment(0, 100 * S, "up"), Segment(200 * S, 300 * S, "down")]
    t = tally(segs, 0, 400 * S, merge_spans([(250 * S, 260 * S), (255 * S, 270 * S)]))
    assert t == Tally(
        up_ms=100 * S,
        degraded_ms=0,
        down_ms=80 * S,
        unknown_ms=200 * S,
        maintenance_ms=20 * S,
        outages_ms=(80 * S,),
    )
    f = figures(t)
    assert f.availability == pytest.approx(100 * 100 / 180)
    assert f.coverage == pytest.approx(100 * 180 / 380)
    # Never seen working again inside the window: counted, but its duration is not known.
    assert (f.outages, f.outages_resolved, f.longest_outage_s, f.mttr_s) == (1, 0, 80, None)


def test_an_outage_ends_only_when_the_device_is_seen_working() -> None:
    segs = [
        Segment(0, 10 * S, "down"),
        Segment(50 * S, 60 * S, "down"),  # unknown between: same outage
        Segment(60 * S, 70 * S, "degraded"),  # seen working: ends it
        Segment(70 * S, 100 * S, "down"),
    ]
    t = tally(segs, 0, 100 * S, [])
    assert t.outages_ms == (20 * S, 30 * S)
    # The first is in progress at the window's start, the second at its end: neither resolved.
    assert t.resolved_ms == ()
    assert figures(t).mttr_s is None
    spans = outage_spans(segs, 0, 100 * S, [])
    assert [(o[0].start_ms, o[-1].end_ms) for o in spans] == [(0, 60 * S), (70 * S, 100 * S)]


def test_no_observation_means_no_availability_rather_than_zero() -> None:
    f = figures(tally([], 0, 100 * S, []))
    assert f.availability is None
    assert f.coverage == 0
    assert f.mttr_s is None


def test_remote_is_camera_healthy_and_uplink_up_at_the_same_instant() -> None:
    camera = [
        Segment(0, 40 * S, "up"),
        Segment(40 * S, 60 * S, "down"),
        Segment(60 * S, 100 * S, "up"),
    ]
    uplink = [
        Segment(0, 20 * S, "up"),
        Segment(20 * S, 50 * S, "down"),
        Segment(70 * S, 100 * S, "up"),
    ]
    assert remote(camera, uplink) == [
        Segment(0, 20 * S, "up"),
        Segment(20 * S, 60 * S, "down"),  # uplink down, then camera down
        Segment(70 * S, 100 * S, "up"),  # 60–70 s: uplink unknown, camera up → unknown
    ]


def _remote_by_cut_points(camera: list[Segment], uplink: list[Segment]) -> list[Segment]:
    """Reference: the combined state on every stretch between two consecutive boundaries."""
    rank: dict[State, int] = {"down": 0, "unknown": 1, "degraded": 2, "up": 3}
    cuts = sorted({s.start_ms for s in (*camera, *uplink)} | {s.end_ms for s in (*camera, *uplink)})
    out: list[Segment] = []
    for a, b in itertools.pairwise(cuts):
        unknown: State = "unknown"
        cam = next((s.state for s in camera if s.start_ms <= a < s.end_ms), unknown)
        upl = next((s.state for s in uplink if s.start_ms <= a < s.end_ms), unknown)
        state = min(cam, upl, key=rank.__getitem__)
        if state == "unknown":
            continue
        if out and out[-1].end_ms == a and out[-1].state == state:
            out[-1] = Segment(out[-1].start_ms, b, state)
        else:
            out.append(Segment(a, b, state))
    return out


def _timeline(cuts: list[int], states: list[State | None]) -> list[Segment]:
    return [
        Segment(a, b, state)
        for (a, b), state in zip(itertools.pairwise(sorted(cuts)), states, strict=False)
        if state is not None
    ]


_STATES = st.lists(st.sampled_from(["up", "degraded", "down", None]), min_size=20, max_size=20)
_CUTS = st.lists(st.integers(0, 1000), min_size=0, max_size=20, unique=True)


@settings(max_examples=300, deadline=None)
@given(camera_cuts=_CUTS, camera_states=_STATES, uplink_cuts=_CUTS, uplink_states=_STATES)
def test_remote_walk_equals_the_state_between_every_two_boundaries(
    camera_cuts: list[int],
    camera_states: list[State | None],
    uplink_cuts: list[int],
    uplink_states: list[State | None],
) -> None:
    camera = _timeline(camera_cuts, camera_states)
    uplink = _timeline(uplink_cuts, uplink_states)
    assert remote(camera, uplink) == _remote_by_cut_points(camera, uplink)


def test_change_rows_rebuild_the_runs() -> None:
    # points every 60 s: up 0..240, down 300..360, gap, up 720..780
    changes = [(300 * S, -2, 60 * S), (720 * S, 2, 360 * S)]
    assert assemble(0, UP, changes, 780 * S, lambda _: 60) == [
        Run(0, 240 * S, UP, 60),
        Run(300 * S, 360 * S, DOWN, 60),
        Run(720 * S, 780 * S, UP, 60),
    ]


def test_days_are_vietnamese_calendar_days() -> None:
    start = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    end = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
    edges = bucket_edges(int(start.timestamp() * S), int(end.timestamp() * S), None)
    assert [datetime.fromtimestamp(e / S, UTC).hour for e in edges] == [10, 17, 17, 0]
    hourly = bucket_edges(int(start.timestamp() * S), int(end.timestamp() * S), timedelta(hours=6))
    # 6-hour steps from local midnight (17:00 UTC): 23:00, 05:00, 11:00, 17:00 UTC
    assert [datetime.fromtimestamp(e / S, UTC).hour for e in hourly[:4]] == [10, 11, 17, 23]


def _brute(points: list[tuple[int, int]], cap: int, window: tuple[int, int]) -> dict[str, int]:
    """Per point: it holds until the next point, at most ``cap``."""
    out = {"up": 0, "degraded": 0, "down": 0}
    names = {UP: "up", DEGRADED: "degraded", DOWN: "down"}
    for i, (t, code) in enumerate(points):
        end = t + cap if i + 1 == len(points) else min(points[i + 1][0], t + cap)
        out[names[code]] += max(0, min(end, window[1]) - max(t, window[0]))
    return out


@settings(max_examples=300, deadline=None)
@given(
    gaps=st.lists(st.integers(1, 400), min_size=1, max_size=40),
    codes=st.lists(st.sampled_from([UP, DEGRADED, DOWN]), min_size=40, max_size=40),
    window=st.tuples(st.integers(-100, 3000), st.integers(1, 9000)),
    split=st.sampled_from([1.5, 3.0]),
    cut_at=st.integers(0, 40),
)
def test_runs_give_the_same_seconds_as_every_point(
    gaps: list[int], codes: list[int], window: tuple[int, int], split: float, cut_at: int
) -> None:
    interval, stale = 60, 3.0
    times = [0]
    for g in gaps[:-1]:
        times.append(times[-1] + g * S)
    points = list(zip(times, codes, strict=False))
    # What InfluxDB returns: rows where the status changed or a gap above the threshold began.
    changes = [
        (t, c - points[i - 1][1], t - points[i - 1][0])
        for i, (t, c) in enumerate(points)
        if i and (c != points[i - 1][1] or t - points[i - 1][0] > interval * split * S)
    ]
    runs = assemble(points[0][0], points[0][1], changes, points[-1][0], lambda _: interval)
    w0, w1 = window[0] * S, (window[0] + window[1]) * S
    t = tally(segments(runs, stale), w0, w1, [])
    expected = _brute(points, int(interval * stale * S), (w0, w1))
    assert (t.up_ms, t.degraded_ms, t.down_ms) == (
        expected["up"],
        expected["degraded"],
        expected["down"],
    )
    assert t.unknown_ms == (w1 - w0) - sum(expected.values())
    # Roll-up blocks: runs assembled per block and put together give the same seconds.
    cut = cut_at % len(points)
    blocks = [points[:cut], points[cut:]]
    split_runs = [
        run
        for block in blocks
        if block
        for run in assemble(
            block[0][0],
            block[0][1],
            [
                (t, c - block[i - 1][1], t - block[i - 1][0])
                for i, (t, c) in enumerate(block)
                if i and (c != block[i - 1][1] or t - block[i - 1][0] > interval * split * S)
            ],
            block[-1][0],
            lambda _: interval,
        )
    ]
    assert tally(segments(split_runs, stale), w0, w1, []) == t


def _sorted_outages(t: Tally) -> Tally:
    return t._replace(outages_ms=tuple(sorted(t.outages_ms)))


@settings(max_examples=300, deadline=None)
@given(
    cuts=st.lists(st.integers(0, 10_000), min_size=2, max_size=30, unique=True),
    states=st.lists(st.sampled_from(["up", "degraded", "down", None]), min_size=30, max_size=30),
    step=st.integers(50, 3000),
    window=st.tuples(st.integers(0, 5_000), st.integers(1, 10_000)),
    hole=st.tuples(st.integers(0, 10_000), st.integers(0, 2000)),
)
def test_bucket_sweep_equals_a_tally_per_bucket(
    cuts: list[int],
    states: list[State | None],
    step: int,
    window: tuple[int, int],
    hole: tuple[int, int],
) -> None:
    """``Buckets`` sweeps a timeline once; each bucket must equal ``tally`` over that bucket
    alone (window edges may cut segments; a hole may cut buckets), and buckets of several
    timelines must add up like their tallies."""
    points = sorted(cuts)
    segs = [
        Segment(a * S, b * S, state)
        for (a, b), state in zip(itertools.pairwise(points), states, strict=False)
        if state is not None
    ]
    first, last = window[0] * S, (window[0] + window[1]) * S
    edges = [*range(first, last, step * S), last]
    for holes in ([], [(hole[0] * S, (hole[0] + hole[1]) * S)]):
        expected = [tally(segs, a, b, holes) for a, b in itertools.pairwise(edges)]
        assert Buckets.of(edges, segs, holes).tallies() == expected
        both = Buckets.of(edges, segs, holes)
        both.merge(Buckets.of(edges, segs[::2], []))
        halves = [tally(segs[::2], a, b, []) for a, b in itertools.pairwise(edges)]
        assert [_sorted_outages(t) for t in both.tallies()] == [
            _sorted_outages(_sum([t, h])) for t, h in zip(expected, halves, strict=True)
        ]
