"""Dependencies shared by routes: settings and the InfluxQL reader (callers: ``api.access``)."""

from __future__ import annotations

from fastapi import Request

from api.settings import ApiSettings
from tsdb.influxql import InfluxQL


def settings(request: Request) -> ApiSettings:
    value: ApiSettings = request.app.state.settings
    return value


def influx(request: Request) -> InfluxQL:
    value: InfluxQL = request.app.state.influx
    return value
