"""Ingest settings fail at start with a message that names the variable."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from ingest.__main__ import build_writer
from ingest.settings import IngestSettings
from tsdb.writer import InfluxV1Writer
from tsdb.writer_v2 import InfluxV2Writer


def test_v2_needs_org_and_token() -> None:
    with pytest.raises(ValidationError, match="SMARTAREA_INFLUX_ORG, SMARTAREA_INFLUX_TOKEN"):
        IngestSettings(influx_api="v2")
    settings = IngestSettings(influx_api="v2", influx_org="phu-tho", influx_token="t")
    writer = build_writer(settings)
    assert isinstance(writer, InfluxV2Writer)
    writer.close()


def test_v1_is_the_default_writer() -> None:
    writer = build_writer(IngestSettings())
    assert isinstance(writer, InfluxV1Writer)
    writer.close()


@pytest.mark.parametrize(
    ("name", "value"),
    [("batch_max_points", 0), ("batch_max_age_s", 0), ("mqtt_receive_maximum", 70000)],
)
def test_batching_and_back_pressure_bounds_are_checked(name: str, value: int) -> None:
    with pytest.raises(ValidationError, match=name):
        IngestSettings(**{name: value})  # type: ignore[arg-type]


def test_the_entry_point_names_the_variable_and_exits_2() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ingest"],
        env={"SMARTAREA_BATCH_MAX_POINTS": "many", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "SMARTAREA_BATCH_MAX_POINTS" in done.stderr
