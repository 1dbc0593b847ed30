"""A fast InfluxDB line-protocol formatter that escapes exactly as ``influxdb_client.Point``.

Values that line protocol cannot carry faithfully are refused with ``UnwritableValue`` instead
of being stored mangled: NaN and infinities, control characters in names and tags, a tag value
that ends in a backslash (``Point`` appends a space to it), a measurement starting with ``#``
(a comment to InfluxDB), empty keys and tag values.
"""

from __future__ import annotations

import functools
import math
import re
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


# Unicode category Cc is exactly U+0000-U+001F and U+007F-U+009F.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CACHE = 1 << 16  # names repeat (kinds, device ids, field keys): escape each once


def _check_name(value: str, what: str) -> str:
    if not value:
        raise UnwritableValue(f"{what} is empty")
    if _CONTROL.search(value):
        raise UnwritableValue(f"{what} {value[:60]!r} contains a control character")
    if value.endswith("\\"):
        raise UnwritableValue(f"{what} {value[:60]!r} ends with a backslash")
    return value


@functools.lru_cache(maxsize=_CACHE)
def _measurement(value: str) -> str:
    if value.startswith("#"):
        raise UnwritableValue(f"measurement {value[:60]!r} starts with '#' (a comment)")
    return _check_name(value, "measurement").translate(_ESCAPE_MEASUREMENT)


@functools.lru_cache(maxsize=_CACHE)
def _key(value: str, what: str) -> str:
    return _check_name(value, what).translate(_ESCAPE_KEY)


@functools.lru_cache(maxsize=_CACHE)
def _tag(key: str, value: str) -> str:
    if value == "":
        raise UnwritableValue(f"tag {key!r} is empty")
    return f",{_key(key, 'tag key')}={_check_name(value, f'tag {key!r}').translate(_ESCAPE_KEY)}"


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


@functools.lru_cache(maxsize=_CACHE)
def _field_key(key: str) -> str:
    return _key(key, "field key") + "="


def field_value(value: FieldValue, key: str) -> str:
    """One field value as line protocol (``key`` names it in errors): a fast path for exact
    built-in types, the common case, with the same output as ``_field``."""
    if type(value) is float:
        if not math.isfinite(value):
            return _field(value, key)  # raises with the field's name
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    if type(value) is str:
        if '"' in value or "\\" in value:
            return '"' + value.translate(_ESCAPE_STRING) + '"'
        return f'"{value}"'
    if type(value) is int:
        return f"{value}i"
    return _field(value, key)


def timestamp_ns(moment: datetime) -> int:
    """Nanoseconds since the epoch, exact to the microsecond (no float rounding)."""
    return (moment - _EPOCH) // timedelta(microseconds=1) * _NS_PER_US


def tag_text(key: str, value: str) -> str:
    """One escaped ``,key=value`` (cached: tag values repeat)."""
    return _tag(key, value)


def tags_text(tags: Mapping[str, str]) -> str:
    """The escaped ``,key=value`` part of a series key, tags sorted by key as ``Point`` does."""
    return "".join([_tag(key, tags[key]) for key in sorted(tags)])


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
    head = _measurement(measurement) + "".join([_tag(key, tags[key]) for key in sorted(tags)])
    body = ",".join([_field_key(key) + field_value(fields[key], key) for key in sorted(fields)])
    return f"{head} {body} {time_ns}"
