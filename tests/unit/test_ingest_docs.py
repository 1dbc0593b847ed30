"""docs/influxdb.md and the ingest code must agree: metrics, roll-ups, report fields, settings."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from contract.fastreport import received
from contract.models import DeviceResult, Report
from ingest.metrics import Metrics
from ingest.points import report_lines
from ingest.retention import statements
from ingest.settings import IngestSettings

DOC = (Path(__file__).parents[2] / "docs" / "influxdb.md").read_text(encoding="utf-8")


def test_every_metric_is_documented() -> None:
    names = [f.name.removeprefix("smartarea_ingest_") for f in Metrics().registry.collect()]
    assert len(names) == len(Metrics.HELP) + len(Metrics.GAUGE_HELP) + 2  # and two histograms
    for name in names:
        assert f"`{name}" in DOC, name


def test_every_roll_up_field_is_documented() -> None:
    fields = set()
    for statement in statements("smartarea"):
        fields |= set(re.findall(r'AS "([a-z_]+)"', statement))
    assert fields
    for field in fields:
        assert f"`{field}`" in DOC, field


def test_every_agent_report_field_is_documented() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    report = Report(
        area_id="a",
        agent_id="b",
        seq=1,
        observed_at=at,
        interval_s=60,
        results=[DeviceResult(device_id="d", kind="pc", status="up", duration_ms=1.0)],
    )
    summary = report_lines(received(report), at, clock_offset_s=0.5)[-1]
    fields = [pair.split("=")[0] for pair in summary.split(" ")[1].split(",")]
    for field in fields:
        assert f"`{field}`" in DOC, field


def test_the_write_path_settings_mentioned_exist() -> None:
    mentioned = set(re.findall(r"SMARTAREA_([A-Z_]*[A-Z])(?![A-Z_*])", DOC))
    assert mentioned
    assert {m.lower() for m in mentioned} <= set(IngestSettings.model_fields)
