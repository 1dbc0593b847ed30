"""Login (OAuth2 password flow → a short-lived bearer token), the caller, and machine tokens."""

from __future__ import annotations

import logging
import math
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from api.accounts import AccountError, issue_token, purge_expired, revoke_token
from api.bounds import Input
from api.deps import AcceptLanguage, CanAdminister, LoggedIn, SessionDep, SettingsDep
from api.i18n import text
from api.security import verify_password
from api.throttle import LoginThrottle
from catalog.models import User

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/auth", tags=["auth"])


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int


class Me(BaseModel):
    username: str
    role: str
    communes: list[str]
    areas: list[str]


class ApiTokenIn(Input):
    username: str = Field(description="the machine account the token acts as")
    label: str = Field(max_length=100, description="what uses it, e.g. 'bao-cao-tinh'")
    days: int = Field(default=365, ge=1, le=3650)


def unlocked(request: Request, username: str, language: str | None) -> LoginThrottle:
    """The login throttle, once it is clear that ``username`` is not locked (else 429)."""
    throttle: LoginThrottle = request.app.state.login_throttle
    wait_s = math.ceil(throttle.retry_after(username))
    if wait_s:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            text("login_locked", language).format(seconds=wait_s),
            headers={"Retry-After": str(wait_s)},
        )
    return throttle


@router.post(
    "/token",
    summary="Log in with user name and password (OAuth2 password flow)",
    responses={429: {"description": "too many failed logins for this name: wait Retry-After"}},
)
def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    config: SettingsDep,
    accept_language: AcceptLanguage = None,
) -> TokenOut:
    throttle = unlocked(request, form.username, accept_language)
    user = session.get(User, form.username)
    hashed = user.password_hash if user is not None and user.active else None
    if not verify_password(form.password, hashed):
        locked_s = throttle.failed(form.username)
        logger.warning(
            "failed login for %.100r%s",
            form.username,
            f"; locked for {locked_s:.0f} s" if locked_s else "",
        )
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, text("login_failed", accept_language))
    throttle.succeeded(form.username)
    purge_expired(session)
    lifetime = timedelta(minutes=config.session_minutes)
    token = issue_token(session, form.username, form.username, "session", lifetime)
    session.commit()
    return TokenOut(access_token=token, expires_in=int(lifetime.total_seconds()))


@router.get("/me", summary="Who am I, and what may I see")
def me(caller: LoggedIn) -> Me:
    return Me(
        username=caller.username,
        role=caller.role.value,
        communes=sorted(caller.communes),
        areas=sorted(caller.areas),
    )


@router.post("/logout", status_code=204, summary="End this login session")
def logout(
    request: Request,
    caller: LoggedIn,
    session: SessionDep,
) -> None:
    token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    revoke_token(session, caller.username, token)
    session.commit()


@router.post("/api-tokens", summary="Issue a long-lived token for a machine account (admin)")
def create_api_token(
    body: ApiTokenIn,
    caller: CanAdminister,
    session: SessionDep,
    accept_language: AcceptLanguage = None,
) -> TokenOut:
    try:
        token = issue_token(
            session, caller.username, body.username, "api", timedelta(days=body.days), body.label
        )
    except AccountError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, exc.text(accept_language)
        ) from None
    session.commit()
    return TokenOut(access_token=token, expires_in=body.days * 86400)
