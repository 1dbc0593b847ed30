"""Dependencies shared by routes, as the aliases routes declare their parameters with.

What the app keeps in ``app.state`` (settings, the InfluxQL reader, the command publisher and its
per-agent cooldown), the catalog session of the request, the caller allowed to do each action
(``api.access``: role, and scope for the path's area or commune), and the path parameters every
resource shares. A route reads ``caller: CanDeclare, session: SessionDep`` and checks nothing
itself.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Path, Request
from sqlalchemy.orm import Session

from api.access import Action, Caller, authorize, current_caller, db_session
from api.bounds import ROW_ID_MAX
from api.commands import CommandPublisher
from api.settings import ApiSettings
from api.throttle import Cooldown
from contract.topics import SLUG_MAX, SLUG_PATTERN
from tsdb.influxql import InfluxQL


def settings(request: Request) -> ApiSettings:
    value: ApiSettings = request.app.state.settings
    return value


def influx(request: Request) -> InfluxQL:
    value: InfluxQL = request.app.state.influx
    return value


def publisher(request: Request) -> CommandPublisher:
    value: CommandPublisher = request.app.state.commands
    return value


def cooldown(request: Request) -> Cooldown:
    value: Cooldown = request.app.state.command_cooldown
    return value


SessionDep = Annotated[Session, Depends(db_session)]
InfluxDep = Annotated[InfluxQL, Depends(influx)]
SettingsDep = Annotated[ApiSettings, Depends(settings)]
# Messages in the caller's language (api.i18n); the parameter must be named accept_language.
AcceptLanguage = Annotated[str | None, Header()]

# Path parameters: the stable ids of the catalog.
AreaId = Annotated[
    str, Path(pattern=SLUG_PATTERN, max_length=SLUG_MAX, description="stable area id")
]
Slug = Annotated[str, Path(pattern=SLUG_PATTERN, max_length=SLUG_MAX)]  # commune, province, agent
RowId = Annotated[int, Path(ge=1, le=ROW_ID_MAX)]  # a report, an incident, a maintenance window

# The caller, once api.access allowed the action (401/403/404 otherwise); one alias per action.
LoggedIn = Annotated[Caller, Depends(current_caller)]  # any valid token; no action, no scope
CanRead = Annotated[Caller, Depends(authorize(Action.READ))]
CanPlanMaintenance = Annotated[Caller, Depends(authorize(Action.PLAN_MAINTENANCE))]
CanDeclare = Annotated[Caller, Depends(authorize(Action.DECLARE))]
CanIssueReport = Annotated[Caller, Depends(authorize(Action.ISSUE_REPORT))]
CanReadAudit = Annotated[Caller, Depends(authorize(Action.READ_AUDIT))]
CanAdminister = Annotated[Caller, Depends(authorize(Action.ADMINISTER))]
CanHandleIncidents = Annotated[Caller, Depends(authorize(Action.HANDLE_INCIDENTS))]
CanCommand = Annotated[Caller, Depends(authorize(Action.COMMAND))]
