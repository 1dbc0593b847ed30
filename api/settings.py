"""API settings, from ``SMARTAREA_*`` environment variables; errors name the variable.

The broker (for commands to agents), InfluxDB and the catalog are described once, in
``servicekit.settings`` and ``catalog.settings``, shared with ingest and alerts.
"""

from __future__ import annotations

from pydantic import Field

from catalog.settings import CatalogSettings
from servicekit.settings import InfluxSettings, MqttSettings


class ApiSettings(InfluxSettings, MqttSettings, CatalogSettings):
    session_minutes: int = Field(
        default=60, ge=1, le=7 * 24 * 60, description="lifetime of a login token"
    )
    stale_after_intervals: float = Field(
        default=3.0,
        gt=1,
        description="a device whose last result is older than this many probe intervals is unknown",
    )
    lookback_s: int = Field(default=7 * 86400, gt=0, description="how far back live status looks")
    mqtt_timeout_s: float = Field(
        default=5.0, gt=0, le=60, description="wait this long for the broker to take a command"
    )
    api_host: str = Field(default="127.0.0.1", description="address to listen on")
    api_port: int = Field(default=8000, ge=1, le=65535, description="port to listen on")
    api_max_body_bytes: int = Field(
        default=2 * 1024 * 1024,
        ge=64 * 1024,
        description="largest request body; a larger one is refused with 413 before it is read",
    )
    api_max_document_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=64 * 1024,
        description=(
            "largest YAML upload (POST /catalog, POST /criteria-sets): a province's catalog"
        ),
    )
