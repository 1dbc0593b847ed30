"""A device's metric over time, for charts (the uplink's latency and loss, say)."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy import select

from api.bounds import Instant
from api.deps import AcceptLanguage, AreaId, CanRead, InfluxDep, SessionDep
from api.i18n import text
from api.series import MAX_POINTS, MetricSeries, metric_series
from catalog.models import Device
from contract.models import FLAG_METRICS, TEXT_METRICS
from tsdb.influxql import QueryRefused

router = APIRouter(prefix="/areas", tags=["status"])
_TEXT_FIELDS = frozenset({"status", "reason", "detail"})  # a device point's fixed text fields


def _not_numeric(metric: str) -> str | None:
    """What ``metric`` is if not a number (mean and max need one), by the contract's rule."""
    if metric in TEXT_METRICS or metric in _TEXT_FIELDS:
        return "text"
    if metric in FLAG_METRICS:
        return "true/false"
    return None


@router.get("/{area_id}/series", summary="One metric of one device, averaged per step")
def get_series(
    area_id: AreaId,
    _: CanRead,
    session: SessionDep,
    db: InfluxDep,
    device: Annotated[str, Query(min_length=1, max_length=128, description="device id")],
    metric: Annotated[
        str, Query(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="e.g. rtt_ms, web_loss_pct")
    ],
    start: Annotated[Instant, Query(alias="from", description="start, with offset")],
    end: Annotated[Instant, Query(alias="to", description="end, with offset")],
    step_s: Annotated[int, Query(ge=60, le=86_400, description="bucket length")] = 900,
    accept_language: AcceptLanguage = None,
) -> MetricSeries:
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "from < to, both with offsets")
    if end - start > timedelta(seconds=step_s * MAX_POINTS):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"at most {MAX_POINTS} steps: raise step_s"
        )
    kind = _not_numeric(metric)
    if kind is not None:  # the contract fixes each metric's type by its name
        detail = text("metric_not_numeric", accept_language).format(metric=metric, kind=kind)
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)
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
    except QueryRefused as exc:  # the query is wrong (legacy data of another type, say)
        detail = text("query_refused", accept_language) + str(exc)
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail) from None
