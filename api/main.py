"""The application factory: one place that builds the FastAPI app from settings."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api import errors
from api.access import REFUSALS
from api.bodylimit import BodyLimit
from api.commands import CommandPublisher
from api.routes import (
    areas,
    audit,
    auth,
    availability,
    catalog,
    commands,
    criteria,
    health,
    incidents,
    maintenance,
    rollups,
    series,
    users,
)
from api.settings import ApiSettings
from api.throttle import Cooldown, LoginThrottle
from api.ui import routes as ui
from catalog.db import Catalog, require_current
from tsdb.influxql import InfluxQL

ROUTERS = tuple(
    m.router
    for m in (
        health,
        auth,
        catalog,
        areas,
        series,
        availability,
        rollups,
        maintenance,
        criteria,
        audit,
        ui,
        incidents,
        users,
        commands,
    )
)


def _json_safe(value: object) -> object:
    """NaN and infinities as text: JSON has no such numbers, and Starlette refuses to write them
    (a 422 about ``1e309``, read by Python as infinity, became a 500)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    return value


async def _invalid_request(_: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own 422 (which field, and why), with values JSON can carry."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    content = {"detail": _json_safe(jsonable_encoder(errors))}
    return JSONResponse(content, status.HTTP_422_UNPROCESSABLE_CONTENT)


def create_app(settings: ApiSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        password = settings.influx_password.get_secret_value() if settings.influx_password else None
        token = settings.influx_token.get_secret_value() if settings.influx_token else None
        app.state.influx = InfluxQL(
            settings.influx_url, settings.influx_database, settings.influx_username, password, token
        )
        app.state.catalog = Catalog(settings.database_url)
        require_current(app.state.catalog.engine)  # migrating is a deployment step
        # Connects on the first command: a dashboard that never sends one opens no connection.
        app.state.commands = CommandPublisher(
            settings.mqtt_host,
            settings.mqtt_port,
            settings.mqtt_username,
            settings.mqtt_password,
            settings.mqtt_timeout_s,
        )
        # Shared by every worker through the catalog (api.throttle).
        app.state.command_cooldown = Cooldown(app.state.catalog)
        app.state.login_throttle = LoginThrottle(app.state.catalog)
        yield
        app.state.commands.close()
        app.state.influx.close()
        app.state.catalog.close()

    app = FastAPI(
        title="smartarea API",
        summary="Giám sát hạ tầng số khu dân cư thông minh — smart residential area monitoring",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served by api.ui.docs from local files: FastAPI's page needs a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.add_exception_handler(RequestValidationError, _invalid_request)
    for exc_class, handler in errors.HANDLERS.items():  # database errors: 409, 503
        app.add_exception_handler(exc_class, handler)
    documents = settings.api_max_document_bytes
    app.add_middleware(
        BodyLimit,
        limit=settings.api_max_body_bytes,
        documents={"/catalog": documents, "/criteria-sets": documents},
    )
    # /healthz is open to all; every other route may refuse (401/403/404/422, api.access) and
    # find the catalog busy (503, api.errors).
    refusals = REFUSALS | errors.UNAVAILABLE
    for router in ROUTERS:
        app.include_router(router, responses=None if router is health.router else refusals)
    return app
