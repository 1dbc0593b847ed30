"""Users and tokens: created here for the CLI and the routes alike, always audit-logged."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access import Role
from api.i18n import text
from api.security import hash_password, new_token, token_digest
from catalog import audit
from catalog.models import Area, Commune, Token, User, UserScope


class AccountError(ValueError):
    """A rule of accounts refused a change: ``key`` names the rule (its message in
    ``api.i18n``, Vietnamese and English), ``str()`` is the English message (for the CLI)."""

    def __init__(self, key: str, **params: object) -> None:
        self.key, self.params = key, params
        super().__init__(self.text("en"))

    def text(self, accept_language: str | None) -> str:
        return text(f"account_{self.key}", accept_language).format(**self.params)


MIN_PASSWORD = 10  # characters; a passphrase in Vietnamese counts its letters, not its bytes


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError("short_password", n=MIN_PASSWORD)


def _check_scope(
    session: Session, role: Role, communes: Sequence[str], areas: Sequence[str]
) -> None:
    if role in {Role.TECHNICIAN, Role.LEADER} and not (communes or areas):
        raise AccountError("needs_scope", role=role.value)
    if role is Role.LEADER and communes:
        raise AccountError("leader_areas_only")
    for commune in communes:
        if session.get(Commune, commune) is None:
            raise AccountError("unknown_commune", id=commune)
    for area in areas:
        if session.get(Area, area) is None:
            raise AccountError("unknown_area", id=area)


def _scopes(communes: Sequence[str], areas: Sequence[str]) -> list[UserScope]:
    return [UserScope(commune_id=c) for c in sorted(set(communes))] + [
        UserScope(area_id=a) for a in sorted(set(areas))
    ]


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
        raise AccountError("user_exists", name=username)
    _check_scope(session, role, communes, areas)
    if password:
        _check_password(password)
    user = User(
        username=username,
        role=role.value,
        display_name=display_name,
        password_hash=hash_password(password) if password else None,
    )
    user.scopes = _scopes(communes, areas)
    session.add(user)
    detail: dict[str, object] = {
        "role": role.value,
        "communes": list(communes),
        "areas": list(areas),
    }
    audit.record(session, actor, "user.create", f"user:{username}", detail)


def update_user(
    session: Session,
    actor: str,
    username: str,
    role: Role | None = None,
    communes: Sequence[str] | None = None,
    areas: Sequence[str] | None = None,
    active: bool | None = None,
    display_name: str | None = None,
) -> User:
    """Change a user's role, scope (given lists replace the old ones), name or activity.

    A deactivated user's tokens are revoked at once. Nobody changes their own role or
    deactivates themselves: the last admin cannot lock everyone out by mistake."""
    user = session.get(User, username)
    if user is None:
        raise LookupError(username)
    if actor == username and (role not in (None, Role(user.role)) or active is False):
        raise AccountError("not_yourself")
    new_role = role or Role(user.role)
    old_communes = [s.commune_id for s in user.scopes if s.commune_id]
    old_areas = [s.area_id for s in user.scopes if s.area_id]
    new_communes = old_communes if communes is None else list(communes)
    new_areas = old_areas if areas is None else list(areas)
    if new_role in {Role.ADMIN, Role.AUDITOR}:
        new_communes, new_areas = [], []  # they see everything: a scope would only mislead
    _check_scope(session, new_role, new_communes, new_areas)
    detail: dict[str, object] = {}
    if new_role.value != user.role:
        detail["role"] = [user.role, new_role.value]
        user.role = new_role.value
    if (sorted(set(old_communes)), sorted(set(old_areas))) != (
        sorted(set(new_communes)),
        sorted(set(new_areas)),
    ):
        detail["communes"] = [sorted(old_communes), sorted(set(new_communes))]
        detail["areas"] = [sorted(old_areas), sorted(set(new_areas))]
        user.scopes = _scopes(new_communes, new_areas)
    if display_name is not None and display_name != user.display_name:
        detail["display_name"] = [user.display_name, display_name]
        user.display_name = display_name
    if active is not None and active != user.active:
        detail["active"] = [user.active, active]
        user.active = active
        if not active:
            detail["tokens_revoked"] = _revoke_all(session, username)
    if detail:
        audit.record(session, actor, "user.update", f"user:{username}", detail)
    return user


def change_password(session: Session, actor: str, username: str, new_password: str) -> int:
    """Set a new password and end every login session of the user (machine tokens stay);
    returns how many sessions ended."""
    user = session.get(User, username)
    if user is None:
        raise LookupError(username)
    _check_password(new_password)
    user.password_hash = hash_password(new_password)
    ended = _revoke_all(session, username, kinds=("session",))
    audit.record(session, actor, "user.password", f"user:{username}", {"sessions_ended": ended})
    return ended


def _revoke_all(session: Session, username: str, kinds: Sequence[str] = ("session", "api")) -> int:
    rows = session.execute(
        select(Token).where(Token.username == username, Token.kind.in_(list(kinds)))
    ).scalars()
    count = 0
    for row in rows:
        session.delete(row)
        count += 1
    return count


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
        raise AccountError("unknown_user", name=username)
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
