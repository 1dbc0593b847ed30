"""Maintenance windows in local time (Asia/Ho_Chi_Minh), one-off or recurring, as UTC intervals.

Windows are kept as wall-clock times in their zone and expanded on demand, so "every Sunday
06:00–08:00" stays 06:00–08:00 local whatever the UTC offset does. Availability excludes the
intervals; alerts (later) mute them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from catalog.models import MaintenanceWindow

STEP = {"none": None, "daily": timedelta(days=1), "weekly": timedelta(days=7)}
MAX_OCCURRENCES = 5000


@dataclass(frozen=True, slots=True)
class Interval:
    start: datetime  # UTC
    end: datetime  # UTC
    window_id: int
    device_id: str | None
    reason: str
    created_by: str | None = None
    created_at: datetime | None = None  # later than ``start``: declared after the fact


def occurrences(window: MaintenanceWindow, start: datetime, end: datetime) -> list[Interval]:
    """The UTC intervals of ``window`` that overlap [start, end)."""
    zone = ZoneInfo(window.timezone)
    step = STEP[window.recurrence]
    out: list[Interval] = []
    local_start, local_end = window.starts_local, window.ends_local
    if step is not None:
        # Skip the repetitions that ended a day or more before ``start`` (a day covers any change
        # of UTC offset): counted from the first one, a window repeated daily for years ran out
        # of MAX_OCCURRENCES before it reached ``start`` and was silently not excluded.
        skip = max(0, (start.astimezone(zone).replace(tzinfo=None) - local_end) // step - 1)
        local_start, local_end = local_start + skip * step, local_end + skip * step
    for _ in range(MAX_OCCURRENCES):
        if window.until_local is not None and local_start > window.until_local:
            break
        utc_start = local_start.replace(tzinfo=zone).astimezone(UTC)
        utc_end = local_end.replace(tzinfo=zone).astimezone(UTC)
        if utc_start >= end:
            break
        if utc_end > start:
            out.append(
                Interval(
                    max(utc_start, start),
                    min(utc_end, end),
                    window.id,
                    window.device_id,
                    window.reason,
                    window.created_by,
                    window.created_at,
                )
            )
        if step is None:
            break
        local_start, local_end = local_start + step, local_end + step
    return out


def intervals(
    windows: Iterable[MaintenanceWindow], start: datetime, end: datetime
) -> list[Interval]:
    found = [iv for w in windows for iv in occurrences(w, start, end)]
    return sorted(found, key=lambda iv: (iv.start, iv.window_id))
