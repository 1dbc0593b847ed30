"""The login throttle's arithmetic, on a clock the test turns by hand."""

from __future__ import annotations

from api.throttle import LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_free_failures_then_doubling_locks_capped() -> None:
    clock = Clock()
    throttle = LoginThrottle(free=3, base_s=10, max_s=60, forget_s=600, clock=clock)
    assert [throttle.failed("a") for _ in range(3)] == [0, 0, 0]
    assert throttle.retry_after("a") == 0
    assert throttle.failed("a") == 10
    assert throttle.retry_after("a") == 10
    clock.now += 4
    assert throttle.retry_after("a") == 6
    assert throttle.retry_after("b") == 0  # names are counted apart
    clock.now += 6
    assert throttle.retry_after("a") == 0
    assert [throttle.failed("a") for _ in range(4)] == [20, 40, 60, 60]


def test_success_clears_and_quiet_time_forgets() -> None:
    clock = Clock()
    throttle = LoginThrottle(free=1, base_s=10, max_s=60, forget_s=100, clock=clock)
    throttle.failed("a")
    throttle.succeeded("a")
    assert throttle.failed("a") == 0  # counting starts again
    clock.now += 101
    assert throttle.failed("a") == 0  # the old failure was forgotten
    assert throttle.failed("a") == 10


def test_the_table_is_bounded_and_counts_what_it_drops() -> None:
    throttle = LoginThrottle(free=0, capacity=2, clock=Clock())
    for name in ("a", "b", "c"):
        throttle.failed(name)
    assert throttle.evicted == 1
    assert throttle.retry_after("a") == 0  # the stalest went first
    assert throttle.retry_after("c") > 0
