"""The roll-up job: keeps every area's availability blocks built and fresh.

Long windows (30 days, a year) are answered from materialized blocks of runs (see
docs/availability.md); this job builds them: each completed hour, each completed Vietnamese day
(which then supersedes its hours), and rebuilds the recent blocks that late data (an agent's
outbox draining after a fibre cut) made stale. Without it every answer is still exact, only
slower, read from raw points.

    python -m api rollup-job            # every 5 minutes until stopped
    python -m api rollup-job --once --months 12   # also backfill a year of month blocks
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from api.availability.source import blocks, materialize, refresh
from tsdb.influxql import InfluxQL, QueryError
from tsdb.writer import WriteError, Writer

logger = logging.getLogger(__name__)
VN = ZoneInfo("Asia/Ho_Chi_Minh")
HOUR = timedelta(hours=1)


@dataclass
class Tally:
    built: int = 0
    rebuilt: int = 0
    failed_areas: int = 0


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _month_start(moment: datetime) -> datetime:
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _wanted(now: datetime, catch_up: timedelta, months: int = 0) -> list[tuple[datetime, datetime]]:
    """Completed local months (``months`` back), completed local days within ``catch_up``, and
    the completed hours of the current local day. A larger block supersedes those inside it."""
    today = now.astimezone(VN).replace(hour=0, minute=0, second=0, microsecond=0)
    wanted = []
    this_month = _month_start(today)
    month = this_month
    for _ in range(months):
        month = _month_start(month - timedelta(days=1))
    while month < this_month:
        following = _month_start(month + timedelta(days=32))
        wanted.append((month.astimezone(UTC), following.astimezone(UTC)))
        month = following
    day = today - timedelta(days=max(1, catch_up.days))
    while day < today:
        wanted.append((day.astimezone(UTC), (day + timedelta(days=1)).astimezone(UTC)))
        day += timedelta(days=1)
    hour = today.astimezone(UTC)
    while hour + HOUR <= now:
        wanted.append((hour, hour + HOUR))
        hour += HOUR
    return wanted


def run_once(
    influx: InfluxQL,
    writer: Writer,
    area_ids: list[str],
    now: datetime,
    catch_up: timedelta,
    months: int = 0,
) -> Tally:
    tally = Tally()
    wanted = _wanted(now, catch_up, months)
    if not wanted:
        return tally
    first = min(start for start, _ in wanted)
    for area_id in area_ids:
        try:
            have = blocks(influx, area_id, _ms(first), _ms(now))
            for start, end in wanted:
                # Built already, on its own or inside a larger block (a day in its month).
                if not any(s <= _ms(start) and _ms(end) <= e for s, e, _ in have):
                    materialize(influx, writer, area_id, start, end)
                    tally.built += 1
            tally.rebuilt += len(refresh(influx, writer, area_id, now - catch_up, now))
        except (QueryError, WriteError) as exc:
            tally.failed_areas += 1
            logger.warning("roll-up of %s failed this round: %s", area_id, exc)
    return tally
