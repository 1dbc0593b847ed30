"""The InfluxDB schema: how reports and presence become points (documented in docs/influxdb.md).

- one measurement per device kind (``camera``, ``uplink``, …), tags ``area``, ``agent``, ``device``;
  fields ``status`` (up/degraded/down), ``status_code`` (2/1/0), ``reason``, ``detail``,
  ``duration_ms`` and every metric (numbers as floats so a field never changes type);
- ``agent_report``: one point per report (sequence number, interval, device count, ``lag_s`` =
  received − observed (network delay, replayed backlog and clock skew together),
  ``clock_offset_s`` (the agent's estimated clock offset, see ``ingest.clock``) and
  the agent's own metrics);
- ``agent_presence``: online/offline changes.
All carry the agent's observation time, so a replayed report rewrites the same points.
"""

from __future__ import annotations

from datetime import datetime

from contract.models import DeviceKind, Presence, Report, Status
from tsdb.lineprotocol import FieldValue, line, line_after_tags, tags_text, timestamp_ns


def _number(value: bool | int | float | str) -> FieldValue:
    return float(value) if type(value) is int else value  # bool stays bool


_STATUS = {status: (status.value, status.code) for status in Status}
_KIND = {kind: kind.value for kind in DeviceKind}


def report_lines(
    report: Report, received_at: datetime, clock_offset_s: float | None = None
) -> list[str]:
    when = timestamp_ns(report.observed_at)
    # Tags in key order: agent, area (escaped once per report), then device.
    common = tags_text({"agent": report.agent_id, "area": report.area_id})
    lines = []
    for result in report.results:
        status, code = _STATUS[result.status]
        fields: dict[str, FieldValue] = {
            "status": status,
            "status_code": code,
            "duration_ms": result.duration_ms,
        }
        if result.reason is not None:
            fields["reason"] = result.reason
        if result.detail is not None:
            fields["detail"] = result.detail
        for name, value in result.metrics.items():
            fields[name] = float(value) if type(value) is int else value
        tags = common + tags_text({"device": result.device_id})
        lines.append(line_after_tags(_KIND[result.kind], tags, fields, when))
    summary: dict[str, FieldValue] = {
        "seq": report.seq,
        "interval_s": report.interval_s,
        "devices": len(report.results),
        "lag_s": round((received_at - report.observed_at).total_seconds(), 6),
    }
    if clock_offset_s is not None:
        summary["clock_offset_s"] = round(clock_offset_s, 6)
    summary.update(
        (name, _number(value))
        for name, value in report.agent_metrics.items()
        if name not in summary
    )
    lines.append(
        line("agent_report", {"area": report.area_id, "agent": report.agent_id}, summary, when)
    )
    return lines


def presence_lines(presence: Presence, received_at: datetime) -> list[str]:
    when = timestamp_ns(presence.at or received_at)
    fields: dict[str, FieldValue] = {"state": presence.state.value, "by_will": presence.at is None}
    return [
        line("agent_presence", {"area": presence.area_id, "agent": presence.agent_id}, fields, when)
    ]
