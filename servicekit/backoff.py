"""Capped exponential backoff with jitter: one formula for every retry of the server side.

The n-th wait (n from 0) is drawn uniformly from the upper half of ``min(cap, base * 2**n)``:
never shorter than half the plain exponential step, so a broken peer is not hammered, and spread,
so services restarted together (after a power cut) do not retry in step. The edge agent keeps its
own (``edge.link``): it may not import server code.
"""

from __future__ import annotations

import random


def backoff_s(attempt: int, base_s: float, cap_s: float, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number ``attempt`` (0 for the first retry)."""
    step = min(cap_s, base_s * 2 ** min(attempt, 62))
    return (rng or random).uniform(step / 2, step)
