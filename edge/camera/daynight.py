"""Is it day or night where the camera is? From the clock in the site's time zone, cautiously.

The day/night checks (``ir_stuck``) only judge when the answer is clear: full day or full night.
Around dawn and dusk the answer is None and they stay silent, so a camera switching to IR night
mode at dusk is never a fault. The hours fit Vietnam (sunrise 5:15-6:15, sunset 17:15-18:30 over
the year). They are read in the agent's ``timezone`` (Asia/Ho_Chi_Minh unless configured), not
in the PC's own zone: a PC left on UTC would otherwise call 20:00 in Sơn Vi "day".
"""

from __future__ import annotations

import datetime
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator

SITE_ZONE = "Asia/Ho_Chi_Minh"
DAY_HOURS = (7.5, 16.5)  # clearly day between these local hours
NIGHT_HOURS = (19.5, 4.5)  # clearly night from the first to the second, across midnight


def _known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as {SITE_ZONE!r}"
        ) from None
    return name


ZoneName = Annotated[str, AfterValidator(_known_zone)]


def daylight_at(hour: float) -> bool | None:
    """True in full day, False in full night, None at dawn and dusk (``hour``: 0-24, local)."""
    if DAY_HOURS[0] <= hour < DAY_HOURS[1]:
        return True
    if hour >= NIGHT_HOURS[0] or hour < NIGHT_HOURS[1]:
        return False
    return None


def daylight_now(zone: str = SITE_ZONE) -> bool | None:
    now = datetime.datetime.now(ZoneInfo(zone))
    return daylight_at(now.hour + now.minute / 60)
