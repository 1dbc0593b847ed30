"""Roll-up blocks on the real InfluxDB: packed runs answer like raw points; old ones are rebuilt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.availability import device_availability, materialize, source
from api.availability.service import LOCAL
from api.rollup_job import run_once
from contract.fastreport import received
from contract.models import DeviceResult, Report
from devstack.servers import InfluxDB
from ingest.points import report_lines
from tsdb.influxql import InfluxQL
from tsdb.lineprotocol import line
from tsdb.writer import InfluxV1Writer

AREA = "son-vi-khu-3"
STEP = 60


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _ns(at: datetime) -> int:
    return _ms(at) * 1_000_000


def _reports(start: datetime, hours: int) -> list[str]:
    """cam-cổng flaps (down for two results in every seven); the uplink stays up."""
    lines: list[str] = []
    for k in range(hours * 3600 // STEP):
        at = start + timedelta(seconds=k * STEP)
        cam = "down" if k % 7 in (3, 4) else "up"
        report = Report(
            area_id=AREA,
            agent_id="agent-1",
            seq=k,
            observed_at=at,
            interval_s=STEP,
            results=[
                DeviceResult(
                    device_id="cam-cổng",
                    kind="camera",
                    status=cam,
                    reason=None if cam == "up" else "timeout",
                    duration_ms=5.0,
                ),
                DeviceResult(device_id="uplink", kind="uplink", status="up", duration_ms=2.0),
            ],
        )
        lines += report_lines(received(report), at)
    return lines


def test_packed_rows_answer_like_raw_points_and_old_blocks_are_rebuilt(
    influxdb: InfluxDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.astimezone(LOCAL).replace(hour=0, minute=0, second=0)
    start = today.astimezone(UTC) - timedelta(days=1)  # yesterday, local
    influx = InfluxQL(influxdb.url, influxdb.database)
    writer = InfluxV1Writer(influxdb.url, influxdb.database)
    try:
        writer.write(_reports(start, 24))
        end = start + timedelta(days=1)
        raw = device_availability(influx, AREA, start, end, [], use_rollup=False)
        camera = next(d for d in raw.devices if d.device_id == "cam-cổng")
        assert camera.health.outages > 200  # a flapping device: hundreds of runs

        # Few runs to a row, so the block spans many rows of each device.
        monkeypatch.setattr(source, "RUNS_PER_ROW", 7)
        runs = materialize(influx, writer, AREA, start, end)
        rows = influx.query(f'SELECT count("build") FROM "{source.RUN_MEASUREMENT}"')
        per_device = source.raw_runs(
            influx, AREA, _ms(start), _ms(end), source.ROLLUP_SPLIT_INTERVALS
        ).by_device.values()
        assert rows[0].rows[0]["count"] == sum(-(-len(r) // 7) for r in per_device)
        rolled = device_availability(influx, AREA, start, end, [])
        assert rolled.sources == {"rollup_rows": runs, "raw_rows": 0}
        assert [d.model_dump() for d in rolled.devices] == [d.model_dump() for d in raw.devices]
        assert (rolled.kinds, rolled.area) == (raw.kinds, raw.area)

        # A block marker of the earlier format (a row per run, no "format" field) is not read:
        # its day falls back to raw points, and the roll-up job builds it again.
        before = start - timedelta(days=1)
        writer.write(_reports(before, 24))
        old = {"end_ms": int(start.timestamp() * 1000), "runs": 1, "build": 1}
        writer.write([line(source.BLOCK_MEASUREMENT, {"area": AREA}, old, _ns(before))])
        assert [b[:2] for b in source.blocks(influx, AREA, _ms(before), _ms(end))] == [
            (_ms(start), _ms(end))
        ]
        tally = run_once(influx, writer, [AREA], now, timedelta(days=2))
        assert tally.failed_areas == 0
        built = [b[:2] for b in source.blocks(influx, AREA, _ms(before), _ms(end))]
        assert (_ms(before), _ms(start)) in built
        assert device_availability(influx, AREA, before, end, []).sources["raw_rows"] == 0
    finally:
        influx.close()
        writer.close()
