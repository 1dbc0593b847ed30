"""The agent's TOML configuration, validated at start: an error names the field and stops."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from contract.models import Slug
from edge.camera.daynight import SITE_ZONE, ZoneName
from edge.probes import DeviceConfig
from edge.probes.base import ConfigPath, Credentials


class ConfigError(Exception):
    """The configuration cannot be used; the message says which field and how to fix it."""


class BrokerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(description="MQTT broker host name or address")
    port: int = Field(default=8883, ge=1, le=65535, description="MQTT port (8883 for TLS)")
    tls: bool = Field(default=True, description="use TLS; turn off only on a trusted loopback/LAN")
    ca_file: ConfigPath | None = Field(
        default=None, description="CA certificate that signed the broker's"
    )
    auth: Credentials | None = Field(default=None, description="the agent's broker credentials")
    keepalive_s: int = Field(default=30, ge=5, le=600, description="MQTT keep-alive")


class OutboxConfig(BaseModel):
    """The durable outbox (``state_dir/outbox.sqlite``): bounds, and how fast a backlog drains."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_reports: int = Field(default=200_000, ge=2, description="oldest dropped beyond this")
    max_mb: float = Field(default=200, gt=0, description="oldest dropped beyond this size")
    max_age_days: float = Field(default=30, gt=0, description="reports older than this dropped")
    send_rate_per_s: float = Field(
        default=20, gt=0, le=10_000, description="cap on reports sent per second (backlog drain)"
    )
    window: int = Field(default=16, ge=1, le=1000, description="reports in flight awaiting ack")
    receipt_timeout_s: float = Field(
        default=120,
        ge=0.5,
        le=86_400,
        description="an unconfirmed report is sent again after this (see edge/receipts.py)",
    )
    flush_on_stop_s: float = Field(
        default=5, ge=0, le=120, description="on a graceful stop, keep sending this long"
    )


class AgentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    area_id: Slug = Field(description="stable id of the residential area, e.g. 'son-vi-khu-6'")
    agent_id: Slug = Field(description="stable id of this agent within the area, e.g. 'nvh'")
    interval_s: float = Field(default=60.0, ge=1, le=3600, description="seconds between cycles")
    timezone: ZoneName = Field(
        default=SITE_ZONE,
        description="IANA time zone of the site: cameras judge day and night by it, whatever "
        "zone the PC's clock is set to",
    )
    state_dir: ConfigPath = Field(
        default=Path("state"),
        description="where the agent keeps its outbox and references (relative to the config file)",
    )
    broker: BrokerConfig
    outbox: OutboxConfig = Field(default_factory=OutboxConfig)
    devices: list[DeviceConfig] = Field(min_length=1, max_length=500)

    @field_validator("devices")
    @classmethod
    def _unique_ids(cls, devices: list[DeviceConfig]) -> list[DeviceConfig]:
        seen: set[str] = set()
        for device in devices:
            if device.id in seen:
                raise ValueError(f"device id {device.id!r} is used twice")
            seen.add(device.id)
        return devices

    @model_validator(mode="after")
    def _probes_fit_the_interval(self) -> AgentConfig:
        slowest = max(self.devices, key=lambda device: device.worst_case_s())
        if slowest.worst_case_s() > self.interval_s:
            raise ValueError(
                f"interval_s ({self.interval_s:g}) is shorter than the worst case of device "
                f"{slowest.id!r} ({slowest.worst_case_s():g} s when every step times out): "
                "raise interval_s or lower that device's timeout_s"
            )
        return self


def describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"  {where}: {item['msg']}")
    return "\n".join(lines)


def load(path: Path) -> AgentConfig:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        config = AgentConfig.model_validate(data, context={"config_dir": path.parent})
    except ValidationError as exc:
        raise ConfigError(f"{path}: invalid configuration:\n{describe(exc)}") from None
    if not config.state_dir.is_absolute():  # a default never passes through the validator
        config = config.model_copy(update={"state_dir": path.parent / config.state_dir})
    return config.model_copy(
        update={"devices": [_camera_defaults(config, d) for d in config.devices]}
    )


def _camera_defaults(config: AgentConfig, device: DeviceConfig) -> DeviceConfig:
    """Cameras keep their reference frames with the rest of the agent's state and judge day and
    night in the agent's time zone, unless their own entry says otherwise."""
    update: dict[str, object] = {}
    if hasattr(device, "reference_dir") and device.reference_dir is None:
        update["reference_dir"] = config.state_dir / "camera-reference"
    if hasattr(device, "timezone") and "timezone" not in device.model_fields_set:
        update["timezone"] = config.timezone
    return device.model_copy(update=update) if update else device
