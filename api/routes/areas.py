"""Live status of one area, answered from InfluxDB and the catalog."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, HTTPException, status

from api.deps import (
    AcceptLanguage,
    AreaId,
    CanRead,
    InfluxDep,
    SessionDep,
    SettingsDep,
)
from api.i18n import text
from api.status import AreaStatus, ExpectedDevice, area_status
from catalog.models import Area
from contract.models import DeviceKind
from tsdb.influxql import QueryError

router = APIRouter(prefix="/areas", tags=["status"])


@router.get("/{area_id}/status", summary="Each device's latest state in one residential area")
def get_area_status(
    area_id: AreaId,
    _: CanRead,
    session: SessionDep,
    db: InfluxDep,
    config: SettingsDep,
    accept_language: AcceptLanguage = None,
) -> AreaStatus:
    area = session.get(Area, area_id)
    assert area is not None  # noqa: S101 - authorize() answered 404 otherwise
    expected = [ExpectedDevice(d.id, DeviceKind(d.kind), d.name) for d in area.devices]
    try:
        result = area_status(
            db,
            area_id,
            timedelta(seconds=config.lookback_s),
            config.stale_after_intervals,
            expected,
        )
    except QueryError:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, text("database_unavailable", accept_language)
        ) from None
    return result.model_copy(update={"name": area.name})
