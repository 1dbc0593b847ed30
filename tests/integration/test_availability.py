"""Availability from a scripted timeline published through the real broker and ingest.

Two Vietnamese days (local midnight = 17:00 UTC), reports every 5 minutes (cap 3 × 300 s = 900 s)
from one agent with two cameras and the uplink. Every expected figure below is worked out by hand
in the comments; the API must match each to within 0.01 percentage points (it is exact).

Local time (UTC+7), day 1 and day 2:
- d1 02:00–03:00 cam-cổng down (12 reports): outage of 3,600 s.
- d1 06:00 cam-2 installed: unknown before (21,600 s).
- d1 10:00–10:30 cam-cổng degraded: 1,800 s (counts as up for availability).
- d1 12:00–13:00 agent silent: the 11:55 results hold until 12:10, then 3,000 s unknown (all).
- d1 20:00–21:00 uplink down: 3,600 s; the cameras are fine from the LAN but not from outside.
- midnight: the agent's clock steps 20 minutes forward, so day 2's reports are stamped 00:20,
  00:25, …; the 23:55 results hold until 00:10 (5 min in d1, 10 in d2), 600 s unknown in d2.
- d2 07:50–08:30 cam-cổng down, maintenance 08:00–09:00: only 600 s of it counts.
- d2 14:00–15:00: reports held in the agent's outbox, published LAST (late data); cam-cổng was
  down through that hour. Before they arrive: 13:55 holds until 14:10, 3,000 s unknown.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.availability import (
    AreaAvailability,
    device_availability,
    materialize,
    refresh,
    stale_blocks,
)
from api.status import ExpectedDevice
from contract import topics
from contract.models import DeviceKind, DeviceResult, Report
from devstack.servers import InfluxDB
from ingest.service import IngestService
from tests.integration.conftest import Publish, count_points, wait_for
from tsdb.influxql import InfluxQL
from tsdb.writer import InfluxV1Writer

AREA, AGENT = "khu-pho-3", "agent-1"
STEP = 300
DAY = 86_400
# Two whole local days ending at the last local midnight before now.
_now_local = datetime.now(UTC) + timedelta(hours=7)
W1 = datetime(_now_local.year, _now_local.month, _now_local.day, tzinfo=UTC) - timedelta(hours=7)
W0 = W1 - timedelta(days=2)
MAINTENANCE = [(W0 + timedelta(days=1, hours=8), W0 + timedelta(days=1, hours=9))]


def _local(day: int, hh: int, mm: int) -> int:
    """Seconds from W0 of a local wall-clock time of day 1 or 2."""
    return (day - 1) * DAY + hh * 3600 + mm * 60


def _in(t: int, day: int, start: tuple[int, int], end: tuple[int, int]) -> bool:
    return _local(day, *start) <= t < _local(day, *end)


def _script() -> tuple[list[Report], list[Report]]:
    """(reports in arrival order, the late ones published after them)."""
    on_time: list[Report] = []
    late: list[Report] = []
    for k in range(2 * DAY // STEP):
        t = k * STEP  # the true time, seconds from W0
        if _in(t, 1, (12, 0), (13, 0)):
            continue  # agent silent
        stamp = t + (1200 if t >= DAY else 0)  # the clock stepped 20 min forward at midnight
        if stamp >= 2 * DAY:
            continue
        cam = "up"
        if _in(stamp, 1, (2, 0), (3, 0)) or _in(stamp, 2, (7, 50), (8, 30)):
            cam = "down"
        elif _in(stamp, 1, (10, 0), (10, 30)):
            cam = "degraded"
        is_late = _in(stamp, 2, (14, 0), (15, 0))
        if is_late:
            cam = "down"
        results = [
            DeviceResult(
                device_id="cam-cổng",
                kind="camera",
                status=cam,
                reason=None if cam == "up" else "timeout",
                duration_ms=40.0,
            ),
            DeviceResult(
                device_id="uplink",
                kind="uplink",
                status="down" if _in(stamp, 1, (20, 0), (21, 0)) else "up",
                reason="timeout" if _in(stamp, 1, (20, 0), (21, 0)) else None,
                duration_ms=9.0,
            ),
        ]
        if stamp >= _local(1, 6, 0):
            results.append(
                DeviceResult(device_id="cam-2", kind="camera", status="up", duration_ms=30.0)
            )
        report = Report(
            area_id=AREA,
            agent_id=AGENT,
            seq=k,
            observed_at=W0 + timedelta(seconds=stamp),
            interval_s=STEP,
            results=results,
        )
        (late if is_late else on_time).append(report)
    return on_time, late


def _figures(result: AreaAvailability) -> dict[str, dict[str, object]]:
    return {d.device_id: d.health.model_dump() for d in result.devices}


def _check(result: AreaAvailability, expected: dict[str, dict[str, float]]) -> None:
    got = _figures(result)
    for device, want in expected.items():
        for name, value in want.items():
            actual = got[device][name]
            assert isinstance(actual, int | float), (device, name, actual)
            tolerance = 0.01 if name in ("availability", "coverage") else 1e-6
            assert actual == pytest.approx(value, abs=tolerance), (device, name, actual, value)


OPEN = 2 * DAY - 3600  # window − maintenance
EXPECTED = [
    ExpectedDevice("cam-cổng", DeviceKind.CAMERA, "Camera cổng"),
    ExpectedDevice("cam-2", DeviceKind.CAMERA, None),
    ExpectedDevice("uplink", DeviceKind.UPLINK, None),
]
COMMON_UNKNOWN = 3000 + 600  # agent silent d1 + clock step d2
BEFORE_LATE = {
    # down 3,600 (d1) + 600 (d2, before maintenance); unknown also 3,000 s of the held hour
    "cam-cổng": {
        "down_s": 4200,
        "degraded_s": 1800,
        "unknown_s": COMMON_UNKNOWN + 3000,
        "up_s": OPEN - COMMON_UNKNOWN - 3000 - 4200 - 1800,
        "maintenance_s": 3600,
        "availability": 100
        * (OPEN - COMMON_UNKNOWN - 3000 - 4200)
        / (OPEN - COMMON_UNKNOWN - 3000),
        "outages": 2,
        "mttr_s": 2100,
        "longest_outage_s": 3600,
    },
}
AFTER_LATE = {
    "cam-cổng": {
        "up_s": 156_000,  # 169,200 − 3,600 unknown − 7,800 down − 1,800 degraded
        "degraded_s": 1800,
        "down_s": 7800,  # 3,600 + 600 + 3,600 (the late hour)
        "unknown_s": 3600,
        "maintenance_s": 3600,
        "availability": 100 * 157_800 / 165_600,  # 95.2899 %
        "coverage": 100 * 165_600 / 169_200,  # 97.8723 %
        "outages": 3,
        "longest_outage_s": 3600,
        "mttr_s": 2600,
    },
    "uplink": {
        "up_s": 162_000,
        "down_s": 3600,
        "unknown_s": 3600,
        "availability": 100 * 162_000 / 165_600,  # 97.8261 %
        "outages": 1,
        "mttr_s": 3600,
    },
    "cam-2": {
        "up_s": 144_000,  # 169,200 − 3,600 − 21,600 not yet installed
        "down_s": 0,
        "unknown_s": 25_200,
        "availability": 100.0,
        "coverage": 100 * 144_000 / 169_200,  # 85.1064 %
        "outages": 0,
    },
}


def _check_after_late(result: AreaAvailability) -> None:
    _check(result, AFTER_LATE)
    cam = next(d for d in result.devices if d.device_id == "cam-cổng")
    # Days are Vietnamese days: d1 has the silence, d2 the maintenance, the clock step and the
    # late hour. d1: down 3,600, degraded 1,800, unknown 3,000 → up 78,000.
    d1, d2 = (b.figures for b in cam.series)
    assert (d1.up_s, d1.down_s, d1.unknown_s, d1.maintenance_s) == (78_000, 3600, 3000, 0)
    assert d1.availability == pytest.approx(100 * 79_800 / 83_400, abs=0.01)
    # d2: maintenance 3,600, unknown 600, down 600 + 3,600 → up 78,000.
    assert (d2.up_s, d2.down_s, d2.unknown_s, d2.maintenance_s) == (78_000, 4200, 600, 3600)
    assert d2.availability == pytest.approx(100 * 78_000 / 82_200, abs=0.01)
    assert [b.start for b in cam.series] == [W0, W0 + timedelta(days=1)]
    # Remote: the uplink's hour down is an outage from outside for both cameras.
    assert cam.remote is not None
    assert cam.remote.down_s == 7800 + 3600
    assert cam.remote.outages == 4
    assert cam.remote.availability == pytest.approx(100 * 154_200 / 165_600, abs=0.01)
    cam2 = next(d for d in result.devices if d.device_id == "cam-2")
    assert cam2.remote is not None
    assert cam2.remote.availability == pytest.approx(97.5, abs=0.01)
    # Aggregates: all cameras; the whole area.
    cameras = result.kinds[DeviceKind.CAMERA].health
    assert cameras.availability == pytest.approx(100 * 301_800 / 309_600, abs=0.01)
    assert result.area.health.availability == pytest.approx(100 * 463_800 / 475_200, abs=0.01)
    assert result.area.health.coverage == pytest.approx(100 * 475_200 / 507_600, abs=0.01)
    assert result.area.health.outages == 4
    assert [(m.start, m.end) for m in result.maintenance] == MAINTENANCE
    assert [o.down_s for o in cam.outages] == [3600, 600, 3600]
    assert "không rõ" in result.rules.vi
    assert "unknown" in result.rules.en


def test_scripted_timeline_through_broker_and_ingest(
    ingest: IngestService, publish: Publish, influxdb: InfluxDB
) -> None:
    on_time, late = _script()
    for report in on_time:
        publish(topics.report_topic(AREA, AGENT), report.to_json())
    wait_for(
        lambda: count_points(influxdb, "uplink") == len(on_time), "the on-time reports", timeout=60
    )
    influx = InfluxQL(influxdb.url, influxdb.database)
    writer = InfluxV1Writer(influxdb.url, influxdb.database)
    try:
        raw = device_availability(influx, AREA, W0, W1, MAINTENANCE)
        _check(raw, BEFORE_LATE)
        assert raw.sources["rollup_rows"] == 0

        # Roll-up blocks give the same figures from the run measurement: first the hours of a
        # day as it goes by (the outage hour among them), then that day's own block over them.
        for hour in (1, 2, 3):
            materialize(
                influx, writer, AREA, W0 + timedelta(hours=hour), W0 + timedelta(hours=hour + 1)
            )
        hourly = device_availability(influx, AREA, W0, W1, MAINTENANCE)
        assert hourly.sources["rollup_rows"] > 0
        assert _figures(hourly) == _figures(raw)
        for day in range(2):
            materialize(
                influx, writer, AREA, W0 + timedelta(days=day), W0 + timedelta(days=day + 1)
            )
        rolled = device_availability(influx, AREA, W0, W1, MAINTENANCE)
        assert rolled.sources["rollup_rows"] > 0
        assert _figures(rolled) == _figures(raw)

        # The outbox drains: the late hour fills in history.
        for report in late:
            publish(topics.report_topic(AREA, AGENT), report.to_json())
        total = len(on_time) + len(late)
        wait_for(lambda: count_points(influxdb, "uplink") == total, "the late reports")
        # Raw points show the late hour at once; the roll-up shows day 2's block as it was built
        # until the roll-up job finds it stale (from agent_report.lag_s) and rebuilds it.
        _check_after_late(device_availability(influx, AREA, W0, W1, MAINTENANCE, use_rollup=False))
        assert _figures(device_availability(influx, AREA, W0, W1, MAINTENANCE)) == _figures(rolled)
        stale = stale_blocks(influx, AREA, W0, W1)
        assert stale == [(int(W0.timestamp() * 1000) + DAY * 1000, int(W1.timestamp() * 1000))]
        assert refresh(influx, writer, AREA, W0, W1) == stale
        assert stale_blocks(influx, AREA, W0, W1) == []
        after = device_availability(influx, AREA, W0, W1, MAINTENANCE)
        _check_after_late(after)
        # Without per-device series (long windows): the same totals, kind and area figures.
        lean = device_availability(influx, AREA, W0, W1, MAINTENANCE, device_series=False)
        assert [(d.health, d.remote) for d in lean.devices] == [
            (d.health, d.remote) for d in after.devices
        ]
        assert (lean.kinds, lean.area) == (after.kinds, after.area)
        assert all(d.series == [] and d.remote_series is None for d in lean.devices)
        # A camera the catalog lists but nobody ever heard from: all unknown, lowers coverage.
        listed = [ExpectedDevice("cam-mới", DeviceKind.CAMERA, "Camera mới"), *EXPECTED]
        with_catalog = device_availability(influx, AREA, W0, W1, MAINTENANCE, expected=listed)
        silent = next(d for d in with_catalog.devices if d.device_id == "cam-mới")
        assert (silent.agent_id, silent.health.unknown_s, silent.health.availability) == (
            None,
            OPEN,
            None,
        )
        assert with_catalog.kinds[DeviceKind.CAMERA].devices == 3
        assert with_catalog.area.health.coverage == pytest.approx(
            100 * 475_200 / (4 * OPEN), abs=0.01
        )
        assert after.sources["rollup_rows"] > 0

        # An area id is user input: quoted, it finds nothing rather than everything.
        sneaky = device_availability(influx, "x' OR area =~ /.*/ OR area = 'x", W0, W1, [])
        assert sneaky.devices == []
    finally:
        influx.close()
        writer.close()
