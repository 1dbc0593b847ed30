"""Our line-protocol formatter writes exactly what influxdb_client.Point writes, or refuses."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from influxdb_client.client.write.point import Point
from influxdb_client.domain.write_precision import WritePrecision

from tsdb.lineprotocol import UnwritableValue, line

# Printable text (no control characters), not ending in a backslash: what we accept.
_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=30
).filter(lambda s: not s.endswith("\\"))
_tricky = st.sampled_from(
    ["a b", "a,b", "a=b", 'q"uote', "back\\slash", "Sơn Vi", "Phúc Khánh", "x\\ y"]
)
_names = st.one_of(_text, _tricky)
_values = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
)


def _point(measurement: str, tags: dict[str, str], fields: dict[str, object], ns: int) -> str:
    point = Point(measurement)
    for key in sorted(tags):
        point.tag(key, tags[key])
    for key, value in fields.items():
        point.field(key, value)
    point.time(ns, WritePrecision.NS)
    text: str = point.to_line_protocol()
    return text


@given(
    measurement=_names.filter(lambda s: not s.startswith("#")),
    tags=st.dictionaries(_names, _names, max_size=4),
    fields=st.dictionaries(_names, _values, min_size=1, max_size=5),
    ns=st.integers(min_value=0, max_value=2**62),
)
def test_same_as_influxdb_client_point(
    measurement: str, tags: dict[str, str], fields: dict[str, object], ns: int
) -> None:
    assert line(measurement, tags, fields, ns) == _point(measurement, tags, fields, ns)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_are_refused_with_the_field_name(value: float) -> None:
    with pytest.raises(UnwritableValue, match="'rtt_ms'"):
        line("uplink", {"area": "a"}, {"rtt_ms": value}, 1)


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ({"device": "a\nb"}, "control character"),
        ({"device": "ends\\"}, "backslash"),
        ({"device": ""}, "empty"),
        ({"": "x"}, "empty"),
    ],
)
def test_tags_that_cannot_round_trip_are_refused(tags: dict[str, str], message: str) -> None:
    with pytest.raises(UnwritableValue, match=message):
        line("camera", tags, {"v": 1.0}, 1)


def test_measurement_that_reads_as_a_comment_is_refused() -> None:
    with pytest.raises(UnwritableValue, match="comment"):
        line("#camera", {}, {"v": 1.0}, 1)


def test_point_without_fields_is_refused() -> None:
    with pytest.raises(UnwritableValue, match="no fields"):
        line("camera", {"a": "b"}, {}, 1)


def test_huge_and_negative_integers_keep_their_value() -> None:
    assert line("m", {}, {"n": -(2**63)}, 5) == f"m n={-(2**63)}i 5"
