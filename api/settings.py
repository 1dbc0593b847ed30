"""API settings, from ``SMARTAREA_*`` environment variables; errors name the variable."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMARTAREA_", extra="ignore", frozen=True)

    influx_url: str = Field(
        default="http://127.0.0.1:8086", description="InfluxDB base URL (InfluxQL /query)"
    )
    influx_database: str = Field(default="smartarea", min_length=1, description="InfluxDB database")
    influx_username: str | None = Field(default=None, description="InfluxDB user")
    influx_password: SecretStr | None = Field(default=None, description="its password")
    influx_token: SecretStr | None = Field(default=None, description="InfluxDB 2.x API token")
    database_url: str = Field(
        default="sqlite:///catalog.sqlite",
        description="the catalog: sqlite:///PATH (default) or postgresql+psycopg://USER@HOST/DB",
    )
    session_minutes: int = Field(
        default=60, ge=1, le=7 * 24 * 60, description="lifetime of a login token"
    )
    stale_after_intervals: float = Field(
        default=3.0,
        gt=1,
        description="a device whose last result is older than this many probe intervals is unknown",
    )
    lookback_s: int = Field(default=7 * 86400, gt=0, description="how far back live status looks")
    mqtt_host: str = Field(default="127.0.0.1", description="broker host, for commands to agents")
    mqtt_port: int = Field(default=1883, ge=1, le=65535, description="broker port (loopback)")
    mqtt_username: str | None = Field(default=None, description="the API's broker account")
    mqtt_password: SecretStr | None = Field(default=None, description="its password")
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
