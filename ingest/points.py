"""The InfluxDB schema: how reports and presence become points (documented in docs/influxdb.md).

- one measurement per device kind (``camera``, ``uplink``, …), tags ``area``, ``agent``, ``device``;
  fields ``status`` (up/degraded/down), ``status_code`` (2/1/0), ``reason``, ``detail``,
  ``duration_ms`` and every metric (numbers as floats so a field never changes type);
- ``agent_report``: one point per report (sequence number, interval, device count, the count
  of devices up/degraded/down and the fingerprint of the set of device ids, ``lag_s`` =
  received − observed (network delay, replayed backlog and clock skew together),
  ``clock_offset_s`` (the agent's estimated clock offset, see ``ingest.clock``) and
  the agent's own metrics);
- ``agent_presence``: online/offline changes.
All carry the agent's observation time, so a replayed report rewrites the same points.
"""

from __future__ import annotations

from datetime import datetime

from contract.fastreport import ReceivedReport, ReceivedResult
from contract.models import DeviceKind, Presence, Status
from tsdb.fingerprint import device_set_digest
from tsdb.lineprotocol import (
    FieldValue,
    UnwritableValue,
    field_value,
    line,
    tag_text,
    tags_text,
    timestamp_ns,
)
from tsdb.schema import AGENT, AGENT_PRESENCE, AGENT_REPORT, AREA, DEVICE


def _number(value: bool | int | float | str, name: str) -> FieldValue:
    """Integers become floats (a field never changes type); bool stays bool."""
    if type(value) is not int:
        return value
    try:
        return float(value)
    except OverflowError:  # JSON allows integers no float can hold
        raise UnwritableValue(f"field {name!r} is an integer too large to store") from None


# Formatted once: the status field pair and the measurement of each kind.
_STATUS = {status: (f'"{status.value}"', f"{status.code}i") for status in Status}
_KIND = {kind: kind.value for kind in DeviceKind}
_EXACT_INT = 2**53  # below it an integer and its float print the same digits (no exponent)


def _device_line(measurement: str, tags: str, result: ReceivedResult, when: int) -> str:
    """One device point, formatted as ``line()`` would (a test holds them equal) but faster: the
    contract's patterns guarantee that field keys (fixed names, metric names ``[a-z0-9_]``), the
    reason code and the measurement need no escaping. (key, text) pairs sorted by key: line()'s
    field order, cheaper than a dict and a sort of its keys."""
    status, code = _STATUS[result.status]
    duration = repr(result.duration_ms)  # finite, as the contract requires
    pairs = [
        ("duration_ms", duration[:-2] if duration.endswith(".0") else duration),
        ("status", status),
        ("status_code", code),
    ]
    if result.reason is not None:
        pairs.append(("reason", f'"{result.reason}"'))
    if result.detail is not None:
        pairs.append(("detail", field_value(result.detail, "detail")))
    for name, value in result.metrics.items():  # the common cases inline, as field_value()
        if type(value) is float and value - value == 0:  # finite
            text = repr(value)
            pairs.append((name, text[:-2] if text.endswith(".0") else text))
        elif type(value) is int and -_EXACT_INT < value < _EXACT_INT:  # as float: same digits
            pairs.append((name, str(value)))
        elif type(value) is bool:
            pairs.append((name, "true" if value else "false"))
        else:
            pairs.append((name, field_value(_number(value, name), name)))
    pairs.sort()  # keys are unique: the contract reserves the fixed names
    return f"{measurement}{tags} {','.join([f'{key}={text}' for key, text in pairs])} {when}"


def report_lines(
    report: ReceivedReport, received_at: datetime, clock_offset_s: float | None = None
) -> list[str]:
    when = timestamp_ns(report.observed_at)
    # Tags in key order: agent, area (escaped once per report), then device.
    common = tags_text({AGENT: report.agent_id, AREA: report.area_id})
    lines = [
        _device_line(_KIND[result.kind], common + tag_text(DEVICE, result.device_id), result, when)
        for result in report.results
    ]
    states = [result.status for result in report.results]
    summary: dict[str, FieldValue] = {
        "seq": report.seq,
        "interval_s": report.interval_s,
        "devices": len(report.results),
        "devices_up": states.count(Status.UP),
        "devices_degraded": states.count(Status.DEGRADED),
        "devices_down": states.count(Status.DOWN),
        "devices_digest": device_set_digest([result.device_id for result in report.results]),
        "lag_s": round((received_at - report.observed_at).total_seconds(), 6),
    }
    if clock_offset_s is not None:
        summary["clock_offset_s"] = round(clock_offset_s, 6)
    summary.update(
        (name, _number(value, name))
        for name, value in report.agent_metrics.items()
        if name not in summary
    )
    lines.append(line(AGENT_REPORT, {AREA: report.area_id, AGENT: report.agent_id}, summary, when))
    return lines


def presence_lines(presence: Presence, received_at: datetime) -> list[str]:
    when = timestamp_ns(presence.at or received_at)
    fields: dict[str, FieldValue] = {"state": presence.state.value, "by_will": presence.at is None}
    return [line(AGENT_PRESENCE, {AREA: presence.area_id, AGENT: presence.agent_id}, fields, when)]
