"""A fast InfluxDB line-protocol formatter that escapes exactly as ``influxdb_client.Point``.

Values that line protocol cannot carry faithfully are refused with ``UnwritableValue`` instead
of being stored mangled: NaN and infinities, control characters in names and tags, a tag value
that ends in a backslash (``Point`` appends a space to it), a measurement starting with ``#``
(a comment to InfluxDB), empty keys and tag values.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

_ESCAPE_MEASUREMENT = str.maketrans({",": r"\,", " ": r"\ "})
_ESCAPE_KEY = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ "})
_ESCAPE_STRING = str.maketrans({'"': r"\"", "\\": r"\\"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NS_PER_US = 1000

FieldValue = bool | int | float | str


class UnwritableValue(ValueError):
    """A value line protocol cannot store faithfully; the message names it."""


def _check_name(value: str, what: str) -> str:
    if not value:
        raise UnwritableValue(f"{what} is empty")
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise UnwritableValue(f"{what} {value[:60]!r} contains a control character")
    if value.endswith("\\"):
        raise UnwritableValue(f"{what} {value[:60]!r} ends with a backslash")
    return value


def _field(value: FieldValue, key: str) -> str:
    # bool before int: bool is a subclass of int.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UnwritableValue(f"field {key!r} is {value} (NaN and infinities cannot be stored)")
        text = str(value)
        return text[:-2] if text.endswith(".0") else text  # whole numbers stay floats without ".0"
    return '"' + value.translate(_ESCAPE_STRING) + '"'


def timestamp_ns(moment: datetime) -> int:
    """Nanoseconds since the epoch, exact to the microsecond (no float rounding)."""
    return (moment - _EPOCH) // timedelta(microseconds=1) * _NS_PER_US


def line(
    measurement: str,
    tags: Mapping[str, str],
    fields: Mapping[str, FieldValue],
    time_ns: int,
) -> str:
    """One point. Tags and fields are sorted by key, as ``Point`` does. ``Point`` drops empty tag
    values; we refuse them, since a dropped tag would silently merge two series."""
    if not fields:
        raise UnwritableValue(f"point of {measurement!r} has no fields")
    if measurement.startswith("#"):
        raise UnwritableValue(f"measurement {measurement[:60]!r} starts with '#' (a comment)")
    parts = [_check_name(measurement, "measurement").translate(_ESCAPE_MEASUREMENT)]
    for key in sorted(tags):
        value = tags[key]
        if value == "":
            raise UnwritableValue(f"tag {key!r} is empty")
        parts.append(
            f",{_check_name(key, 'tag key').translate(_ESCAPE_KEY)}"
            f"={_check_name(value, f'tag {key!r}').translate(_ESCAPE_KEY)}"
        )
    body = ",".join(
        f"{_check_name(key, 'field key').translate(_ESCAPE_KEY)}={_field(value, key)}"
        for key, value in sorted(fields.items())
    )
    return f"{''.join(parts)} {body} {time_ns}"
