"""Live status of one area, answered from InfluxDB and the catalog."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter

from api.deps import (
    AreaId,
    CanRead,
    InfluxDep,
    SessionDep,
    SettingsDep,
)
from api.status import AreaStatus, ExpectedDevice, area_status
from catalog.models import Area
from contract.models import DeviceKind

router = APIRouter(prefix="/areas", tags=["status"])


@router.get("/{area_id}/status", summary="Each device's latest state in one residential area")
def get_area_status(
    area_id: AreaId,
    _: CanRead,
    session: SessionDep,
    db: InfluxDep,
    config: SettingsDep,
) -> AreaStatus:
    area = session.get(Area, area_id)
    assert area is not None  # noqa: S101 - authorize() answered 404 otherwise
    expected = [ExpectedDevice(d.id, DeviceKind(d.kind), d.name) for d in area.devices]
    result = area_status(
        db, area_id, timedelta(seconds=config.lookback_s), config.stale_after_intervals, expected
    )
    return result.model_copy(update={"name": area.name})
