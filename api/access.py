"""Who may do what, in one place: roles, scopes, and the one dependency every route uses.

- admin: everything.
- auditor: reads everything (status, availability, reports, the audit log); issues reports.
- technician: reads the communes and areas of their scope; may plan maintenance there, enter
  declared figures and upload documents (and, with the alerts, acknowledge and annotate incidents);
  may ask the agents there to probe now.
- leader: reads their own areas only.

Each route declares an ``Action``; ``authorize(action)`` resolves the bearer token to a caller,
checks the role, and, when the path names an area or a commune, checks the scope. Handlers never
check permissions themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.i18n import text
from api.security import token_digest
from catalog.db import Catalog
from catalog.models import Area, Token, User


class Role(StrEnum):
    ADMIN = "admin"
    AUDITOR = "auditor"
    TECHNICIAN = "technician"
    LEADER = "leader"


class Action(StrEnum):
    READ = "read"  # status, availability, catalog entries in scope
    PLAN_MAINTENANCE = "plan_maintenance"
    DECLARE = "declare"  # enter survey figures, upload documents (criteria evidence)
    ISSUE_REPORT = "issue_report"  # issue a certification report
    READ_AUDIT = "read_audit"
    ADMINISTER = "administer"  # catalog import, users, tokens, renames
    HANDLE_INCIDENTS = "handle_incidents"  # acknowledge, annotate, resolve incidents in scope
    COMMAND = "command"  # send commands to the agents in scope ("probe now")


ALLOWED: dict[Action, frozenset[Role]] = {
    Action.READ: frozenset(Role),
    Action.PLAN_MAINTENANCE: frozenset({Role.ADMIN, Role.TECHNICIAN}),
    Action.DECLARE: frozenset({Role.ADMIN, Role.TECHNICIAN}),
    Action.ISSUE_REPORT: frozenset({Role.ADMIN, Role.AUDITOR}),
    Action.READ_AUDIT: frozenset({Role.ADMIN, Role.AUDITOR}),
    Action.ADMINISTER: frozenset({Role.ADMIN}),
    Action.HANDLE_INCIDENTS: frozenset({Role.ADMIN, Role.TECHNICIAN}),
    Action.COMMAND: frozenset({Role.ADMIN, Role.TECHNICIAN}),
}
SEES_EVERYTHING = frozenset({Role.ADMIN, Role.AUDITOR})


@dataclass(frozen=True)
class Caller:
    username: str
    role: Role
    communes: frozenset[str] = field(default_factory=frozenset)
    areas: frozenset[str] = field(default_factory=frozenset)

    def may_see_area(self, area_id: str, commune_id: str | None) -> bool:
        return (
            self.role in SEES_EVERYTHING
            or area_id in self.areas
            or (commune_id is not None and commune_id in self.communes)
        )

    def may_see_commune(self, commune_id: str) -> bool:
        return self.role in SEES_EVERYTHING or commune_id in self.communes


class Problem(BaseModel):
    """A refusal: a message in the caller's language, or FastAPI's list of invalid fields."""

    detail: str | list[dict[str, Any]]


# Declared on every route but /healthz (api.main), so the OpenAPI schema lists the refusals clients
# must handle. Handlers raise 422 with a message for rules the schema cannot state (from < to).
REFUSALS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "The body could not be parsed"},
    401: {"model": Problem, "description": "No valid bearer token"},
    403: {"model": Problem, "description": "The caller's role may not do this"},
    404: {"model": Problem, "description": "Not found, or outside the caller's scope"},
    422: {"model": Problem, "description": "Invalid input: which field, and why"},
}


_oauth2 = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


def db_session(request: Request) -> Iterator[Session]:
    """One catalog session per request; handlers that write call ``session.commit()``."""
    catalog: Catalog = request.app.state.catalog
    with catalog.sessions() as session:
        yield session


def _deny(code: int, key: str, language: str | None) -> HTTPException:
    headers = {"WWW-Authenticate": "Bearer"} if code == status.HTTP_401_UNAUTHORIZED else None
    return HTTPException(code, detail=text(key, language), headers=headers)


def current_caller(
    token: Annotated[str | None, Depends(_oauth2)],
    session: Annotated[Session, Depends(db_session)],
    accept_language: Annotated[str | None, Header()] = None,
) -> Caller:
    if not token:
        raise _deny(status.HTTP_401_UNAUTHORIZED, "unauthorized", accept_language)
    row = session.get(Token, token_digest(token))
    if row is None or row.expires_at <= datetime.now(UTC):
        raise _deny(status.HTTP_401_UNAUTHORIZED, "unauthorized", accept_language)
    user = session.get(User, row.username)
    if user is None or not user.active:
        raise _deny(status.HTTP_401_UNAUTHORIZED, "unauthorized", accept_language)
    return Caller(
        username=user.username,
        role=Role(user.role),
        communes=frozenset(s.commune_id for s in user.scopes if s.commune_id),
        areas=frozenset(s.area_id for s in user.scopes if s.area_id),
    )


def authorize(action: Action) -> Callable[..., Caller]:
    """The dependency for a route: role for ``action``, and scope for the path's area/commune."""

    def check(
        request: Request,
        caller: Annotated[Caller, Depends(current_caller)],
        session: Annotated[Session, Depends(db_session)],
        accept_language: Annotated[str | None, Header()] = None,
    ) -> Caller:
        if caller.role not in ALLOWED[action]:
            raise _deny(status.HTTP_403_FORBIDDEN, "forbidden", accept_language)
        area_id = request.path_params.get("area_id")
        commune_id = request.path_params.get("commune_id")
        if area_id is not None:
            area = session.execute(select(Area).where(Area.id == area_id)).scalar_one_or_none()
            # An area outside the caller's scope looks exactly like one that does not exist.
            if area is None or not caller.may_see_area(area.id, area.commune_id):
                raise _deny(status.HTTP_404_NOT_FOUND, "area_not_found", accept_language)
        if commune_id is not None and not caller.may_see_commune(commune_id):
            raise _deny(status.HTTP_404_NOT_FOUND, "commune_not_found", accept_language)
        return caller

    return check
