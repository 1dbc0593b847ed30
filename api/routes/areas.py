"""Live status of one area, answered from InfluxDB and the catalog."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Path, status
from sqlalchemy.orm import Session

from api.access import Action, Caller, authorize, db_session
from api.deps import influx, settings
from api.i18n import text
from api.settings import ApiSettings
from api.status import AreaStatus, ExpectedDevice, area_status
from catalog.models import Area
from contract.models import DeviceKind
from contract.topics import SLUG_MAX, SLUG_PATTERN
from tsdb.influxql import InfluxQL, QueryError

router = APIRouter(prefix="/areas", tags=["status"])

AreaId = Annotated[
    str, Path(pattern=SLUG_PATTERN, max_length=SLUG_MAX, description="stable area id")
]


@router.get("/{area_id}/status", summary="Each device's latest state in one residential area")
def get_area_status(
    area_id: AreaId,
    _: Annotated[Caller, Depends(authorize(Action.READ))],
    session: Annotated[Session, Depends(db_session)],
    db: Annotated[InfluxQL, Depends(influx)],
    config: Annotated[ApiSettings, Depends(settings)],
    accept_language: Annotated[str | None, Header()] = None,
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
