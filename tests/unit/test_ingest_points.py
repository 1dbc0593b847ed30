"""Reports become the documented points; the per-report tag shortcut equals the generic line()."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from contract.fastreport import received
from contract.models import (
    FLAG_METRICS,
    RESERVED_FIELDS,
    TEXT_METRICS,
    DeviceKind,
    DeviceResult,
    Report,
    Status,
)
from ingest.points import report_lines
from tsdb.fingerprint import device_set_digest
from tsdb.lineprotocol import FieldValue, UnwritableValue, line, timestamp_ns

_CONTROL: tuple[Literal["C"]] = ("C",)
_labels = st.text(
    alphabet=st.characters(blacklist_categories=_CONTROL), min_size=1, max_size=20
).filter(lambda s: s == s.strip() and not s.endswith("\\"))


@given(devices=st.lists(_labels, min_size=1, max_size=5, unique=True))
def test_device_points_equal_the_generic_formatter(devices: list[str]) -> None:
    observed = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    results = [
        DeviceResult(
            device_id=device,
            kind="camera",
            status="down",
            reason="timeout",
            detail='đứt "cáp", \\ ',
            duration_ms=3000.0,
            metrics={"width_px": 768, "reference_new": True, "image_state": "Sơn Vi"},
        )
        for device in devices
    ]
    report = Report(
        area_id="son-vi-khu-6",
        agent_id="nvh",
        seq=7,
        observed_at=observed,
        interval_s=60,
        results=results,
    )
    lines = report_lines(received(report), observed + timedelta(seconds=2), clock_offset_s=-1.25)
    for result, text in zip(report.results, lines, strict=False):
        expected = line(
            "camera",
            {"area": "son-vi-khu-6", "agent": "nvh", "device": result.device_id},
            {
                "status": "down",
                "status_code": 0,
                "reason": "timeout",
                "detail": result.detail or "",
                "duration_ms": 3000.0,
                "width_px": 768.0,  # integers stored as floats: a field never changes type
                "reference_new": True,
                "image_state": "Sơn Vi",
            },
            timestamp_ns(observed),
        )
        assert text == expected
    summary = lines[-1]
    assert summary.startswith("agent_report,agent=nvh,area=son-vi-khu-6 ")
    assert f"devices_down={len(devices)}i," in summary
    assert "devices_up=0i," in summary and "devices_degraded=0i," in summary
    digest = device_set_digest(
        r.device_id for r in report.results
    )  # ids as the contract keeps them (NFC)
    assert f'devices_digest="{digest}"' in summary
    assert "clock_offset_s=-1.25," in summary
    assert "lag_s=2," in summary


_numbers = st.one_of(
    st.integers(-(2**60), 2**60),
    st.sampled_from([2**53 - 1, 2**53, -(2**53), 10**16, 0, -1]),
    st.floats(allow_nan=False, allow_infinity=False),
)
# A metric's type is fixed by its name (contract.models): numbers, except the declared names.
_numeric_names = st.from_regex(r"[a-z][a-z0-9_]{0,9}", fullmatch=True).filter(
    lambda name: name not in TEXT_METRICS | FLAG_METRICS | RESERVED_FIELDS
)
_typed = st.fixed_dictionaries(
    {},
    optional={
        **dict.fromkeys(TEXT_METRICS, st.text(max_size=10)),
        **dict.fromkeys(FLAG_METRICS, st.booleans()),
    },
)


@given(
    metrics=st.builds(lambda n, t: {**n, **t}, st.dictionaries(_numeric_names, _numbers), _typed)
)
def test_metric_values_equal_the_generic_formatter(metrics: dict[str, FieldValue]) -> None:
    at = datetime(2026, 1, 2, tzinfo=UTC)
    result = DeviceResult(device_id="pc", kind="pc", status="up", duration_ms=2.0, metrics=metrics)
    report = Report(
        area_id="a", agent_id="b", seq=1, observed_at=at, interval_s=60, results=[result]
    )
    expected_fields: dict[str, FieldValue] = {"status": "up", "status_code": 2, "duration_ms": 2.0}
    for name, value in result.metrics.items():
        is_int = isinstance(value, int) and not isinstance(value, bool)
        expected_fields[name] = float(value) if is_int else value
    expected = line(
        "pc", {"agent": "b", "area": "a", "device": "pc"}, expected_fields, timestamp_ns(at)
    )
    assert report_lines(received(report), at)[0] == expected


def test_an_integer_no_float_can_hold_is_refused_not_a_crash() -> None:
    payload = (
        '{"device_id":"x","kind":"pc","status":"up","duration_ms":1,"metrics":{"big":'
        + "9" * 400
        + "}}"
    )
    with pytest.raises(ValidationError, match="'big' is an integer too large to store"):
        DeviceResult.model_validate_json(payload)  # the contract refuses it: never stored partly
    # and the formatter still refuses it, should a report ever reach it unvalidated
    result = DeviceResult.model_construct(
        device_id="x",
        kind=DeviceKind.PC,
        status=Status.UP,
        duration_ms=1.0,
        metrics={"big": 9**400},
    )
    at = datetime(2026, 1, 1, tzinfo=UTC)
    report = Report.model_construct(
        area_id="a",
        agent_id="b",
        seq=1,
        observed_at=at,
        interval_s=60.0,
        results=[result],
        agent_metrics={},
    )
    with pytest.raises(UnwritableValue, match="'big'"):
        report_lines(received(report), at)
