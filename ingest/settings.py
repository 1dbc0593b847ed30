"""Ingest settings, from ``SMARTAREA_*`` environment variables; errors name the variable."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class IngestSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMARTAREA_", extra="forbid", frozen=True)

    mqtt_host: str = Field(default="127.0.0.1", description="broker host")
    mqtt_port: int = Field(
        default=1883, ge=1, le=65535, description="broker port (loopback listener)"
    )
    mqtt_username: str | None = Field(default=None, description="ingest's broker account")
    mqtt_password: SecretStr | None = Field(default=None, description="its password")
    mqtt_client_id: str = Field(
        default="smartarea-ingest",
        min_length=1,
        max_length=64,
        description="fixed client id: the broker keeps its messages while ingest is away",
    )
    mqtt_session_expiry_s: int = Field(
        default=7 * 24 * 3600, ge=0, description="how long the broker keeps the session while away"
    )
    mqtt_share_group: str | None = Field(
        default=None, description="MQTT v5 shared-subscription group, to split load across workers"
    )
    influx_url: str = Field(default="http://127.0.0.1:8086", description="InfluxDB 1.x base URL")
    influx_database: str = Field(default="smartarea", min_length=1, description="InfluxDB database")
    influx_retention_policy: str | None = Field(
        default=None, description="retention policy to write to"
    )
    influx_username: str | None = Field(default=None, description="InfluxDB user")
    influx_password: SecretStr | None = Field(default=None, description="its password")
    influx_token: SecretStr | None = Field(default=None, description="InfluxDB 2.x API token")
    max_payload_bytes: int = Field(
        default=256 * 1024, gt=0, description="larger messages are refused"
    )
    max_future_s: float = Field(
        default=300, ge=0, description="refuse observation times further ahead"
    )
    max_past_s: float = Field(
        default=30 * 86400, gt=0, description="refuse observation times older"
    )
    dead_letter_file: Path | None = Field(
        default=None, description="JSONL file for refused messages"
    )
    metrics_port: int | None = Field(
        default=None, ge=0, le=65535, description="serve /metrics here"
    )
    metrics_host: str = Field(default="127.0.0.1", description="address for /metrics")
