"""``SMARTAREA_*`` settings of the server-side services, and loading them: a wrong value, or a
variable no service reads, stops the program with the variable's name.

The services share one environment (docker-compose's common block, one env file beside them), so
each reads the variables it knows and leaves the others' alone; a name that *no* service knows is
a typo (``SMARTAREA_INFLUX_URLL``) that would otherwise leave the default silently in force.
servicekit may not import the services, and a process holds only its own service's settings class,
so the names every service reads are written down here, by service; ``tests/unit/test_settings.py``
holds the lists equal to the fields of ApiSettings, AlertsSettings, IngestSettings and
CatalogSettings.

The fields several services share are described once, in the bases below; the catalog's
``database_url`` in ``catalog.settings.CatalogSettings``.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Iterable, Mapping
from typing import TypeVar

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

PREFIX = "SMARTAREA_"


class ServiceSettings(BaseSettings):
    """Base of every service's settings: ``SMARTAREA_<FIELD>`` variables, frozen once read.

    ``extra="ignore"`` lets a service start beside variables of the others; the names no service
    knows are refused by :func:`load_or_explain` instead."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore", frozen=True)


class MqttSettings(ServiceSettings):
    """The broker, and this service's account on it (``secrets/<service>.env`` of the gateway)."""

    mqtt_host: str = Field(default="127.0.0.1", description="broker host")
    mqtt_port: int = Field(default=1883, ge=1, le=65535, description="broker port")
    mqtt_username: str | None = Field(default=None, description="this service's broker account")
    mqtt_password: SecretStr | None = Field(default=None, description="its password")


class InfluxSettings(ServiceSettings):
    """InfluxDB: a 1.x user and password, or a 2.x token."""

    influx_url: str = Field(default="http://127.0.0.1:8086", description="InfluxDB base URL")
    influx_database: str = Field(
        default="smartarea", min_length=1, description="InfluxDB database (the bucket for 2.x)"
    )
    influx_username: str | None = Field(default=None, description="InfluxDB 1.x user")
    influx_password: SecretStr | None = Field(default=None, description="its password")
    influx_token: SecretStr | None = Field(default=None, description="InfluxDB 2.x API token")


def _fields(*bases: type[BaseSettings]) -> frozenset[str]:
    return frozenset(name for base in bases for name in base.model_fields)


# The fields of each service's settings class (tests/unit/test_settings.py checks each list).
SERVICE_FIELDS: dict[str, frozenset[str]] = {
    "catalog": frozenset({"database_url"}),
    "api": _fields(MqttSettings, InfluxSettings)
    | {
        "database_url",
        "session_minutes",
        "stale_after_intervals",
        "lookback_s",
        "mqtt_timeout_s",
        "api_host",
        "api_port",
        "api_max_body_bytes",
        "api_max_document_bytes",
    },
    "alerts": _fields(MqttSettings)
    | {
        "database_url",
        "alerts_client_id",
        "alerts_session_expiry_s",
        "alerts_share_group",
        "alerts_areas",
        "alerts_routing_file",
        "alerts_thresholds",
        "alerts_silence_intervals",
        "alerts_late_after_s",
        "alerts_flap_high",
        "alerts_flap_low",
        "alerts_group_window_s",
        "alerts_escalate_after_s",
        "alerts_retry_attempts",
        "alerts_retry_base_s",
        "alerts_retry_max_s",
        "alerts_tick_s",
        "alerts_maintenance_refresh_s",
        "alerts_metrics_host",
        "alerts_metrics_port",
    },
    "ingest": _fields(MqttSettings, InfluxSettings)
    | {
        "mqtt_client_id",
        "mqtt_session_expiry_s",
        "mqtt_share_group",
        "mqtt_receive_maximum",
        "influx_api",
        "influx_retention_policy",
        "influx_org",
        "write_timeout_s",
        "batch_max_points",
        "batch_max_age_s",
        "retry_max_s",
        "max_payload_bytes",
        "max_future_s",
        "max_past_s",
        "max_devices_per_agent",
        "clock_window_s",
        "clock_skew_alert_s",
        "dead_letter_file",
        "metrics_port",
        "metrics_host",
    },
}

# SMARTAREA_* variables read outside the settings classes: known, so never refused.
OTHER_VARIABLES: dict[str, str] = {
    # python -m gateway: the gateway directory, instead of --dir
    "SMARTAREA_GATEWAY_DIR": "gateway/__main__.py",
    # compose's init step: the first administrator's password as a Docker secret
    "SMARTAREA_FIRST_ADMIN_PASSWORD_FILE": "devstack/compose_init.py",
    # compose's init step: 0 skips the demo catalog
    "SMARTAREA_DEMO_CATALOG": "devstack/compose_init.py",
    # the chaos test's seed; the services it starts inherit the test's environment
    "SMARTAREA_CHAOS_SEED": "tests/integration/test_chaos.py",
}


def known_variables() -> frozenset[str]:
    """Every ``SMARTAREA_*`` name some part of smartarea reads."""
    fields = frozenset().union(*SERVICE_FIELDS.values())
    return frozenset(PREFIX + name.upper() for name in fields) | frozenset(OTHER_VARIABLES)


def unknown_variables(
    environ: Mapping[str, str], also_known: Iterable[str] = ()
) -> list[tuple[str, str | None]]:
    """The ``SMARTAREA_*`` names in ``environ`` that nothing reads, each with the known name it
    most resembles (or ``None``). Names are compared in upper case, as the settings read them."""
    known = known_variables() | {PREFIX + name.upper() for name in also_known}
    found = []
    for name in sorted(environ):
        wanted = name.upper()
        if wanted.startswith(PREFIX) and wanted not in known:
            close = difflib.get_close_matches(wanted, known, n=1, cutoff=0.8)
            found.append((name, close[0] if close else None))
    return found


S = TypeVar("S", bound=BaseSettings)


def load_or_explain(settings_class: type[S]) -> S | None:
    """The settings, or ``None`` after printing one line per problem to stderr (exit 2 then):
    each ``SMARTAREA_*`` variable no service reads, each wrong value."""
    problems = [
        f"error: {name}: no smartarea service reads this variable"
        + (f"; did you mean {close}?" if close else " (a typo? remove it or correct its name)")
        for name, close in unknown_variables(os.environ, settings_class.model_fields)
    ]
    settings = None
    try:
        settings = settings_class()
    except ValidationError as exc:
        for err in exc.errors():
            if err["loc"]:
                field = "_".join(str(p) for p in err["loc"]).upper()
                problems.append(f"error: {PREFIX}{field}: {err['msg']}")
            else:  # a rule across fields: its message names them
                problems.append(f"error: {err['msg']}")
    for line in problems:
        print(line, file=sys.stderr)
    return None if problems else settings
