"""Ingest settings, from ``SMARTAREA_*`` environment variables; errors name the variable."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from servicekit.settings import InfluxSettings, MqttSettings


class IngestSettings(MqttSettings, InfluxSettings):
    """The broker and InfluxDB as every service has them, and ingest's own settings."""

    # forbid: IngestSettings(batch_max_pionts=…) in code or tests fails instead of being ignored
    # (SMARTAREA_* variables no service knows are refused by servicekit.settings.load_or_explain)
    model_config = SettingsConfigDict(extra="forbid")

    mqtt_client_id: str = Field(
        default="smartarea-ingest",
        min_length=1,
        max_length=64,
        description="fixed client id: the broker keeps its messages while ingest is away "
        "(give each worker of a share group its own)",
    )
    mqtt_session_expiry_s: int = Field(
        default=7 * 24 * 3600, ge=0, description="how long the broker keeps the session while away"
    )
    mqtt_share_group: str | None = Field(
        default=None, description="MQTT v5 shared-subscription group, to split load across workers"
    )
    mqtt_receive_maximum: int = Field(
        default=4000,
        ge=1,
        le=65535,
        description="messages the broker may have delivered to ingest unacknowledged (MQTT v5 "
        "Receive Maximum): the back-pressure bound; several batches' worth keeps writes busy",
    )
    influx_api: Literal["v1", "v2"] = Field(
        default="v1",
        description="'v1': POST /write (InfluxDB 1.x, or 2.x's v1 endpoint); 'v2': influxdb-client "
        "WriteApi (InfluxDB 2.x, 3.x, Cloud; needs org and token)",
    )
    influx_retention_policy: str | None = Field(
        default=None, description="retention policy to write to (v1)"
    )
    influx_org: str | None = Field(default=None, description="InfluxDB 2.x organisation (v2)")
    write_timeout_s: float = Field(default=10.0, gt=0, description="one write request's timeout")
    batch_max_points: int = Field(
        default=5000, ge=1, le=100_000, description="a batch is written once it holds this many"
    )
    batch_max_age_s: float = Field(
        default=0.25, gt=0, le=60, description="…or once its first message waited this long"
    )
    retry_max_s: float = Field(
        default=30.0, gt=0, description="cap of the exponential backoff between write retries"
    )
    max_payload_bytes: int = Field(
        default=256 * 1024, gt=0, description="larger messages are refused"
    )
    max_future_s: float = Field(
        default=300, ge=0, description="refuse observation times further ahead"
    )
    max_past_s: float = Field(
        default=30 * 86400, gt=0, description="refuse observation times older"
    )
    max_devices_per_agent: int = Field(
        default=1000,
        ge=1,
        description="distinct device ids one agent may introduce; reports beyond are refused",
    )
    clock_window_s: float = Field(
        default=900, gt=0, description="window of the per-agent clock offset estimate"
    )
    clock_skew_alert_s: float = Field(
        default=2.0, gt=0, description="agents whose clock is off by more are counted in /metrics"
    )
    dead_letter_file: Path | None = Field(
        default=None, description="JSONL file for refused messages"
    )
    metrics_port: int | None = Field(
        default=None, ge=0, le=65535, description="serve /metrics here"
    )
    metrics_host: str = Field(default="127.0.0.1", description="address for /metrics")

    @model_validator(mode="after")
    def _v2_needs_org_and_token(self) -> IngestSettings:
        if self.influx_api == "v2":
            missing = [
                name
                for name, value in (
                    ("influx_org", self.influx_org),
                    ("influx_token", self.influx_token),
                )
                if not value
            ]
            if missing:
                names = ", ".join(f"SMARTAREA_{m.upper()}" for m in missing)
                raise ValueError(f"SMARTAREA_INFLUX_API=v2 needs {names}")
        return self
