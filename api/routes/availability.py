"""Availability and coverage of an area over any window: what auditors rely on.

The figures come from ``api.availability`` (time-weighted, pushed into InfluxDB, rules stated in
every answer); this route adds what only the catalog knows: the maintenance windows to exclude and
the devices that never reported at all.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import Field

from api import evidence
from api.availability.model import AreaAvailability
from api.bounds import Instant
from api.deps import (
    AreaId,
    CanRead,
    InfluxDep,
    SessionDep,
    SettingsDep,
)
from catalog.models import Area

router = APIRouter(prefix="/areas", tags=["availability"])
MAX_WINDOW = timedelta(days=3 * 366)


class AvailabilityOut(AreaAvailability):
    never_reported: list[str] = Field(
        description="catalog devices with no result holding inside the window: listed among the "
        "devices with their whole window unknown (or before installation)"
    )


@router.get("/{area_id}/availability", summary="Time-weighted availability and coverage")
def get_availability(
    area_id: AreaId,
    _: CanRead,
    session: SessionDep,
    db: InfluxDep,
    config: SettingsDep,
    window_from: Annotated[Instant, Query(alias="from", description="start, with offset")],
    window_to: Annotated[Instant, Query(alias="to", description="end, with offset")],
    resolution_s: Annotated[
        int | None,
        Query(
            ge=60,
            le=int(MAX_WINDOW.total_seconds()),
            description="series buckets; absent = calendar days in Vietnam",
        ),
    ] = None,
    raw: Annotated[
        bool, Query(description="read raw points only (an auditor's cross-check)")
    ] = False,
) -> AvailabilityOut:
    if window_from.tzinfo is None or window_to.tzinfo is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "from and to need a UTC offset")
    if not timedelta(0) < window_to - window_from <= MAX_WINDOW:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "from must precede to, by at most 3 years"
        )
    start, end = window_from.astimezone(UTC), window_to.astimezone(UTC)
    result = evidence.availability(
        session,
        db,
        area_id,
        start,
        end,
        config.stale_after_intervals,
        resolution=timedelta(seconds=resolution_s) if resolution_s else None,
        raw=raw,
    )
    area = session.get(Area, area_id)
    catalog = {d.id for d in area.devices} if area else set()
    missing = sorted(
        d.device_id for d in result.devices if d.agent_id is None and d.device_id in catalog
    )
    return AvailabilityOut(**result.model_dump(), never_reported=missing)
