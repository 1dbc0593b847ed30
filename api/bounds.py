"""What the stores can hold, as types for request parameters and bodies.

A value outside these bounds is the caller's mistake and gets a 422 naming the field, instead of
reaching SQLite, PostgreSQL, InfluxDB or ``datetime`` arithmetic and failing there with a 500:

- row ids fit the catalog's ``Integer`` columns (PostgreSQL's int4 is the narrowest);
- instants lie between 1900 and 2200 (UTC), well inside what InfluxDB stores (nanoseconds since
  1970 in an int64: 1677–2262) and far from where an offset pushes ``datetime`` past year 1 or
  9999. Naive values are read as they are (UTC for filters, wall-clock time for maintenance).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator

ROW_ID_MAX = 2**31 - 1
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _within_range(value: datetime) -> datetime:
    try:
        utc = value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    except OverflowError:  # year 1 or 9999, pushed out of range by its offset
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise ValueError("must lie between 1900-01-01 and 2200-01-01")
    return value


Instant = Annotated[datetime, AfterValidator(_within_range)]
