"""Every bad-input class gets its own reason; good messages decode."""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime, timedelta

import pytest

from contract.decode import Limits, Reason, Rejection, decode
from contract.fastreport import ReceivedReport, received
from contract.models import Presence, Report
from ingest.points import report_lines

NOW = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
TOPIC = "smartarea/v1/son-vi-khu-6/nvh/report"


def _payload(**overrides: object) -> bytes:
    body: dict[str, object] = {
        "schema": "smartarea.report/1",
        "area_id": "son-vi-khu-6",
        "agent_id": "nvh",
        "seq": 1,
        "observed_at": NOW.isoformat(),
        "interval_s": 60,
        "results": [{"device_id": "cam-01", "kind": "camera", "status": "up", "duration_ms": 5}],
    }
    body.update(overrides)
    return json.dumps(body).encode()


def _reason(topic: str, payload: bytes, limits: Limits | None = None) -> Reason:
    result = decode(topic, payload, NOW, limits or Limits())
    assert isinstance(result, Rejection), result
    assert result.detail
    return result.reason


def test_a_good_report_and_presence_decode() -> None:
    assert isinstance(decode(TOPIC, _payload(), NOW, Limits()), ReceivedReport)  # the fast path
    # What only pydantic accepts still decodes, through it: a device id not in NFC form.
    decomposed = unicodedata.normalize("NFD", "cam-cổng")
    results = [{"device_id": decomposed, "kind": "camera", "status": "up", "duration_ms": 5}]
    slow = decode(TOPIC, _payload(results=results), NOW, Limits())
    assert isinstance(slow, ReceivedReport)  # the same type, whichever path accepted it
    assert slow.results[0].device_id == "cam-cổng"
    presence = json.dumps(
        {
            "schema": "smartarea.presence/1",
            "area_id": "son-vi-khu-6",
            "agent_id": "nvh",
            "state": "offline",
        }
    ).encode()
    assert isinstance(decode(TOPIC.replace("report", "status"), presence, NOW, Limits()), Presence)


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        (TOPIC, b"{not json", Reason.BAD_JSON),
        (TOPIC, b"\xff\xfe", Reason.BAD_JSON),
        (TOPIC, b"[1, 2]", Reason.UNKNOWN_SCHEMA),
        (TOPIC, _payload(schema="smartarea.report/9"), Reason.UNKNOWN_SCHEMA),
        (TOPIC, _payload(seq="x"), Reason.INVALID),
        (
            TOPIC,
            _payload(
                results=[
                    {
                        "device_id": "a",
                        "kind": "camera",
                        "status": "up",
                        "duration_ms": 1,
                        "metrics": {"x": float("nan")},
                    }
                ]
            ),
            Reason.INVALID,
        ),
        ("smartarea/v1/phuc-khanh-1/nvh/report", _payload(), Reason.TOPIC_MISMATCH),
        ("smartarea/v1/son-vi-khu-6/other/report", _payload(), Reason.TOPIC_MISMATCH),
        ("elsewhere/son-vi-khu-6/nvh/report", _payload(), Reason.BAD_TOPIC),
        ("smartarea/v1/son-vi-khu-6/nvh/cmd", _payload(), Reason.BAD_TOPIC),
        (TOPIC, _payload(observed_at=(NOW + timedelta(hours=1)).isoformat()), Reason.FUTURE),
        (TOPIC, _payload(observed_at=(NOW - timedelta(days=31)).isoformat()), Reason.TOO_OLD),
    ],
)
def test_each_bad_input_has_its_reason(topic: str, payload: bytes, reason: Reason) -> None:
    assert _reason(topic, payload) is reason


def _without_schema(payload: bytes) -> bytes:
    body = json.loads(payload)
    del body["schema"]
    return json.dumps(body).encode()


_PRESENCE = json.dumps(
    {"schema": "smartarea.presence/1", "area_id": "son-vi-khu-6", "agent_id": "nvh", "state": "on"}
).encode()


@pytest.mark.parametrize(
    ("topic", "payload", "reason", "detail"),
    [
        # A message that does not name its version is not read as version 1.
        (TOPIC, _without_schema(_payload()), Reason.UNKNOWN_SCHEMA, "no 'schema'"),
        (
            TOPIC.replace("report", "status"),
            _without_schema(_PRESENCE.replace(b'"on"', b'"online"')),
            Reason.UNKNOWN_SCHEMA,
            "no 'schema'",
        ),
        # JSON on the wire is UTF-8 without a byte order mark (Python's json would take it).
        (TOPIC, b"\xef\xbb\xbf" + _payload(), Reason.BAD_JSON, "byte order mark"),
        (TOPIC, _payload().decode().encode("utf-16"), Reason.BAD_JSON, "Invalid JSON"),
        # Deeper than the parser reads; deeper than Python's json can recurse (RecursionError).
        (TOPIC, b"[" * 500 + b"]" * 500, Reason.BAD_JSON, "recursion limit"),
        (TOPIC, b'{"a":' * 100_000 + b"1" + b"}" * 100_000, Reason.BAD_JSON, "recursion limit"),
        (TOPIC, b"[" * 100_000, Reason.BAD_JSON, "Invalid JSON"),
    ],
)
def test_refusals_name_their_cause(
    topic: str, payload: bytes, reason: Reason, detail: str, caplog: pytest.LogCaptureFixture
) -> None:
    result = decode(topic, payload, NOW, Limits(max_payload_bytes=1 << 20))
    assert isinstance(result, Rejection), result
    assert (result.reason, detail in result.detail) == (reason, True), result.detail
    assert not caplog.records  # refused with a reason, not an error in the log


def test_oversized_payload_is_refused_before_parsing() -> None:
    assert _reason(TOPIC, b"x" * 101, Limits(max_payload_bytes=100)) is Reason.TOO_LARGE


def test_report_points_carry_observation_time_and_tags() -> None:
    report = decode(TOPIC, _payload(), NOW, Limits())
    assert isinstance(report, ReceivedReport)
    lines = report_lines(report, NOW + timedelta(seconds=2))
    assert lines == report_lines(
        received(Report.model_validate_json(_payload())), NOW + timedelta(seconds=2)
    )
    ns = int(NOW.timestamp()) * 10**9
    assert lines[0] == (
        "camera,agent=nvh,area=son-vi-khu-6,device=cam-01 "
        f'duration_ms=5,status="up",status_code=2i {ns}'
    )
    assert lines[1].startswith("agent_report,agent=nvh,area=son-vi-khu-6 ")
    assert "lag_s=2," in lines[1] and lines[1].endswith(str(ns))
