"""Incident tables: what the alerts service found, who handled it, and every message it sent.

Written by ``python -m alerts`` (detection) and by the API (acknowledge, annotate, resolve).
Times are true observation times: an incident found in data replayed after a fibre cut carries
the times the agent saw, not the time the data arrived. ``area_id`` is not a foreign key: data
for an area not (yet) in the catalog is still monitored.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models import Base, UtcDateTime, utcnow


class IncidentState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"  # a technician took it on: escalation stops
    RESOLVED = "resolved"  # by the data (the device recovered) or by hand


class StateChangeRefused(ValueError):
    """The change does not apply to the incident's state (acknowledging a resolved one…)."""


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_area_state", "area_id", "state"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    area_id: Mapped[str] = mapped_column(String(63))
    agent_id: Mapped[str | None] = mapped_column(String(63), nullable=True)
    # device_down: one device failing; area_unreachable: the agent is silent or offline;
    # flapping: one device changing state too often to page on each change.
    kind: Mapped[str] = mapped_column(String(30))
    device_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    device_kind: Mapped[str | None] = mapped_column(String(20), nullable=True)
    severity: Mapped[str] = mapped_column(String(20))  # down, degraded, unknown, flapping
    reason: Mapped[str | None] = mapped_column(String(100), nullable=True)
    detail: Mapped[str | None] = mapped_column(String(300), nullable=True)
    state: Mapped[str] = mapped_column(String(20), default=IncidentState.OPEN)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(100), nullable=True)  # None: by data
    # Suppressed incidents are recorded in full but page nobody; ``suppressed_by`` says why:
    # uplink, agent, maintenance, flapping, late.
    suppressed: Mapped[bool] = mapped_column(Boolean, default=False)
    suppressed_by: Mapped[str | None] = mapped_column(String(30), nullable=True)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    devices: Mapped[list[IncidentDevice]] = relationship(
        cascade="all, delete-orphan", order_by="IncidentDevice.device_id"
    )
    events: Mapped[list[IncidentEvent]] = relationship(
        cascade="all, delete-orphan", order_by="IncidentEvent.id"
    )


class IncidentDevice(Base):
    """The devices an incident covers (all of an area's devices when it is unreachable)."""

    __tablename__ = "incident_devices"
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(128), primary_key=True)


class IncidentEvent(Base):
    """The timeline: opened, notified, acknowledged, note, escalated, resolved…"""

    __tablename__ = "incident_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(100))  # a user name, or "alerts"
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


class Delivery(Base):
    """The delivery log: one row per attempt to send one message to one recipient."""

    __tablename__ = "notification_deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(40), index=True)
    area_id: Mapped[str] = mapped_column(String(63), index=True)
    incident_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    purpose: Mapped[str] = mapped_column(String(20))  # problem, recovery, flapping, escalation
    channel: Mapped[str] = mapped_column(String(20))  # webhook, email, telegram, zalo
    recipient: Mapped[str] = mapped_column(String(200))  # never a secret (no bot token)
    attempt: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20))  # sent, failed (will retry), gave_up
    error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


# The state changes, written once for the alerts service (the data) and the API (a person).


def acknowledge(row: Incident, at: datetime, by: str, note: str | None = None) -> IncidentEvent:
    """A person takes the incident on; only an open incident can be."""
    if row.state != IncidentState.OPEN:
        raise StateChangeRefused(f"the incident is {row.state} already")
    row.state = IncidentState.ACKNOWLEDGED
    row.acknowledged_at, row.acknowledged_by = at, by
    return _event(row, at, "acknowledged", by, note)


def resolve(
    row: Incident, at: datetime, actor: str, note: str | None = None, by_data: bool = False
) -> IncidentEvent:
    """Close the incident: by a person (``actor``), or ``by_data`` when a report shows the
    device recovered (then ``resolved_by`` stays empty)."""
    if row.state == IncidentState.RESOLVED:
        raise StateChangeRefused("the incident is resolved already")
    row.state = IncidentState.RESOLVED
    row.resolved_at, row.resolved_by = at, None if by_data else actor
    return _event(row, at, "resolved", actor, note, {"by": "data"} if by_data else None)


def annotate(row: Incident, at: datetime, actor: str, note: str) -> IncidentEvent:
    """A note on the timeline, in any state."""
    return _event(row, at, "note", actor, note)


def _event(
    row: Incident,
    at: datetime,
    kind: str,
    actor: str,
    note: str | None,
    detail: dict[str, object] | None = None,
) -> IncidentEvent:
    event = IncidentEvent(at=at, kind=kind, actor=actor, note=note, detail=detail or {})
    row.events.append(event)
    return event
