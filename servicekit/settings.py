"""``SMARTAREA_*`` settings of the server-side services, and loading them: a wrong value stops
the program with the variable's name.

The fields several services share are described once, in the bases below; the catalog's
``database_url`` in ``catalog.settings.CatalogSettings``.
"""

from __future__ import annotations

import sys
from typing import TypeVar

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

PREFIX = "SMARTAREA_"


class ServiceSettings(BaseSettings):
    """Base of every service's settings: ``SMARTAREA_<FIELD>`` variables, frozen once read.

    ``extra="ignore"``: a service starts beside the variables of the others (one environment)."""

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


S = TypeVar("S", bound=BaseSettings)


def load_or_explain(settings_class: type[S]) -> S | None:
    """The settings, or ``None`` after printing one line per problem to stderr (exit 2 then)."""
    try:
        return settings_class()
    except ValidationError as exc:
        for err in exc.errors():
            if err["loc"]:
                field = "_".join(str(p) for p in err["loc"]).upper()
                print(f"error: {PREFIX}{field}: {err['msg']}", file=sys.stderr)
            else:  # a rule across fields: its message names them
                print(f"error: {err['msg']}", file=sys.stderr)
        return None
