"""Alerts settings, from ``SMARTAREA_*`` environment variables; errors name the variable."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from catalog.settings import CatalogSettings
from contract.models import DeviceKind
from contract.topics import check_slug
from servicekit.settings import MqttSettings


class AlertsSettings(MqttSettings, CatalogSettings):
    """The broker and the catalog (where incidents live) as every service has them, and the
    alerts' own ``SMARTAREA_ALERTS_*``."""

    alerts_client_id: str = Field(
        default="smartarea-alerts",
        min_length=1,
        max_length=64,
        description="fixed MQTT client id: the broker keeps reports for alerts while it is away "
        "(give each worker of a share group its own)",
    )
    alerts_session_expiry_s: int = Field(
        default=24 * 3600, ge=0, description="how long the broker keeps the alerts' session"
    )
    alerts_share_group: str | None = Field(
        default=None,
        description="MQTT v5 shared-subscription group for several alert workers (split areas "
        "between workers with per-area brokers or bridges; see docs/alerts.md)",
    )
    alerts_areas: list[str] = Field(
        default_factory=list,
        description='the areas this worker watches, as JSON (["son-vi-khu-6", ...]); empty: all. '
        "Partition areas between workers this way: a worker must see every message of its areas",
    )
    alerts_routing_file: Path | None = Field(
        default=None, description="TOML file: channels and who gets what (none: record only)"
    )
    alerts_thresholds: dict[DeviceKind, tuple[int, int]] = Field(
        default_factory=dict,
        description="per device kind: [failing results to open, good results to close], as JSON, "
        'e.g. {"camera": [3, 2]}',
    )
    alerts_silence_intervals: float = Field(
        default=3.0, gt=1, description="no report for this many intervals: area unreachable"
    )
    alerts_late_after_s: float = Field(
        default=600.0, gt=0, description="a report older than this is late (pages nobody)"
    )
    alerts_flap_high: float = Field(
        default=30.0, gt=0, le=100, description="flapping starts above %"
    )
    alerts_flap_low: float = Field(default=25.0, gt=0, le=100, description="flapping stops below %")
    alerts_group_window_s: float = Field(
        default=30.0, ge=0, description="wait this long to put an area's news in one message"
    )
    alerts_escalate_after_s: float = Field(
        default=900.0, gt=0, description="escalate an incident nobody acknowledged after this"
    )
    alerts_retry_attempts: int = Field(default=6, ge=1, le=50, description="sends per message")
    alerts_retry_base_s: float = Field(default=2.0, gt=0, description="first retry delay")
    alerts_retry_max_s: float = Field(default=300.0, gt=0, description="longest retry delay")
    alerts_tick_s: float = Field(default=1.0, gt=0, le=60, description="silence/escalation checks")
    alerts_maintenance_refresh_s: float = Field(
        default=30.0, gt=0, description="re-read maintenance windows this often"
    )

    alerts_metrics_host: str = Field(default="127.0.0.1", description="/metrics address")
    alerts_metrics_port: int | None = Field(
        default=None, ge=1, le=65535, description="/metrics and /readyz port (none: off)"
    )

    @model_validator(mode="after")
    def _hysteresis(self) -> AlertsSettings:
        if self.alerts_flap_low >= self.alerts_flap_high:
            raise ValueError(
                "SMARTAREA_ALERTS_FLAP_LOW must be below SMARTAREA_ALERTS_FLAP_HIGH (hysteresis)"
            )
        for area in self.alerts_areas:
            check_slug(area, "SMARTAREA_ALERTS_AREAS: area id")
        for kind, (fail, ok) in self.alerts_thresholds.items():
            if fail < 1 or ok < 1:
                raise ValueError(f"SMARTAREA_ALERTS_THRESHOLDS: {kind}: both counts must be >= 1")
        return self
