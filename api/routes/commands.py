"""Commands to an area's agents: "probe now", for a technician who just fixed a device on site."""

from __future__ import annotations

import logging
import math
import secrets
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field
from sqlalchemy import select

from api.access import Problem
from api.commands import BrokerUnavailable, CommandPublisher
from api.deps import (
    AcceptLanguage,
    AreaId,
    CanCommand,
    InfluxDep,
    SessionDep,
    Slug,
    cooldown,
    publisher,
)
from api.i18n import text
from api.status import agent_presence
from api.throttle import Cooldown
from catalog import audit
from catalog.models import Agent
from contract import topics
from contract.models import Command, CommandName
from tsdb.influxql import InfluxQL, QueryError

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/areas/{area_id}/agents", tags=["commands"])


class CommandSent(BaseModel):
    id: str = Field(description="the command's id, as the agent logs it and the audit log says")
    command: CommandName
    issued_at: datetime


def _refuse_if_offline(db: InfluxQL, area_id: str, agent_id: str, language: str | None) -> None:
    """409 if the agent is not connected: a command to it would be lost, not delivered late
    (agents keep no session while away). If InfluxDB cannot say, the command goes anyway."""
    try:
        presence = agent_presence(db, area_id, agent_id)
    except QueryError as exc:
        logger.warning("presence of %s/%s unknown (%s); sending anyway", area_id, agent_id, exc)
        return
    if presence is None:
        raise HTTPException(status.HTTP_409_CONFLICT, text("agent_never_connected", language))
    state, since = presence
    if state != "online":
        detail = text("agent_offline", language).format(since=since.isoformat(timespec="seconds"))
        raise HTTPException(status.HTTP_409_CONFLICT, detail)


@router.post(
    "/{agent_id}/probe",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Ask an agent to probe its devices now (technicians in scope, admins)",
    description="The broker has taken the command; the agent's next report follows within "
    "seconds (it ignores commands older than 5 minutes). Refused while the agent is offline, and "
    "within 15 s of the previous command to the same agent.",
    responses={
        409: {"model": Problem, "description": "the agent is offline or never connected"},
        429: {"model": Problem, "description": "the agent was just asked: wait Retry-After"},
        503: {"model": Problem, "description": "the broker did not take the command"},
    },
)
def probe_now(
    area_id: AreaId,
    agent_id: Slug,
    caller: CanCommand,
    session: SessionDep,
    commands: Annotated[CommandPublisher, Depends(publisher)],
    turns: Annotated[Cooldown, Depends(cooldown)],
    db: InfluxDep,
    accept_language: AcceptLanguage = None,
) -> CommandSent:
    agent = session.execute(
        select(Agent).where(Agent.area_id == area_id, Agent.id == agent_id)
    ).scalar_one_or_none()
    if agent is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, text("agent_not_found", accept_language))
    _refuse_if_offline(db, area_id, agent_id, accept_language)
    wait_s = turns.take((area_id, agent_id))
    if wait_s:
        seconds = math.ceil(wait_s)
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            text("command_too_soon", accept_language).format(wait=seconds),
            headers={"Retry-After": str(seconds)},
        )
    command = Command(
        area_id=area_id,
        agent_id=agent_id,
        command=CommandName.PROBE_NOW,
        id=secrets.token_urlsafe(8),
        issued_at=datetime.now(UTC),
        issued_by=caller.username,
    )
    try:
        commands.publish(topics.command_topic(area_id, agent_id), command.to_json())
    except BrokerUnavailable as exc:
        turns.give_back((area_id, agent_id))
        logger.warning("command %s to %s/%s not sent: %s", command.id, area_id, agent_id, exc)
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, text("broker_unavailable", accept_language)
        ) from None
    audit.record(
        session,
        caller.username,
        "agent.probe_now",
        f"agent:{area_id}/{agent_id}",
        {"command_id": command.id},
    )
    session.commit()
    return CommandSent(id=command.id, command=command.command, issued_at=command.issued_at)
