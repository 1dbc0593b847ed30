"""Planned maintenance of an area (or one device): list, plan, cancel. Every change is audited."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, status
from pydantic import Field, WithJsonSchema, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access import Action, Caller, authorize, db_session
from api.bounds import ROW_ID_MAX, Input, Instant
from api.catalog import audit
from api.catalog.models import MaintenanceWindow
from contract.topics import SLUG_MAX, SLUG_PATTERN

router = APIRouter(prefix="/areas/{area_id}/maintenance", tags=["maintenance"])
AreaId = Annotated[str, Path(pattern=SLUG_PATTERN, max_length=SLUG_MAX)]


_MAX = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}
# Wall-clock time in Asia/Ho_Chi_Minh, without an offset: not an RFC 3339 "date-time" (which
# needs one), so the schema states the form itself.
WallClock = Annotated[
    Instant,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$",
            "examples": ["2026-12-06T06:00"],
        }
    ),
]


class WindowIn(Input):
    device_id: str | None = Field(default=None, max_length=128, description="none: whole area")
    starts_local: WallClock = Field(
        description="local wall-clock time, no offset: 2026-12-06T06:00"
    )
    ends_local: WallClock
    recurrence: Literal["none", "daily", "weekly"] = "none"
    until_local: WallClock | None = Field(default=None, description="last repetition starts by")
    reason: str = Field(min_length=3, max_length=300)

    @model_validator(mode="after")
    def _sane(self) -> WindowIn:
        for value in (self.starts_local, self.ends_local, self.until_local):
            if value is not None and value.tzinfo is not None:
                raise ValueError("give local wall-clock times without an offset (Asia/Ho_Chi_Minh)")
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
    _: Annotated[Caller, Depends(authorize(Action.READ))],
    session: Annotated[Session, Depends(db_session)],
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
    caller: Annotated[Caller, Depends(authorize(Action.PLAN_MAINTENANCE))],
    session: Annotated[Session, Depends(db_session)],
) -> WindowOut:
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
    window_id: Annotated[int, Path(ge=1, le=ROW_ID_MAX)],
    caller: Annotated[Caller, Depends(authorize(Action.PLAN_MAINTENANCE))],
    session: Annotated[Session, Depends(db_session)],
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
