"""Is it day or night where the camera is? From the agent's local clock, cautiously.

The day/night checks (``ir_stuck``) only judge when the answer is clear: full day or full night.
Around dawn and dusk the answer is None and they stay silent, so a camera switching to IR night
mode at dusk is never a fault. The hours fit Vietnam (sunrise 5:15-6:15, sunset 17:15-18:30 over
the year, in Asia/Ho_Chi_Minh, which the agent's PC runs in).
"""

from __future__ import annotations

import time

DAY_HOURS = (7.5, 16.5)  # clearly day between these local hours
NIGHT_HOURS = (19.5, 4.5)  # clearly night from the first to the second, across midnight


def daylight_at(hour: float) -> bool | None:
    """True in full day, False in full night, None at dawn and dusk (``hour``: 0-24, local)."""
    if DAY_HOURS[0] <= hour < DAY_HOURS[1]:
        return True
    if hour >= NIGHT_HOURS[0] or hour < NIGHT_HOURS[1]:
        return False
    return None


def daylight_now() -> bool | None:
    now = time.localtime()
    return daylight_at(now.tm_hour + now.tm_min / 60)
