"""API settings, from ``SMARTAREA_*`` environment variables; errors name the variable."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDERS = {"changeme", "change-me", "secret", "token", "password"}


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMARTAREA_", extra="ignore", frozen=True)

    influx_url: str = Field(
        default="http://127.0.0.1:8086", description="InfluxDB base URL (InfluxQL /query)"
    )
    influx_database: str = Field(default="smartarea", min_length=1, description="InfluxDB database")
    influx_username: str | None = Field(default=None, description="InfluxDB user")
    influx_password: SecretStr | None = Field(default=None, description="its password")
    influx_token: SecretStr | None = Field(default=None, description="InfluxDB 2.x API token")
    api_token: SecretStr = Field(
        description="bearer token that grants read access (until roles land)"
    )
    stale_after_intervals: float = Field(
        default=3.0,
        gt=1,
        description="a device whose last result is older than this many probe intervals is unknown",
    )
    lookback_s: int = Field(default=7 * 86400, gt=0, description="how far back live status looks")
    api_host: str = Field(default="127.0.0.1", description="address to listen on")
    api_port: int = Field(default=8000, ge=1, le=65535, description="port to listen on")

    @field_validator("api_token")
    @classmethod
    def _real_token(cls, value: SecretStr) -> SecretStr:
        token = value.get_secret_value()
        if len(token) < 16 or token.lower() in PLACEHOLDERS:
            raise ValueError(
                "must be a random string of at least 16 characters (e.g. `openssl rand -hex 24`)"
            )
        return value
