"""Users and tokens: created here for the CLI and the routes alike, always audit-logged."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access import Role
from api.catalog import audit
from api.catalog.models import Area, Commune, Token, User, UserScope
from api.security import hash_password, new_token, token_digest


class AccountError(ValueError):
    pass


def create_user(
    session: Session,
    actor: str,
    username: str,
    role: Role,
    password: str | None,
    communes: Sequence[str] = (),
    areas: Sequence[str] = (),
    display_name: str | None = None,
) -> None:
    if session.get(User, username) is not None:
        raise AccountError(f"user {username!r} exists already")
    if role in {Role.TECHNICIAN, Role.LEADER} and not (communes or areas):
        raise AccountError(f"a {role.value} needs a scope: at least one commune or area")
    if role is Role.LEADER and communes:
        raise AccountError("a leader is scoped to areas, not communes")
    for commune in communes:
        if session.get(Commune, commune) is None:
            raise AccountError(f"unknown commune {commune!r}")
    for area in areas:
        if session.get(Area, area) is None:
            raise AccountError(f"unknown area {area!r}")
    user = User(
        username=username,
        role=role.value,
        display_name=display_name,
        password_hash=hash_password(password) if password else None,
    )
    user.scopes = [UserScope(commune_id=c) for c in communes] + [
        UserScope(area_id=a) for a in areas
    ]
    session.add(user)
    detail: dict[str, object] = {
        "role": role.value,
        "communes": list(communes),
        "areas": list(areas),
    }
    audit.record(session, actor, "user.create", f"user:{username}", detail)


def issue_token(
    session: Session,
    actor: str,
    username: str,
    kind: str,
    lifetime: timedelta,
    name: str | None = None,
) -> str:
    """A new bearer token for ``username``; only its digest is stored."""
    if session.get(User, username) is None:
        raise AccountError(f"unknown user {username!r}")
    token = new_token()
    expires = datetime.now(UTC) + lifetime
    session.add(
        Token(
            digest=token_digest(token), username=username, kind=kind, name=name, expires_at=expires
        )
    )
    if kind == "api":
        detail: dict[str, object] = {"name": name, "expires_at": expires.isoformat()}
        audit.record(session, actor, "token.create", f"user:{username}", detail)
    return token


def revoke_token(session: Session, actor: str, token: str) -> None:
    row = session.get(Token, token_digest(token))
    if row is not None:
        session.delete(row)
        if row.kind == "api":
            audit.record(session, actor, "token.revoke", f"user:{row.username}", {"name": row.name})


def purge_expired(session: Session) -> int:
    expired = session.execute(select(Token).where(Token.expires_at <= datetime.now(UTC))).scalars()
    count = 0
    for row in expired:
        session.delete(row)
        count += 1
    return count
