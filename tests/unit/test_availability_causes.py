"""Each cause of issue 15, with figures computed by hand (docs/availability.md).

The database seam (``read_runs``) is replaced by the runs it would return; everything after it
(holds, holes, uplinks, figures) is the code the API runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from api.availability import service
from api.availability.model import CatalogDevice, MaintenanceSpan
from api.availability.source import DeviceKey, Runs
from api.availability.timeline import Holes, Run, Segment, best_uplink, segments, tally
from api.status import ExpectedDevice
from contract.models import DeviceKind

S = 1000
UP, DEGRADED, DOWN = 2, 1, 0
T0 = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # local midnight, 1 December 2026
CAM = DeviceKey(DeviceKind.CAMERA, "cam-01")
CAM2 = DeviceKey(DeviceKind.CAMERA, "cam-02")
MAIN = DeviceKey(DeviceKind.UPLINK, "uplink-vnpt")
BACKUP = DeviceKey(DeviceKind.UPLINK, "uplink-4g")


def _t(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _ms(seconds: float) -> int:
    return round(_t(seconds).timestamp() * S)


def _run(first_s: float, last_s: float, code: int, interval_s: float = 60) -> Run:
    return Run(_ms(first_s), _ms(last_s), code, interval_s)


@pytest.fixture
def stored(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[DeviceKey, list[Run]]]:
    """The runs the database 'holds'; the service reads them through its seam."""
    runs: dict[DeviceKey, list[Run]] = {}

    def read_runs(*_: Any, **__: Any) -> Runs:
        out = Runs()
        for key, device_runs in runs.items():
            out.by_device[key].extend(device_runs)
            out.agents[key] = "nvh"
        return out

    monkeypatch.setattr(service, "read_runs", read_runs)
    yield runs


def _answer(seconds: float, **kwargs: Any) -> Any:
    maintenance = kwargs.pop("maintenance", [])
    return service.device_availability(None, "khu-6", T0, _t(seconds), maintenance, **kwargs)  # type: ignore[arg-type]


def test_cause_1_a_catalog_device_that_never_reports_counts_as_unknown(
    stored: dict[DeviceKey, list[Run]],
) -> None:
    stored[CAM] = [_run(0, 3540, UP)]  # an hour of results every minute
    result = _answer(3600, expected=[ExpectedDevice("cam-02", DeviceKind.CAMERA, "Cổng")])
    silent = next(d for d in result.devices if d.device_id == "cam-02")
    assert (silent.agent_id, silent.health.unknown_s, silent.health.coverage) == (None, 3600, 0)
    # The kind's coverage: 3,600 s observed of 7,200 (was 100 % without the catalog).
    assert result.kinds[DeviceKind.CAMERA].health.coverage == pytest.approx(50.0)
    assert result.kinds[DeviceKind.CAMERA].devices == 2


def test_cause_1_a_device_outside_the_window_is_not_listed(
    stored: dict[DeviceKey, list[Run]],
) -> None:
    """A block sticking out of the window carries devices heard only outside it: not listed
    (raw points of the window would not have them either)."""
    stored[CAM] = [_run(0, 3540, UP)]
    stored[CAM2] = [_run(7200, 7800, UP)]  # in the same day block, an hour after the window
    assert [d.device_id for d in _answer(3600).devices] == ["cam-01"]


def test_cause_2_each_result_holds_by_its_own_reports_interval() -> None:
    """Up at 0 s in a 60 s report, down at 1,000 s in a 1,800 s report (the agent slowed down):
    the up result holds 3 × 60 = 180 s, not 3 × 1,800 (the longest interval in the span)."""
    runs = [_run(0, 0, UP, 60), _run(1000, 1000, DOWN, 1800)]
    t = tally(segments(runs, 3.0), _ms(0), _ms(7200), [])
    assert (t.up_ms, t.down_ms, t.unknown_ms) == (180 * S, 5400 * S, (7200 - 5580) * S)


def test_cause_2_a_day_has_the_same_figures_alone_and_inside_a_month(
    stored: dict[DeviceKey, list[Run]],
) -> None:
    # Day 1: one result every 60 s, silent from 12:00 for an hour. Day 2: one 1,800 s report.
    stored[CAM] = [
        _run(0, 43_140, UP, 60),
        _run(46_800, 86_340, UP, 60),
        _run(86_400 + 3600, 86_400 + 3600, UP, 1800),
    ]
    day = _answer(86_400).devices[0].health
    month = _answer(30 * 86_400).devices[0].series[0].figures
    assert day == month
    # The last result before the silence (43,140 s) holds 180 s; the silence is unknown.
    assert (day.up_s, day.unknown_s) == ((43_140 + 180) + (86_400 - 46_800), 46_800 - 43_320)


def test_cause_3_a_result_half_an_hour_old_still_holds_at_the_window_start(
    stored: dict[DeviceKey, list[Run]],
) -> None:
    """Probed every 30 min: the result 50 min before the window holds 90 min, so the window's
    first 40 min are up, not unknown (the read looks back as far as a result can hold)."""
    stored[CAM] = [_run(-3000, -3000, UP, 1800), _run(-1200, 600, UP, 1800)]
    health = _answer(3600).devices[0].health
    assert (health.up_s, health.unknown_s) == (3600, 0)  # 600 s + 5,400 s cap > 3,600 s


def test_cause_4_one_uplink_down_and_the_other_unknown_is_unknown_not_disconnected() -> None:
    main = [Segment(0, 100 * S, "down")]
    backup = [Segment(0, 50 * S, "up")]  # the 4G backup is silent after 50 s
    connection, _ = best_uplink([(main, Holes.of()), (backup, Holes.of())])
    assert connection == [Segment(0, 50 * S, "up")]  # 50–100 s: unknown, neither up nor down


def test_cause_4_a_silent_catalog_uplink_keeps_remote_unknown(
    stored: dict[DeviceKey, list[Run]],
) -> None:
    stored[CAM] = [_run(0, 3540, UP)]
    stored[MAIN] = [_run(0, 3540, DOWN)]
    catalog = [CatalogDevice("uplink-4g", DeviceKind.UPLINK)]
    remote = _answer(3600, expected=catalog).devices[0].remote
    assert remote is not None
    assert (remote.down_s, remote.unknown_s, remote.availability) == (0, 3600, None)
    # Without the backup in the catalog the area is known to be cut off.
    alone = _answer(3600).devices[0].remote
    assert alone is not None and (alone.down_s, alone.availability) == (3600, 0)


def test_cause_5_maintenance_declared_after_it_began_is_retroactive_and_says_who(
    stored: dict[DeviceKey, list[Run]],
) -> None:
    stored[CAM] = [_run(0, 1140, UP), _run(1200, 2340, DOWN), _run(2400, 3540, UP)]
    window = MaintenanceSpan(
        _t(1200), _t(2400), created_at=_t(1800), created_by="ktv-son-vi", reason="Thay nguồn"
    )
    result = _answer(3600, maintenance=[window])
    health = result.devices[0].health
    # 20 min down, all excluded: 10 planned (declared at 1,800 s), 10 declared after the fact.
    assert (health.down_s, health.planned_maintenance_s, health.retroactive_maintenance_s) == (
        0,
        600,
        600,
    )
    (listed,) = result.maintenance
    assert (listed.retroactive, listed.created_by, listed.created_at) == (
        True,
        "ktv-son-vi",
        _t(1800),
    )


def test_cause_5_a_backup_uplinks_maintenance_takes_nothing_from_the_cameras(
    stored: dict[DeviceKey, list[Run]],
) -> None:
    stored[CAM] = [_run(0, 3540, UP)]
    stored[MAIN] = [_run(0, 3540, UP)]
    stored[BACKUP] = [_run(0, 3540, DOWN)]
    backup_work = {"uplink-4g": [(_t(600), _t(1800))]}
    remote = _answer(3600, device_maintenance=backup_work).devices[0].remote
    assert remote is not None
    assert (remote.up_s, remote.maintenance_s) == (3600, 0)
    # The main line in maintenance 0–1,200 s: the (down) backup serves alone until 600 s, then
    # both are in maintenance (600–1,200 s) and only then is the cameras' remote time out.
    both = {**backup_work, "uplink-vnpt": [(_t(0), _t(1200))]}
    remote = _answer(3600, device_maintenance=both).devices[0].remote
    assert remote is not None
    assert (remote.up_s, remote.down_s, remote.planned_maintenance_s) == (2400, 600, 600)


def test_cause_5_mttr_counts_only_outages_seen_to_begin_and_end_inside(
    stored: dict[DeviceKey, list[Run]],
) -> None:
    # Down at the start (began before the window), up, down 10 min, up, down at the end.
    stored[CAM] = [
        _run(-600, 240, DOWN),
        _run(300, 1140, UP),
        _run(1200, 1740, DOWN),
        _run(1800, 2940, UP),
        _run(3000, 3540, DOWN),
    ]
    health = _answer(3600).devices[0].health
    assert (health.outages, health.outages_resolved) == (3, 1)
    assert (health.mttr_s, health.longest_outage_s) == (600, 600)
    assert health.down_s == 300 + 600 + 600


def test_cause_5_time_before_installation_is_its_own_category(
    stored: dict[DeviceKey, list[Run]],
) -> None:
    # Installed on 2 December (local): the first day of the window is before installation.
    stored[CAM] = [_run(86_400, 2 * 86_400 - 60, UP)]
    catalog = [CatalogDevice("cam-01", DeviceKind.CAMERA, date(2026, 12, 2))]
    health = _answer(2 * 86_400, expected=catalog).devices[0].health
    assert (health.before_installation_s, health.unknown_s, health.up_s) == (86_400, 0, 86_400)
    assert health.coverage == 100
    # A test probe the day before installation is not counted either.
    stored[CAM].insert(0, _run(3600, 3600, DOWN))
    health = _answer(2 * 86_400, expected=catalog).devices[0].health
    assert (health.down_s, health.before_installation_s) == (0, 86_400)
