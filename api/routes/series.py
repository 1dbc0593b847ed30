"""A device's metric over time, for charts (the uplink's latency and loss, say)."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access import Action, Caller, authorize, db_session
from api.bounds import Instant
from api.catalog.models import Device
from api.deps import influx
from api.i18n import text
from api.series import MAX_POINTS, MetricSeries, metric_series
from contract.topics import SLUG_MAX, SLUG_PATTERN
from tsdb.influxql import InfluxQL, QueryError

router = APIRouter(prefix="/areas", tags=["status"])
AreaId = Annotated[str, Path(pattern=SLUG_PATTERN, max_length=SLUG_MAX)]


@router.get("/{area_id}/series", summary="One metric of one device, averaged per step")
def get_series(
    area_id: AreaId,
    _: Annotated[Caller, Depends(authorize(Action.READ))],
    session: Annotated[Session, Depends(db_session)],
    db: Annotated[InfluxQL, Depends(influx)],
    device: Annotated[str, Query(min_length=1, max_length=128, description="device id")],
    metric: Annotated[
        str, Query(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="e.g. rtt_ms, web_loss_pct")
    ],
    start: Annotated[Instant, Query(alias="from", description="start, with offset")],
    end: Annotated[Instant, Query(alias="to", description="end, with offset")],
    step_s: Annotated[int, Query(ge=60, le=86_400, description="bucket length")] = 900,
    accept_language: Annotated[str | None, Header()] = None,
) -> MetricSeries:
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "from < to, both with offsets")
    if end - start > timedelta(seconds=step_s * MAX_POINTS):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"at most {MAX_POINTS} steps: raise step_s"
        )
    row = session.execute(
        select(Device).where(Device.area_id == area_id, Device.id == device)
    ).scalar_one_or_none()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such device in this area's catalog")
    try:
        return metric_series(
            db,
            area_id,
            row.kind,
            device,
            metric,
            start.astimezone(UTC),
            end.astimezone(UTC),
            step_s,
        )
    except QueryError:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, text("database_unavailable", accept_language)
        ) from None
