"""The one backoff formula of the server side: capped, exponential, jittered."""

from __future__ import annotations

import random

from servicekit.backoff import backoff_s


def test_each_wait_lies_in_the_upper_half_of_its_capped_step() -> None:
    rng = random.Random(18)
    for attempt in range(80):
        step = min(30.0, 1.0 * 2**attempt)
        waits = [backoff_s(attempt, 1.0, 30.0, rng) for _ in range(200)]
        assert all(step / 2 <= w <= step for w in waits), attempt
        assert max(waits) - min(waits) > step / 4, "spread: services restarted together part"


def test_huge_attempt_numbers_stay_at_the_cap() -> None:
    assert 15.0 <= backoff_s(10**6, 1.0, 30.0) <= 30.0
