"""The API's rate limits on a real SQLite catalog, on a clock the test turns by hand; and two
throttles on one database (two API workers) counting together."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from api.throttle import Cooldown, LoginThrottle
from catalog.db import Catalog, migrate


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    db = Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    migrate(db.engine)
    return db


def test_free_failures_then_doubling_locks_capped(catalog: Catalog) -> None:
    clock = Clock()
    throttle = LoginThrottle(catalog, free=3, base_s=10, max_s=60, forget_s=600, clock=clock)
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


def test_success_clears_and_quiet_time_forgets(catalog: Catalog) -> None:
    clock = Clock()
    throttle = LoginThrottle(catalog, free=1, base_s=10, max_s=60, forget_s=100, clock=clock)
    throttle.failed("a")
    throttle.succeeded("a")
    assert throttle.failed("a") == 0  # counting starts again
    clock.now += 101
    assert throttle.failed("a") == 0  # the old failure was forgotten
    assert throttle.failed("a") == 10


def test_the_table_is_bounded_but_never_unlocks_a_name_under_attack(catalog: Catalog) -> None:
    clock = Clock()
    throttle = LoginThrottle(catalog, free=1, base_s=10, capacity=2, clock=clock)
    for _ in range(2):
        throttle.failed("target")  # locked now
    for name in ("x", "y", "z"):
        clock.now += 1
        throttle.failed(name)  # free failures: not locked
    assert throttle.evicted == 2  # x, then y: the stalest unlocked names
    assert throttle.retry_after("target") > 0  # a flood of names did not free the target
    assert throttle.failed("z") == 10  # z was kept: its first failure still counts


def test_two_workers_on_one_catalog_count_every_failure_together(catalog: Catalog) -> None:
    """Two throttles (two API processes) hammering one name from eight threads: every failure
    counts once, so the lock is exactly what the total number of failures gives."""
    clock = Clock()
    workers = [
        LoginThrottle(Catalog(str(catalog.engine.url)), free=50, base_s=1, max_s=10**6, clock=clock)
        for _ in range(2)
    ]

    def guess(throttle: LoginThrottle) -> None:
        for _ in range(15):
            throttle.failed("admin")

    threads = [threading.Thread(target=guess, args=(workers[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 120 failures, 50 free: the 70th locked one locks for 2**69 s capped at max_s
    assert workers[0].failed("admin") == 10**6
    assert workers[1].retry_after("admin") == 10**6


def test_the_command_cooldown_is_one_turn_for_all_workers(catalog: Catalog) -> None:
    clock = Clock()
    first, second = (
        Cooldown(catalog, 15, clock),
        Cooldown(Catalog(str(catalog.engine.url)), 15, clock),
    )
    agent = ("son-vi-khu-6", "nvh")
    assert first.take(agent) == 0
    assert second.take(agent) == 15  # the other worker sees the turn taken
    assert first.take(("son-vi-khu-6", "other")) == 0  # agents apart
    clock.now += 10
    assert second.take(agent) == 5
    second.give_back(agent)  # e.g. the broker was away: the turn is returned
    assert first.take(agent) == 0
    clock.now += 15
    assert second.take(agent) == 0
