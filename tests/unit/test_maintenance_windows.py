"""Recurring maintenance windows expand to the right UTC intervals however long ago they began."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from catalog.maintenance import MAX_OCCURRENCES, intervals
from catalog.models import MaintenanceWindow


def _daily_since(year: int) -> MaintenanceWindow:
    return MaintenanceWindow(
        id=7,
        area_id="son-vi-khu-6",
        device_id=None,
        starts_local=datetime(year, 1, 1, 6),
        ends_local=datetime(year, 1, 1, 8),
        timezone="Asia/Ho_Chi_Minh",
        recurrence="daily",
        until_local=None,
        reason="Khởi động lại bộ định tuyến mỗi sáng",
    )


def test_a_daily_window_planned_years_ago_still_excludes_today() -> None:
    window = _daily_since(2000)  # more than MAX_OCCURRENCES days before the query
    assert (datetime(2026, 11, 10) - window.starts_local).days > MAX_OCCURRENCES
    found = intervals(
        [window], datetime(2026, 11, 10, tzinfo=UTC), datetime(2026, 11, 12, tzinfo=UTC)
    )
    # 06:00-08:00 in Hà Nội is 23:00-01:00 UTC; the query clips the first and the last.
    assert [(iv.start, iv.end) for iv in found] == [
        (datetime(2026, 11, 10, 0, tzinfo=UTC), datetime(2026, 11, 10, 1, tzinfo=UTC)),
        (datetime(2026, 11, 10, 23, tzinfo=UTC), datetime(2026, 11, 11, 1, tzinfo=UTC)),
        (datetime(2026, 11, 11, 23, tzinfo=UTC), datetime(2026, 11, 12, 0, tzinfo=UTC)),
    ]


def _counted(
    window: MaintenanceWindow, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The reference: every repetition from the first one, clipped to [start, end)."""
    zone = ZoneInfo(window.timezone)
    out = []
    for day in range(20_000):
        first = (window.starts_local + timedelta(days=day)).replace(tzinfo=zone).astimezone(UTC)
        last = (window.ends_local + timedelta(days=day)).replace(tzinfo=zone).astimezone(UTC)
        if first >= end:
            break
        if last > start:
            out.append((max(first, start), min(last, end)))
    return out


def test_skipping_ahead_finds_what_counting_from_the_first_repetition_finds() -> None:
    window = _daily_since(2026)
    for start, end in [
        (datetime(2025, 6, 1, tzinfo=UTC), datetime(2026, 1, 3, tzinfo=UTC)),  # before it began
        (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 8, tzinfo=UTC)),
        (datetime(2026, 3, 1, 0, 30, tzinfo=UTC), datetime(2026, 3, 1, 0, 45, tzinfo=UTC)),
        (datetime(2040, 12, 31, 23, tzinfo=UTC), datetime(2041, 1, 2, tzinfo=UTC)),
    ]:
        found = [(iv.start, iv.end) for iv in intervals([window], start, end)]
        assert found == _counted(window, start, end), (start, end)
