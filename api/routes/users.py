"""User accounts: the admin lists, creates and changes them; everyone changes their own password.

The rules (scopes per role, password length, nobody demotes or deactivates themselves) live in
``api.accounts``, shared with the CLI; every change is in the audit log. Password hashes never
leave the server.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, status
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from api.access import Problem, Role
from api.accounts import AccountError, change_password, create_user, update_user
from api.bounds import Input
from api.deps import AcceptLanguage, CanAdminister, LoggedIn, SessionDep
from api.i18n import text
from api.routes.auth import unlocked
from api.security import verify_password
from catalog.models import User

router = APIRouter(tags=["users"])
USERNAME = r"^[^\s/]{1,100}$"  # Vietnamese letters welcome; no spaces or slashes (it is a path)
Username = Annotated[str, Path(pattern=USERNAME)]


class UserOut(BaseModel):
    username: str
    display_name: str | None
    role: Role
    active: bool
    communes: list[str]
    areas: list[str]

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            username=user.username,
            display_name=user.display_name,
            role=Role(user.role),
            active=user.active,
            communes=sorted(s.commune_id for s in user.scopes if s.commune_id),
            areas=sorted(s.area_id for s in user.scopes if s.area_id),
        )


class UserIn(Input):
    username: str = Field(pattern=USERNAME)
    display_name: str | None = Field(default=None, max_length=200)
    role: Role
    password: str = Field(min_length=1, max_length=200, description="at least 10 characters")
    communes: list[str] = Field(default_factory=list, max_length=500)
    areas: list[str] = Field(default_factory=list, max_length=5000)


class UserChange(Input):
    """Only what is given changes; ``communes``/``areas`` replace the old lists."""

    display_name: str | None = Field(default=None, max_length=200)
    role: Role | None = None
    active: bool | None = None
    communes: list[str] | None = Field(default=None, max_length=500)
    areas: list[str] | None = Field(default=None, max_length=5000)


class PasswordChange(Input):
    current_password: str = Field(max_length=200)
    new_password: str = Field(min_length=1, max_length=200, description="at least 10 characters")


def _load(session: Session, username: str, language: str | None = None) -> User:
    user = session.execute(
        select(User).where(User.username == username).options(selectinload(User.scopes))
    ).scalar_one_or_none()
    if user is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, text("account_unknown_user", language).format(name=username)
        )
    return user


@router.get("/users", summary="Every account, its role and scope (admin)")
def list_users(
    _: CanAdminister,
    session: SessionDep,
) -> list[UserOut]:
    users = session.execute(
        select(User).options(selectinload(User.scopes)).order_by(User.username)
    ).scalars()
    return [UserOut.of(u) for u in users]


@router.post(
    "/users",
    status_code=201,
    summary="Create an account (admin)",
    responses={409: {"model": Problem, "description": "the user name is taken"}},
)
def add_user(
    body: UserIn,
    caller: CanAdminister,
    session: SessionDep,
    accept_language: AcceptLanguage = None,
) -> UserOut:
    try:
        create_user(
            session,
            caller.username,
            body.username,
            body.role,
            body.password,
            body.communes,
            body.areas,
            body.display_name,
        )
    except AccountError as exc:
        code = status.HTTP_409_CONFLICT if exc.key == "user_exists" else 422
        raise HTTPException(code, exc.text(accept_language)) from None
    session.commit()
    return UserOut.of(_load(session, body.username, accept_language))


@router.patch("/users/{username}", summary="Change role, scope, name or activity (admin)")
def change_user(
    username: Username,
    body: UserChange,
    caller: CanAdminister,
    session: SessionDep,
    accept_language: AcceptLanguage = None,
) -> UserOut:
    _load(session, username, accept_language)
    try:
        update_user(
            session,
            caller.username,
            username,
            role=body.role,
            communes=body.communes,
            areas=body.areas,
            active=body.active,
            display_name=body.display_name,
        )
    except AccountError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, exc.text(accept_language)
        ) from None
    session.commit()
    return UserOut.of(_load(session, username, accept_language))


@router.post(
    "/auth/password",
    status_code=204,
    summary="Change my password (ends all my login sessions, this one too; API tokens stay)",
    responses={
        403: {"description": "the current password is wrong"},
        429: {"description": "too many wrong passwords for this name: wait Retry-After"},
    },
)
def change_my_password(
    request: Request,
    body: PasswordChange,
    caller: LoggedIn,
    session: SessionDep,
    accept_language: AcceptLanguage = None,
) -> None:
    throttle = unlocked(request, caller.username, accept_language)  # a stolen token guesses too
    user = _load(session, caller.username, accept_language)
    if not verify_password(body.current_password, user.password_hash):
        throttle.failed(caller.username)
        raise HTTPException(status.HTTP_403_FORBIDDEN, text("password_wrong", accept_language))
    try:
        change_password(session, caller.username, caller.username, body.new_password)
    except AccountError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, exc.text(accept_language)
        ) from None
    session.commit()
