"""What the stores can hold, as types for request parameters and bodies.

A value outside these bounds is the caller's mistake and gets a 422 naming the field, instead of
reaching SQLite, PostgreSQL, InfluxDB or ``datetime`` arithmetic and failing there with a 500:

- row ids fit the catalog's ``Integer`` columns (PostgreSQL's int4 is the narrowest);
- instants lie between 1900 and 2200 (UTC), well inside what InfluxDB stores (nanoseconds since
  1970 in an int64: 1677–2262) and far from where an offset pushes ``datetime`` past year 1 or
  9999. Naive values are read as they are (UTC for filters, wall-clock time for maintenance);
- text holds no control character but newline and tab (``Input``, ``PlainText``): PostgreSQL
  refuses NUL in text (a 500 there), and the others only garble pages, reports and logs.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, model_validator

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


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 and C1, but tab and newline


def _plain(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters (only newline and tab)")
    return value


PlainText = Annotated[str, AfterValidator(_plain)]  # for a lone parameter (a form field)


def _check_strings(value: Any) -> None:
    if isinstance(value, str):
        _plain(value)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _check_strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key)
            _check_strings(item)


class Input(BaseModel):
    """Base of every request body and imported file entry: ``PlainText`` for every string in it
    (nested models check their own)."""

    @model_validator(mode="after")
    def _no_control_characters(self) -> Self:
        for name, value in self:
            try:
                _check_strings(value)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        return self
