"""Dependencies shared by routes: what the app keeps in ``app.state`` (settings, the InfluxQL
reader, the command publisher and its per-agent cooldown)."""

from __future__ import annotations

from fastapi import Request

from api.commands import CommandPublisher, Cooldown
from api.settings import ApiSettings
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
