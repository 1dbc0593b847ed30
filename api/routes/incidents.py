"""Incidents found by the alerts service: list, filter, MTTA/MTTR, acknowledge, annotate, resolve.

Everyone reads the incidents of the areas they may see (leaders their own areas); admins and
technicians in scope handle them. Every write is audit-logged and added to the incident's
timeline in the same transaction.

Resolving by hand is refused (409) while the latest report still shows the device failing, or
the area's agent still silent: the data closes the incident by itself when the device recovers,
and an incident closed by hand beside a broken camera would hide the fault from the board
while the alerts service, which still holds it open, would page nobody about it again.
Refusing is simpler to trust than reopening: the technician is told why, at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from statistics import fmean
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from api.access import SEES_EVERYTHING, Caller, Problem
from api.bounds import Input, Instant
from api.deps import (
    AcceptLanguage,
    AreaId,
    CanHandleIncidents,
    CanRead,
    InfluxDep,
    RowId,
    SessionDep,
    SettingsDep,
)
from api.i18n import language
from api.settings import ApiSettings
from api.status import ExpectedDevice, area_status
from catalog import audit, incidents
from catalog.incidents import Incident, IncidentEvent, IncidentState
from catalog.models import Area
from contract.models import DeviceKind
from contract.topics import SLUG_MAX, SLUG_PATTERN
from tsdb.influxql import InfluxQL, QueryError

router = APIRouter(tags=["incidents"])
State = Literal["open", "acknowledged", "resolved"]  # IncidentState's values, for the schema
# "unresolved": open and acknowledged together, the technician's working board
StateFilter = Literal["open", "acknowledged", "resolved", "unresolved"]
Kind = Literal["device_down", "area_unreachable", "flapping"]


class EventOut(BaseModel):
    at: datetime
    kind: str
    actor: str
    note: str | None
    detail: dict[str, object]


class IncidentOut(BaseModel):
    id: int
    area_id: str
    agent_id: str | None
    kind: str
    device_id: str | None
    device_kind: str | None
    devices: list[str]
    severity: str
    reason: str | None
    detail: str | None
    state: str
    opened_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    suppressed: bool
    suppressed_by: str | None
    late: bool
    escalated_at: datetime | None

    @classmethod
    def of(cls, row: Incident) -> IncidentOut:
        return cls(
            **{name: getattr(row, name) for name in cls.model_fields if name != "devices"},
            devices=[d.device_id for d in row.devices],
        )


class IncidentDetail(IncidentOut):
    events: list[EventOut]


class Stats(BaseModel):
    incidents: int = Field(description="incidents opened in the period (late ones excluded)")
    acknowledged: int
    resolved: int
    mtta_s: float | None = Field(description="mean time from opening to acknowledgement")
    mttr_s: float | None = Field(description="mean time from opening to resolution")


class NoteIn(Input):
    note: str = Field(min_length=1, max_length=2000)


class OptionalNoteIn(Input):
    note: str | None = Field(default=None, max_length=2000)


def _visible(query: Select[Incident], caller: Caller) -> Select[Incident]:
    if caller.role in SEES_EVERYTHING:
        return query
    communes = select(Area.id).where(Area.commune_id.in_(sorted(caller.communes)))
    return query.where(
        or_(Incident.area_id.in_(sorted(caller.areas)), Incident.area_id.in_(communes))
    )


def _filtered(
    caller: Caller,
    area_id: str | None,
    commune_id: str | None,
    state: StateFilter | None,
    kind: Kind | None,
    since: datetime | None,
    until: datetime | None,
    include_suppressed: bool,
) -> Select[Incident]:
    query = _visible(select(Incident), caller)
    if area_id is not None:
        query = query.where(Incident.area_id == area_id)
    if commune_id is not None:
        query = query.where(
            Incident.area_id.in_(select(Area.id).where(Area.commune_id == commune_id))
        )
    if state == "unresolved":
        query = query.where(Incident.state != IncidentState.RESOLVED)
    elif state is not None:
        query = query.where(Incident.state == state)
    if kind is not None:
        query = query.where(Incident.kind == kind)
    if since is not None:
        query = query.where(Incident.opened_at >= _aware(since))
    if until is not None:
        query = query.where(Incident.opened_at < _aware(until))
    if not include_suppressed:
        query = query.where(Incident.suppressed.is_(False))
    return query


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@router.get("/incidents", summary="Incidents in the caller's scope, newest first")
def list_incidents(
    caller: CanRead,
    session: SessionDep,
    area_id: Annotated[str | None, Query(pattern=SLUG_PATTERN, max_length=SLUG_MAX)] = None,
    commune_id: Annotated[str | None, Query(pattern=SLUG_PATTERN, max_length=SLUG_MAX)] = None,
    state: Annotated[
        StateFilter | None, Query(description="'unresolved': open and acknowledged")
    ] = None,
    kind: Kind | None = None,
    since: Instant | None = None,
    until: Instant | None = None,
    include_suppressed: bool = True,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[IncidentOut]:
    query = _filtered(
        caller, area_id, commune_id, state, kind, since, until, include_suppressed
    ).order_by(Incident.opened_at.desc(), Incident.id.desc())
    return [IncidentOut.of(row) for row in session.execute(query.limit(limit)).scalars()]


@router.get("/incidents/stats", summary="MTTA and MTTR of the incidents in the caller's scope")
def incident_stats(
    caller: CanRead,
    session: SessionDep,
    area_id: Annotated[str | None, Query(pattern=SLUG_PATTERN, max_length=SLUG_MAX)] = None,
    commune_id: Annotated[str | None, Query(pattern=SLUG_PATTERN, max_length=SLUG_MAX)] = None,
    kind: Kind | None = None,
    since: Instant | None = None,
    until: Instant | None = None,
) -> Stats:
    query = _filtered(caller, area_id, commune_id, None, kind, since, until, False).where(
        Incident.late.is_(False)
    )
    rows = list(session.execute(query).scalars())
    acked = [(r.acknowledged_at - r.opened_at).total_seconds() for r in rows if r.acknowledged_at]
    fixed = [(r.resolved_at - r.opened_at).total_seconds() for r in rows if r.resolved_at]
    return Stats(
        incidents=len(rows),
        acknowledged=len(acked),
        resolved=len(fixed),
        mtta_s=fmean(acked) if acked else None,
        mttr_s=fmean(fixed) if fixed else None,
    )


def _incident(session: Session, area_id: str, incident_id: int) -> Incident:
    row = session.get(Incident, incident_id)
    if row is None or row.area_id != area_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such incident in this area")
    return row


@router.get("/areas/{area_id}/incidents/{incident_id}", summary="One incident and its timeline")
def get_incident(
    area_id: AreaId,
    incident_id: RowId,
    _: CanRead,
    session: SessionDep,
) -> IncidentDetail:
    row = _incident(session, area_id, incident_id)
    events = [EventOut.model_validate(e, from_attributes=True) for e in row.events]
    return IncidentDetail(**IncidentOut.of(row).model_dump(), events=events)


def _audited(
    session: Session, caller: Caller, row: Incident, event: IncidentEvent
) -> IncidentDetail:
    """Commit the change with its audit entry; the incident as it now is."""
    audit.record(
        session,
        caller.username,
        f"incident.{event.kind}",
        f"incident:{row.id}",
        {"area_id": row.area_id},
        event.note,
    )
    session.commit()
    events = [EventOut.model_validate(e, from_attributes=True) for e in row.events]
    return IncidentDetail(**IncidentOut.of(row).model_dump(), events=events)


@router.post(
    "/areas/{area_id}/incidents/{incident_id}/acknowledge",
    summary="Take the incident on (stops escalation); technicians in scope, admins",
    responses={409: {"model": Problem, "description": "acknowledged or resolved already"}},
)
def acknowledge(
    area_id: AreaId,
    incident_id: RowId,
    body: OptionalNoteIn,
    caller: CanHandleIncidents,
    session: SessionDep,
) -> IncidentDetail:
    row = _incident(session, area_id, incident_id)
    try:
        event = incidents.acknowledge(row, datetime.now(UTC), caller.username, body.note)
    except incidents.StateChangeRefused as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return _audited(session, caller, row, event)


@router.post(
    "/areas/{area_id}/incidents/{incident_id}/notes",
    status_code=201,
    summary="Add a note to the incident's timeline",
)
def annotate(
    area_id: AreaId,
    incident_id: RowId,
    body: NoteIn,
    caller: CanHandleIncidents,
    session: SessionDep,
) -> IncidentDetail:
    row = _incident(session, area_id, incident_id)
    event = incidents.annotate(row, datetime.now(UTC), caller.username, body.note)
    return _audited(session, caller, row, event)


@router.post(
    "/areas/{area_id}/incidents/{incident_id}/resolve",
    summary="Close the incident by hand (the data closes it by itself when the device recovers)",
    responses={
        409: {
            "model": Problem,
            "description": "resolved already, or the device is still failing (the latest "
            "report says so) or the area still silent",
        }
    },
)
def resolve(
    area_id: AreaId,
    incident_id: RowId,
    body: OptionalNoteIn,
    caller: CanHandleIncidents,
    session: SessionDep,
    db: InfluxDep,
    config: SettingsDep,
    accept_language: AcceptLanguage = None,
) -> IncidentDetail:
    row = _incident(session, area_id, incident_id)
    if row.state == IncidentState.RESOLVED:
        raise HTTPException(status.HTTP_409_CONFLICT, "the incident is resolved already")
    still = _still_failing(session, db, config, row)
    if still is not None:
        lang = language(accept_language)
        raise HTTPException(status.HTTP_409_CONFLICT, _REFUSAL[still][lang])
    event = incidents.resolve(row, datetime.now(UTC), caller.username, body.note)
    return _audited(session, caller, row, event)


_REFUSAL = {
    "device": {
        "vi": "Thiết bị vẫn đang hỏng theo báo cáo mới nhất: chưa thể đóng sự cố. Sự cố sẽ tự "
        'đóng khi thiết bị hoạt động trở lại; hãy bấm "Kiểm tra ngay" sau khi sửa xong.',
        "en": "The latest report still shows the device failing: the incident cannot be closed "
        'yet. It closes by itself when the device works again; press "Check now" after the fix.',
    },
    "area": {
        "vi": "Máy trạm của khu vẫn chưa gửi báo cáo: chưa thể đóng sự cố. Sự cố sẽ tự đóng khi "
        "khu liên lạc lại.",
        "en": "The area's agent still sends no report: the incident cannot be closed yet. It "
        "closes by itself when the area is heard from again.",
    },
}


def _still_failing(
    session: Session, db: InfluxQL, config: ApiSettings, row: Incident
) -> str | None:
    """ "device" if the incident's device still reports a failure, "area" if the area it is about
    is still silent, None otherwise (also when InfluxDB cannot say: the hand decides then)."""
    if row.kind not in ("device_down", "area_unreachable"):
        return None
    area = session.get(Area, row.area_id)
    expected = (
        [ExpectedDevice(d.id, DeviceKind(d.kind), d.name) for d in area.devices] if area else []
    )
    try:
        now = area_status(
            db,
            row.area_id,
            timedelta(seconds=config.lookback_s),
            config.stale_after_intervals,
            expected,
        )
    except QueryError:
        return None
    if row.kind == "area_unreachable":
        heard = [a for a in now.agents if a.agent_id == row.agent_id or row.agent_id is None]
        return "area" if not heard or all(a.stale for a in heard) else None
    for device in now.devices:
        if device.device_id == row.device_id:
            return "device" if device.state in ("down", "degraded") else None
    return None
