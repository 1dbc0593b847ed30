"""Dependencies shared by routes: settings, the InfluxQL reader, and the caller check."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.i18n import text
from api.settings import ApiSettings
from tsdb.influxql import InfluxQL

_bearer = HTTPBearer(auto_error=False)


def settings(request: Request) -> ApiSettings:
    value: ApiSettings = request.app.state.settings
    return value


def influx(request: Request) -> InfluxQL:
    value: InfluxQL = request.app.state.influx
    return value


def reader(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    config: Annotated[ApiSettings, Depends(settings)],
    accept_language: Annotated[str | None, Header()] = None,
) -> None:
    """Every data route depends on this. Roles and area scopes replace it with the catalog."""
    expected = config.api_token.get_secret_value().encode()
    given = credentials.credentials.encode() if credentials else b""
    if not hmac.compare_digest(given, expected):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail=text("unauthorized", accept_language),
            headers={"WWW-Authenticate": "Bearer"},
        )
