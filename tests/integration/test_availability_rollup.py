"""Province live-status roll-up against the real InfluxDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api import rollup
from api.rollup import province_status
from contract.models import DeviceResult, Report
from devstack.servers import InfluxDB
from ingest.points import report_lines
from tsdb.influxql import InfluxQL
from tsdb.writer import InfluxV1Writer


def _report(area: str, at: datetime, statuses: dict[str, str]) -> Report:
    return Report(
        area_id=area,
        agent_id=f"agent-{area}",
        seq=0,
        observed_at=at,
        interval_s=60,
        results=[
            DeviceResult(
                device_id=device,
                kind="uplink" if device == "uplink" else "camera",
                status=status,
                reason=None if status == "up" else "timeout",
                duration_ms=5.0,
            )
            for device, status in statuses.items()
        ],
    )


def test_province_roll_up_counts_each_area_and_calls_old_results_unknown(
    influxdb: InfluxDB,
) -> None:
    now = datetime.now(UTC)
    writer = InfluxV1Writer(influxdb.url, influxdb.database)
    lines: list[str] = []
    # Area a: an older down result is superseded by the latest up one.
    lines += report_lines(_report("a", now - timedelta(minutes=5), {"cam-1": "down"}), now)
    lines += report_lines(
        _report("a", now - timedelta(seconds=30), {"cam-1": "up", "uplink": "up"}), now
    )
    # Area b: one camera down, one degraded.
    lines += report_lines(
        _report("b", now - timedelta(seconds=20), {"cam-1": "down", "cam-2": "degraded"}), now
    )
    # Area c: last heard 10 minutes ago (> 3 × 60 s): unknown, agent silent.
    lines += report_lines(_report("c", now - timedelta(minutes=10), {"cam-1": "up"}), now)
    # Area z: not in the province.
    lines += report_lines(_report("z", now - timedelta(seconds=10), {"cam-1": "down"}), now)
    writer.write(lines)
    influx = InfluxQL(influxdb.url, influxdb.database)
    try:
        status = province_status(influx, ["a", "b", "c", "silent", "x' OR 'a'='a"])
        by_area = {a.area_id: a for a in status.areas}
        assert set(by_area) == {"a", "b", "c"}
        assert by_area["a"].counts == {"up": 2, "degraded": 0, "down": 0, "unknown": 0}
        assert by_area["b"].counts == {"up": 0, "degraded": 1, "down": 1, "unknown": 0}
        assert by_area["c"].counts == {"up": 0, "degraded": 0, "down": 0, "unknown": 1}
        assert (by_area["c"].agents, by_area["c"].agents_silent) == (1, 1)
        assert by_area["a"].last_report_age_s is not None
        assert 30 <= by_area["a"].last_report_age_s < 60
        assert status.counts == {"up": 2, "degraded": 1, "down": 1, "unknown": 1}
        assert status.areas_silent == ["silent", "x' OR 'a'='a"]
        # Every area of the database when no list is given; many areas go in several statements.
        assert {a.area_id for a in province_status(influx, None).areas} == {"a", "b", "c", "z"}
        many = [f"area-{i}" for i in range(rollup.AREAS_PER_STATEMENT * 2)] + ["b"]
        assert [a.area_id for a in province_status(influx, many).areas] == ["b"]
    finally:
        influx.close()
        writer.close()
