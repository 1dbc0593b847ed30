"""Time zones that pin the camera's day/night check, so a test's verdict does not depend on the hour
at which the suite happens to run."""

from __future__ import annotations

import datetime

from edge.camera.daynight import daylight_at, daylight_now


def zone_at(local_hour: int) -> str:
    """A fixed-offset IANA zone in which it is about ``local_hour`` o'clock now."""
    now = datetime.datetime.now(datetime.UTC)
    offset = round(local_hour - (now.hour + now.minute / 60))
    offset = (offset + 12) % 24 - 12  # -12 .. +11, all of which Etc/GMT spells
    name = f"Etc/GMT{-offset:+d}"  # POSIX sign: Etc/GMT-7 is UTC+7
    assert daylight_now(name) is daylight_at(local_hour), name  # within half an hour of it
    return name


def midday_zone() -> str:
    return zone_at(12)


def midnight_zone() -> str:
    return zone_at(0)
