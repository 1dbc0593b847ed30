"""Which roll-up blocks the job wants: Vietnamese months, days and hours, completed only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.rollup_job import _wanted


def test_blocks_follow_vietnamese_calendar_and_only_completed_ones() -> None:
    now = datetime(2026, 3, 15, 3, 30, tzinfo=UTC)  # 10:30 in Hà Nội
    wanted = _wanted(now, timedelta(days=3), months=2)
    months, days, hours = wanted[:2], wanted[2:5], wanted[5:]
    assert months == [
        (datetime(2025, 12, 31, 17, tzinfo=UTC), datetime(2026, 1, 31, 17, tzinfo=UTC)),
        (datetime(2026, 1, 31, 17, tzinfo=UTC), datetime(2026, 2, 28, 17, tzinfo=UTC)),
    ]
    assert [d[0] for d in days] == [datetime(2026, 3, d, 17, tzinfo=UTC) for d in (11, 12, 13)]
    assert len(hours) == 10  # 00:00-10:00 local; the running hour is not complete
    assert hours[0][0] == datetime(2026, 3, 14, 17, tzinfo=UTC)
    assert all(end <= now for _, end in wanted)
