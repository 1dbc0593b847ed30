from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Path, status

from api.deps import influx, reader, settings
from api.i18n import text
from api.settings import ApiSettings
from api.status import AreaStatus, area_status
from contract.topics import SLUG_MAX, SLUG_PATTERN
from tsdb.influxql import InfluxQL, QueryError

router = APIRouter(prefix="/areas", tags=["areas"], dependencies=[Depends(reader)])

AreaId = Annotated[
    str, Path(pattern=SLUG_PATTERN, max_length=SLUG_MAX, description="stable area id")
]


@router.get("/{area_id}/status", summary="Each device's latest state in one residential area")
def get_area_status(
    area_id: AreaId,
    db: Annotated[InfluxQL, Depends(influx)],
    config: Annotated[ApiSettings, Depends(settings)],
    accept_language: Annotated[str | None, Header()] = None,
) -> AreaStatus:
    try:
        result = area_status(
            db, area_id, timedelta(seconds=config.lookback_s), config.stale_after_intervals
        )
    except QueryError:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, text("database_unavailable", accept_language)
        ) from None
    if result is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, text("area_not_found", accept_language))
    return result
