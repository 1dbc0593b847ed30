"""Planned maintenance of an area (or one device): list, plan, cancel. Every change is audited.

Times are Vietnamese wall-clock times; one given with a UTC offset (as the availability route
requires) is converted to Asia/Ho_Chi_Minh first. A window for a device names a device of the
area's catalog. A window may begin in the past: it is then *retroactive* up to its creation, and
every availability answer lists it as such, with who created it and when (docs/availability.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, status
from pydantic import Field, WithJsonSchema, model_validator
from sqlalchemy import select

from api.bounds import Input, Instant
from api.deps import AreaId, CanPlanMaintenance, CanRead, RowId, SessionDep
from catalog import audit
from catalog.models import Device, MaintenanceWindow

router = APIRouter(prefix="/areas/{area_id}/maintenance", tags=["maintenance"])


_MAX = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
# Wall-clock time in Asia/Ho_Chi_Minh, or an instant with its offset (converted to Vietnamese
# wall-clock time): the offset is optional, so the schema states the form itself.
WallClock = Annotated[
    Instant,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?"
            r"(Z|[+-]\d{2}:\d{2})?$",
            "examples": ["2026-12-06T06:00", "2026-12-05T23:00Z"],
        }
    ),
]


def _local(value: datetime | None) -> datetime | None:
    """Wall-clock time in Vietnam: an instant with an offset is converted, a naive one kept."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(LOCAL).replace(tzinfo=None)


class WindowIn(Input):
    device_id: str | None = Field(default=None, max_length=128, description="none: whole area")
    starts_local: WallClock = Field(
        description="Vietnamese wall-clock time (2026-12-06T06:00), or with an offset "
        "(2026-12-05T23:00Z), converted to Vietnamese time"
    )
    ends_local: WallClock
    recurrence: Literal["none", "daily", "weekly"] = "none"
    until_local: WallClock | None = Field(default=None, description="last repetition starts by")
    reason: str = Field(min_length=3, max_length=300)

    @model_validator(mode="after")
    def _sane(self) -> WindowIn:
        self.starts_local = _local(self.starts_local) or self.starts_local
        self.ends_local = _local(self.ends_local) or self.ends_local
        self.until_local = _local(self.until_local)
        if self.ends_local <= self.starts_local:
            raise ValueError("ends_local must be after starts_local")
        if (
            self.recurrence != "none"
            and self.ends_local - self.starts_local > _MAX[self.recurrence]
        ):
            raise ValueError("a repeating window must be shorter than its period")
        return self


class WindowOut(WindowIn):
    id: int
    area_id: str
    timezone: str
    created_by: str
    created_at: datetime


@router.get("", summary="Maintenance windows of an area")
def list_windows(
    area_id: AreaId,
    _: CanRead,
    session: SessionDep,
) -> list[WindowOut]:
    rows = session.execute(
        select(MaintenanceWindow)
        .where(MaintenanceWindow.area_id == area_id)
        .order_by(MaintenanceWindow.starts_local)
    ).scalars()
    return [WindowOut.model_validate(row, from_attributes=True) for row in rows]


@router.post("", status_code=201, summary="Plan maintenance (technicians in scope, admins)")
def plan_window(
    area_id: AreaId,
    body: WindowIn,
    caller: CanPlanMaintenance,
    session: SessionDep,
) -> WindowOut:
    if body.device_id is not None and (
        session.execute(
            select(Device.id).where(Device.area_id == area_id, Device.id == body.device_id)
        ).first()
        is None
    ):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"no device {body.device_id!r} in the catalog of area {area_id!r}",
        )
    row = MaintenanceWindow(area_id=area_id, created_by=caller.username, **body.model_dump())
    session.add(row)
    session.flush()
    audit.record(
        session,
        caller.username,
        "maintenance.plan",
        f"area:{area_id}",
        {"window_id": row.id, **body.model_dump(mode="json")},
    )
    session.commit()
    return WindowOut.model_validate(row, from_attributes=True)


@router.delete("/{window_id}", status_code=204, summary="Cancel a maintenance window")
def cancel_window(
    area_id: AreaId,
    window_id: RowId,
    caller: CanPlanMaintenance,
    session: SessionDep,
) -> None:
    row = session.get(MaintenanceWindow, window_id)
    if row is None or row.area_id != area_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such maintenance window")
    audit.record(
        session,
        caller.username,
        "maintenance.cancel",
        f"area:{area_id}",
        {"window_id": window_id, "reason": row.reason},
    )
    session.delete(row)
    session.commit()
