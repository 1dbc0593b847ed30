"""Province live-status roll-up against the real InfluxDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api import rollup
from api.rollup import province_status
from api.status import ExpectedDevice, area_status
from contract.fastreport import ReceivedReport, received
from contract.models import DeviceKind, DeviceResult, Report
from devstack.servers import InfluxDB
from ingest.points import report_lines
from tsdb.influxql import InfluxQL, Series
from tsdb.lineprotocol import line
from tsdb.writer import InfluxV1Writer


def _report(area: str, at: datetime, statuses: dict[str, str], agent: str = "") -> ReceivedReport:
    return received(
        Report(
            area_id=area,
            agent_id=agent or f"agent-{area}",
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
    )


class Recording(InfluxQL):
    """The real client, remembering its statements: which areas were read device by device."""

    statements: list[str]

    def query(self, q: str) -> list[Series]:
        self.statements.append(q)
        return super().query(q)

    def device_by_device(self) -> str:
        return " ".join(s for s in self.statements if "status_code" in s)


CATALOG = {
    "a": {"cam-1", "uplink"},
    "b": {"cam-1", "cam-2"},
    "c": {"cam-1"},
    "d": {"cam-1", "cam-2"},  # the agent probes only cam-1
    "e": {"cam-1", "cam-2"},  # two agents
    "f": {"cam-1"},  # a report stored before the counts existed
    "silent": {"cam-1", "cam-2"},
    "x' OR 'a'='a": {"cam-1"},
}


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
    lines += report_lines(_report("d", now - timedelta(seconds=10), {"cam-1": "down"}), now)
    for agent, device in (("north", "cam-1"), ("south", "cam-2")):
        at = now - timedelta(seconds=15)
        lines += report_lines(_report("e", at, {device: "up"}, agent), now)
    # Area f: the summary as an older ingest wrote it, without counts or fingerprint.
    old = report_lines(_report("f", now - timedelta(seconds=5), {"cam-1": "degraded"}), now)
    at_ns = int((now - timedelta(seconds=5)).timestamp()) * 1_000_000_000
    summary = {"seq": 0, "interval_s": 60.0, "devices": 1, "lag_s": 0.1}
    lines += [*old[:-1], line("agent_report", {"agent": "agent-f", "area": "f"}, summary, at_ns)]
    # Area z: not in the province.
    lines += report_lines(_report("z", now - timedelta(seconds=10), {"cam-1": "down"}), now)
    writer.write(lines)
    influx = Recording(influxdb.url, influxdb.database)
    influx.statements = []
    try:
        status = province_status(influx, CATALOG)
        by_area = {a.area_id: a for a in status.areas}
        assert set(by_area) == {"a", "b", "c", "d", "e", "f"}
        assert by_area["a"].counts == {"up": 2, "degraded": 0, "down": 0, "unknown": 0}
        assert by_area["b"].counts == {"up": 0, "degraded": 1, "down": 1, "unknown": 0}
        assert by_area["c"].counts == {"up": 0, "degraded": 0, "down": 0, "unknown": 1}
        assert (by_area["c"].agents, by_area["c"].agents_silent) == (1, 1)
        assert by_area["d"].counts == {"up": 0, "degraded": 0, "down": 1, "unknown": 1}
        assert by_area["e"].counts == {"up": 2, "degraded": 0, "down": 0, "unknown": 0}
        assert (by_area["e"].agents, by_area["e"].devices) == (2, ["cam-1", "cam-2"])
        assert by_area["f"].counts == {"up": 0, "degraded": 1, "down": 0, "unknown": 0}
        assert by_area["a"].last_report_age_s is not None
        assert 30 <= by_area["a"].last_report_age_s < 60
        # The silent area's two catalog devices are unknown too.
        assert status.counts == {"up": 4, "degraded": 2, "down": 2, "unknown": 5}
        assert status.areas_silent == ["silent", "x' OR 'a'='a"]
        # a, b and c were counted from their agents' reports; the others device by device.
        read = influx.device_by_device()
        assert all(f"'{area}'" not in read for area in "abc"), read
        assert all(f"'{area}'" in read for area in "def"), read

        # The same answer as the per-area status page, area by area.
        for area, devices in CATALOG.items():
            expected = [ExpectedDevice(d, DeviceKind.CAMERA, None) for d in sorted(devices)]
            one = area_status(influx, area, timedelta(hours=1), 3.0, expected)
            got = by_area[area].counts if area in by_area else {"unknown": len(devices)}
            assert {k: v for k, v in got.items() if v} == {
                k: v for k, v in one.counts.items() if v
            }, area

        # Without a catalog: every area of the database, as heard; many areas, several statements.
        assert {a.area_id for a in province_status(influx, None).areas} == {*"abcdefz"}
        many = {f"area-{i}": {"cam-1"} for i in range(rollup.AREAS_PER_STATEMENT * 2)}
        assert [a.area_id for a in province_status(influx, {**many, "b": set()}).areas] == ["b"]
    finally:
        influx.close()
        writer.close()
