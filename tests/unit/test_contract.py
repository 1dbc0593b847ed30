"""The wire contract: topic builders and payload models."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from contract import topics
from contract.models import (
    FLAG_METRICS,
    MAX_METRICS,
    TEXT_METRICS,
    Command,
    DeviceResult,
    Presence,
    Report,
    Status,
)


def _report(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "schema": "smartarea.report/1",
        "area_id": "son-vi-khu-6",
        "agent_id": "nvh",
        "seq": 7,
        "observed_at": "2026-11-28T08:00:00+07:00",
        "interval_s": 60,
        "results": [
            {"device_id": "Cổng chợ", "kind": "camera", "status": "up", "duration_ms": 12.5}
        ],
    }
    base.update(overrides)
    return base


def test_topics_are_built_and_parsed_back() -> None:
    name = topics.report_topic("son-vi-khu-6", "nvh")
    assert name == "smartarea/v1/son-vi-khu-6/nvh/report"
    parts = topics.parse(name)
    assert (parts.area_id, parts.agent_id, parts.channel) == (
        "son-vi-khu-6",
        "nvh",
        topics.Channel.REPORT,
    )
    assert topics.subscription(topics.Channel.STATUS) == "smartarea/v1/+/+/status"
    assert (
        topics.shared("smartarea/v1/+/+/report", "ingest")
        == "$share/ingest/smartarea/v1/+/+/report"
    )


@pytest.mark.parametrize(
    "bad", ["", "Sơn Vi", "a/b", "+", "#", "a--b", "-a", "a-", "A", "a b", "x" * 64]
)
def test_ids_that_could_break_topics_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a valid id"):
        topics.report_topic(bad, "nvh")
    with pytest.raises(ValidationError):
        Report.model_validate(_report(area_id=bad))


def test_parse_names_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="does not start with"):
        topics.parse("other/v1/a/b/report")
    with pytest.raises(ValueError, match="unknown channel"):
        topics.parse("smartarea/v1/a/b/video")
    with pytest.raises(ValueError, match="form"):
        topics.parse("smartarea/v1/a/report")


def test_report_round_trips_with_vietnamese_and_utc() -> None:
    report = Report.model_validate(_report())
    assert report.observed_at == datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
    assert report.observed_at.tzinfo is UTC
    again = Report.model_validate_json(report.to_json())
    assert again == report
    assert again.results[0].device_id == "Cổng chợ"
    assert json.loads(report.to_json())["schema"] == "smartarea.report/1"


def test_device_ids_are_normalised_to_nfc() -> None:
    decomposed = "Co\u0302\u0309ng cho\u031b\u0323"  # "Cổng chợ" typed with combining marks
    report = Report.model_validate(
        _report(
            results=[{"device_id": decomposed, "kind": "camera", "status": "up", "duration_ms": 1}]
        )
    )
    assert report.results[0].device_id == "Cổng chợ"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"schema": "smartarea.report/2"}, "schema"),
        ({"observed_at": "2026-11-28T08:00:00"}, "timezone"),
        ({"seq": -1}, "greater than or equal"),
        ({"seq": "7"}, "integer"),
        ({"interval_s": 0}, "greater than"),
        ({"extra": 1}, "Extra inputs"),
        (
            {
                "results": [
                    {"device_id": "a", "kind": "camera", "status": "up", "duration_ms": 1},
                    {"device_id": "a", "kind": "camera", "status": "up", "duration_ms": 1},
                ]
            },
            "appears twice",
        ),
        (
            {"results": [{"device_id": "a", "kind": "camera", "status": "down", "duration_ms": 1}]},
            "must give a reason",
        ),
        (
            {
                "results": [
                    {"device_id": "a\nb", "kind": "camera", "status": "up", "duration_ms": 1}
                ]
            },
            "control characters",
        ),
        (
            {"results": [{"device_id": "a", "kind": "fridge", "status": "up", "duration_ms": 1}]},
            "kind",
        ),
        (
            {
                "results": [
                    {
                        "device_id": "a",
                        "kind": "camera",
                        "status": "up",
                        "duration_ms": 1,
                        "metrics": {"status": 1},
                    }
                ]
            },
            "reserved",
        ),
        (
            {
                "results": [
                    {
                        "device_id": "a",
                        "kind": "camera",
                        "status": "up",
                        "duration_ms": 1,
                        "metrics": {"Bad Name": 1},
                    }
                ]
            },
            "pattern",
        ),
        (
            {
                "results": [
                    {
                        "device_id": "a",
                        "kind": "camera",
                        "status": "up",
                        "duration_ms": 1,
                        "metrics": {f"m{i}": i for i in range(MAX_METRICS + 1)},
                    }
                ]
            },
            f"at most {MAX_METRICS} items",
        ),
    ],
)
def test_invalid_reports_say_why(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Report.model_validate(_report(**change))


def test_nan_and_infinity_are_refused_in_json() -> None:
    payload = json.dumps(
        _report(
            results=[
                {
                    "device_id": "a",
                    "kind": "camera",
                    "status": "up",
                    "duration_ms": 1,
                    "metrics": {"x": 1.0},
                }
            ]
        )
    ).replace("1.0}", "NaN}")
    assert "NaN" in payload
    with pytest.raises(ValidationError, match="finite"):
        Report.model_validate_json(payload)


def _result_json(name: str, json_value: str) -> str:
    return (
        '{"device_id":"a","kind":"pc","status":"up","duration_ms":1,"metrics":{"'
        + name
        + '":'
        + json_value
        + "}}"
    )


@pytest.mark.parametrize(
    ("name", "json_value", "value"),
    [
        ("x", "1", 1),
        ("x", "1.0", 1.0),
        ("x", "-0.0", -0.0),
        ("clock_checked", "true", True),
        ("image_state", '"1.5"', "1.5"),  # a string stays a string, though it reads as a number
        ("image_state", '"true"', "true"),
        ("x", "12345678901234567890123", 12345678901234567890123),
        ("x", str(2**1023), 2**1023),  # stored as a float: it fits one
    ],
)
def test_metric_values_keep_their_json_type(name: str, json_value: str, value: object) -> None:
    got = DeviceResult.model_validate_json(_result_json(name, json_value)).metrics[name]
    assert (got, type(got)) == (value, type(value))


@pytest.mark.parametrize(
    ("name", "json_value", "message"),
    [
        # One area's text where the others send numbers would fix the field's type in InfluxDB's
        # weekly shard and get every other area's points of the measurement refused.
        ("rtt_ms", '"n/a"', "metric 'rtt_ms' must be a number, not text"),
        ("rtt_ms", "true", "metric 'rtt_ms' must be a number, not true/false"),
        ("image_state", "1", "metric 'image_state' must be text"),
        ("image_state", "false", "metric 'image_state' must be text"),
        ("clock_checked", "0", "metric 'clock_checked' must be true or false"),
        ("clock_checked", '"no"', "metric 'clock_checked' must be true or false"),
        ("x", str(2**1024), "metric 'x' is an integer too large to store"),
        ("time", "1", "reserved"),  # InfluxDB refuses a field named "time"
    ],
)
def test_a_metrics_type_is_fixed_by_its_name(name: str, json_value: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        DeviceResult.model_validate_json(_result_json(name, json_value))


def test_the_refusal_says_how_to_declare_a_new_text_or_flag_metric() -> None:
    """For the engineer adding a probe metric: the message names where types are declared."""
    with pytest.raises(ValidationError) as caught:
        DeviceResult.model_validate_json(_result_json("scene_label", '"night"'))
    text = str(caught.value)
    assert "TEXT_METRICS or FLAG_METRICS (contract/models.py)" in text
    assert "image_state" in TEXT_METRICS
    assert {"clock_checked", "reference_new"} <= FLAG_METRICS


@pytest.mark.parametrize(
    ("agent_metrics", "message"),
    [
        ({"time": 1}, "agent metric name 'time' is reserved"),
        ({"cycle_ms": 2**1024}, "agent metric 'cycle_ms' is an integer too large"),
        ({"grade": 1}, "must be text"),
    ],
)
def test_agent_metrics_that_influxdb_would_refuse_are_refused(
    agent_metrics: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Report.model_validate(_report(agent_metrics=agent_metrics))


def test_seq_fits_influxdbs_int64() -> None:
    assert Report.model_validate(_report(seq=2**63 - 1)).seq == 2**63 - 1
    with pytest.raises(ValidationError, match="less than 9223372036854775808"):
        Report.model_validate(_report(seq=2**63))


def test_a_device_id_ending_in_a_backslash_is_refused() -> None:
    """Line protocol would read the backslash as escaping the separator after the tag."""
    result = {"device_id": "cam\\", "kind": "camera", "status": "up", "duration_ms": 1}
    with pytest.raises(ValidationError, match="backslash"):
        Report.model_validate(_report(results=[result]))
    inner = {**result, "device_id": "cam\\01"}
    assert Report.model_validate(_report(results=[inner])).results[0].device_id == "cam\\01"


@pytest.mark.parametrize("json_value", ["null", "[1]", '{"a":1}', "1e400", '"' + "a" * 201 + '"'])
def test_metric_values_of_other_types_are_refused(json_value: str) -> None:
    payload = '{"device_id":"a","kind":"pc","status":"up","duration_ms":1,"metrics":{"x":'
    with pytest.raises(ValidationError):
        DeviceResult.model_validate_json(payload + json_value + "}}")


def test_presence_will_has_no_time() -> None:
    will = Presence(area_id="son-vi-khu-6", agent_id="nvh", state="offline")
    assert json.loads(will.to_json())["at"] is None
    online = Presence(
        area_id="son-vi-khu-6",
        agent_id="nvh",
        state="online",
        at=datetime(2026, 1, 1, 7, tzinfo=timezone(timedelta(hours=7))),
    )
    assert online.at == datetime(2026, 1, 1, 0, tzinfo=UTC)


def test_status_codes_order_up_degraded_down() -> None:
    assert [s.code for s in (Status.UP, Status.DEGRADED, Status.DOWN)] == [2, 1, 0]
    assert DeviceResult.model_fields["reason"].default is None


@pytest.mark.parametrize("model", [Report, Presence, Command])
def test_a_message_read_from_json_must_name_its_version(
    model: type[Report] | type[Presence] | type[Command],
) -> None:
    examples: dict[type, dict[str, object]] = {
        Report: _report(),
        Presence: {"area_id": "a", "agent_id": "b", "state": "online"},
        Command: {
            "area_id": "a",
            "agent_id": "b",
            "command": "probe_now",
            "id": "k3J9x",
            "issued_at": "2026-11-28T01:00:05Z",
            "issued_by": "ky-thuat",
        },
    }
    body = {key: value for key, value in examples[model].items() if key != "schema"}
    with pytest.raises(ValidationError, match="'schema' is missing"):
        model.model_validate_json(json.dumps(body))
    with pytest.raises(ValidationError, match="'schema' is missing"):
        model.model_validate_json(json.dumps({**body, "schema": None}))
    # What a sender builds always says it: the version this code speaks.
    built = model.model_validate(body)
    assert json.loads(built.to_json())["schema"] == built.schema_
    assert model.model_validate_json(built.to_json()) == built
