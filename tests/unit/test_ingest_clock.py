"""Per-agent clock offset: the lower envelope of arrival − sending time."""

from __future__ import annotations

from ingest.clock import ClockOffsets

AGENT = ("son-vi-khu-6", "nvh")


def test_the_smallest_sample_wins_delay_and_backlog_only_raise_samples() -> None:
    clock = ClockOffsets(window_s=600)
    true_offset = -3.0  # the agent's clock runs 3 s ahead of the server
    delays = [0.8, 0.05, 2.5, 40.0, 0.3]  # network delay, then a replayed backlog
    for n, delay in enumerate(delays):
        estimate = clock.sample(AGENT, true_offset + delay, now=1000.0 + n)
    assert abs(estimate - (true_offset + 0.05)) < 1e-9
    assert clock.beyond(2.0) == 1
    assert clock.beyond(5.0) == 0


def test_a_stepped_clock_is_followed_within_one_window() -> None:
    clock = ClockOffsets(window_s=600)
    for t in range(0, 300, 10):
        clock.sample(AGENT, 5.0, now=float(t))
    for t in range(300, 1000, 10):  # NTP fixed the agent's clock at t=300
        estimate = clock.sample(AGENT, 0.1, now=float(t))
    assert estimate == 0.1
    later = ClockOffsets(window_s=600)
    for t in range(0, 300, 10):
        later.sample(AGENT, 0.1, now=float(t))
    for t in range(300, 1000, 10):  # the agent's clock jumped back: offsets rise
        estimate = later.sample(AGENT, 4.0, now=float(t))
    assert estimate == 4.0


def test_agents_are_separate_and_memory_is_bounded() -> None:
    clock = ClockOffsets(window_s=60, max_agents=3)
    for n in range(3):
        clock.sample((f"area-{n}", "nvh"), float(n), now=0.0)
    assert clock.estimate(("area-2", "nvh")) == 2.0
    clock.sample(("area-9", "nvh"), 9.0, now=500.0)  # full: agents silent for 2 windows go
    assert len(clock) == 1
    assert clock.estimate(("area-0", "nvh")) is None
