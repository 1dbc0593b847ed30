"""The fast path of report decoding never accepts what the contract refuses, nor reads it otherwise.

Payloads are generated around the schema's edges (types, bounds, patterns, Unicode forms, time
formats, big numbers, duplicate keys); whenever ``fast_report`` accepts one, pydantic must
accept it too and every value must be equal, type included.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from contract.fastreport import ReceivedReport, fast_report, received
from contract.models import Report

_TOO_BIG = "@@1e400@@"  # a JSON number no float holds, written into the text after dumps

SLUGS = ["son-vi-khu-6", "nvh", "a", "son-vi\n", "Son-vi", "", "a" * 64, "a--b", "phúc-khánh"]
IDS = [
    "cam-01",
    "cam cổng",
    unicodedata.normalize("NFD", "cam cổng"),
    " cam",
    "cam ",
    "a\nb",
    "a\x00",
    "\u00a0x",
    "a\u200b",
    "",
    "x" * 128,
    "x" * 129,
    "Sơn Vi 📷",
    "cam\\",
    "cam\\01",
]
NAMES = [
    "width_px",
    "brightness",
    "rtt_ms",
    "image_state",  # declared text
    "clock_checked",  # declared flag
    "status",
    "duration_ms",
    "time",
    "Bad",
    "a\n",
    "",
    "a" * 41,
]
NUMBERS: list[Any] = [
    *(0, 1, -5, 7, 2**53 - 1, 2**53, 2**63, 2**70, 10**308, 2**1024, -(2**1024)),
    *(1.5, 7.0, -0.0, 1e308, _TOO_BIG, True, False),
]
METRIC_VALUES: list[Any] = [*NUMBERS, "x", "1.5", "x" * 201, None, [], {}]
TIMES: list[Any] = [
    "2026-11-28T08:00:00Z",
    "2026-11-28T15:00:00+07:00",
    "2026-11-28T08:00:00+00:00",
    "2026-11-28T08:00:00-00:00",
    "2026-11-28T08:00:00.123456Z",
    "2026-11-28T08:00:00.1234567Z",
    "2026-11-28T08:00:00",
    "2026-11-28 08:00:00Z",
    "2026-11-28T08:00:00z",
    "2026-11-28T08:00:60Z",
    "2026-11-28T08:00Z",
    "20261128T080000Z",
    1764316800,
    1764316800.5,
]


def mostly(valid: list[Any], edges: list[Any]) -> st.SearchStrategy[Any]:
    """A valid value seven times in eight, else one from the edges (so that whole payloads are
    often valid, and the invalid ones are near misses)."""
    return st.sampled_from(valid * (7 * max(1, len(edges)) // max(1, len(valid))) + edges)


def names(valid: list[str]) -> st.SearchStrategy[str]:
    return mostly(valid, NAMES)


OMIT = "@@omit@@"  # a key drawn with this value is left out of the payload


def present(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if value != OMIT}


results = st.fixed_dictionaries(
    {
        "device_id": mostly(["cam-01", "cam cổng", "Sơn Vi 📷", "x" * 128], IDS),
        "kind": mostly(["camera", "uplink", "wifi"], ["fridge", "CAMERA", 1, OMIT]),
        "status": mostly(["up", "up", "up", "degraded", "down"], ["UP", None, OMIT]),
        "duration_ms": mostly([0, 5, 5.5, 1e308], [*NUMBERS, OMIT]),
        "reason": mostly(["timeout", "http_503", OMIT], [None, "Time", "x\n", "", "a" * 41, 1]),
        "detail": mostly([OMIT, None, "ok", "không có tín hiệu"], ["d" * 301, "\x01", 1]),
        "metrics": st.one_of(
            st.just(OMIT),
            st.dictionaries(
                names(["width_px", "brightness", "rtt_ms", "grade", "reference_new"]),
                mostly([0, 1, 2**63, 2**70, 1.5, 7.0, -0.0, True, "x", "x" * 200], METRIC_VALUES),
                max_size=4,
            ),
        ),
        "extra": mostly([OMIT], [1]),
    },
).map(present)
reports = st.fixed_dictionaries(
    {
        "schema": mostly(["smartarea.report/1"], ["smartarea.report/2", 1, OMIT]),
        "area_id": mostly(["son-vi-khu-6", "a", "a" * 63], SLUGS),
        "agent_id": mostly(["nvh", "agent-1"], SLUGS),
        "seq": mostly([0, 7, 2**63 - 1], [-1, 7.0, True, "7", 2**63, 2**64, 2**70]),
        "observed_at": mostly(TIMES[:5], TIMES),
        "interval_s": mostly([60, 0.5, 86_400], [0, -1, 86_400.5, True, "60", _TOO_BIG]),
        "results": st.lists(results, max_size=3),
        "agent_metrics": st.one_of(
            st.just(OMIT),
            st.dictionaries(
                names(["cycle_ms", "unacked_reports"]),
                mostly([0, 950.0, 2**70, 1e308], [*NUMBERS, "x"]),
            ),
        ),
        "extra": mostly([OMIT], [1]),
    },
).map(present)


def _value(value: object) -> tuple[str, object]:
    return (type(value).__name__, value)


def _canonical(report: Report | ReceivedReport) -> dict[str, object]:
    observed = report.observed_at
    assert observed.utcoffset() is not None
    assert not observed.utcoffset()  # stored in UTC
    return {
        "area_id": report.area_id,
        "agent_id": report.agent_id,
        "seq": _value(report.seq),
        "observed_at": observed.astimezone(UTC).isoformat(),
        "interval_s": _value(report.interval_s),
        "agent_metrics": {k: _value(v) for k, v in report.agent_metrics.items()},
        "results": [
            (
                r.device_id,
                r.kind,
                r.status,
                _value(r.duration_ms),
                r.reason,
                r.detail,
                {k: _value(v) for k, v in r.metrics.items()},
            )
            for r in report.results
        ],
    }


def _text(body: dict[str, Any], duplicate: str | None) -> bytes:
    text = json.dumps(body, ensure_ascii=False).replace(json.dumps(_TOO_BIG), "1e400")
    if duplicate is not None and text.endswith("}"):  # the same key twice: which one counts?
        text = text[:-1] + f', "{duplicate}": {json.dumps(body.get(duplicate, 0))}}}'
    return text.encode()


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=reports,
    reverse=st.booleans(),
    duplicate=st.sampled_from([None, None, "seq", "area_id", "schema"]),
)
def test_whatever_the_fast_path_accepts_pydantic_accepts_with_the_same_values(
    body: dict[str, Any], reverse: bool, duplicate: str | None
) -> None:
    if reverse:  # key order: msgspec and pydantic must not care
        body = dict(reversed(body.items()))
    payload = _text(body, duplicate)
    fast = fast_report(payload)
    if fast is None:
        return  # pydantic decides (accepts, or says why not)
    try:
        slow = Report.model_validate_json(payload)
    except ValidationError as exc:  # pragma: no cover - the failure this test exists for
        raise AssertionError(f"fast path accepted what the contract refuses: {exc}") from None
    assert _canonical(fast) == _canonical(slow)
    assert _canonical(received(slow)) == _canonical(slow)  # the pydantic path's copy


def test_the_fast_path_takes_the_usual_reports() -> None:
    """Not vacuous: the reports agents send are the fast path's, and equal to the contract's."""
    base = {
        "schema": "smartarea.report/1",
        "area_id": "son-vi-khu-6",
        "agent_id": "nvh",
        "seq": 7,
        "interval_s": 60,
        "results": [
            {
                "device_id": "cam cổng",
                "kind": "camera",
                "status": "down",
                "reason": "timeout",
                "detail": "không có tín hiệu",
                "duration_ms": 5,
                "metrics": {
                    "width_px": 768,
                    "brightness": 0.42,
                    "reference_new": False,
                    "image_state": "ok",
                },
            },
            {"device_id": "uplink", "kind": "uplink", "status": "up", "duration_ms": 1.5},
        ],
        "agent_metrics": {"cycle_ms": 950.0, "unacked_reports": 0},
    }
    for observed in ("2026-11-28T08:00:00Z", "2026-11-28T15:00:00.5+07:00"):
        payload = json.dumps({**base, "observed_at": observed}).encode()
        fast = fast_report(payload)
        assert fast is not None, observed
        assert _canonical(fast) == _canonical(Report.model_validate_json(payload))
        assert fast.observed_at.tzinfo is UTC
        assert fast.observed_at == datetime.fromisoformat(observed)
