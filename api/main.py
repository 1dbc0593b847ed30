"""The application factory: one place that builds the FastAPI app from settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.access import REFUSALS
from api.catalog.db import Catalog, migrate
from api.commands import CommandPublisher, Cooldown
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
from api.throttle import LoginThrottle
from api.ui import routes as ui
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


def create_app(settings: ApiSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        password = settings.influx_password.get_secret_value() if settings.influx_password else None
        token = settings.influx_token.get_secret_value() if settings.influx_token else None
        app.state.influx = InfluxQL(
            settings.influx_url, settings.influx_database, settings.influx_username, password, token
        )
        app.state.catalog = Catalog(settings.database_url)
        migrate(app.state.catalog.engine)
        # Connects on the first command: a dashboard that never sends one opens no connection.
        app.state.commands = CommandPublisher(
            settings.mqtt_host,
            settings.mqtt_port,
            settings.mqtt_username,
            settings.mqtt_password,
            settings.mqtt_timeout_s,
        )
        app.state.command_cooldown = Cooldown()
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
    app.state.login_throttle = LoginThrottle()
    for router in ROUTERS:
        # /healthz is open to all; every other route may refuse (401/403/404/422, api.access).
        app.include_router(router, responses=None if router is health.router else REFUSALS)
    return app
