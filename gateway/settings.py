"""The gateway's own settings, in ``DIR/gateway.toml`` (written by ``init``, operator-editable).

Validated like every configuration of the product: an unknown or wrong field stops the command
with a message that names it.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SETTINGS_FILE = "gateway.toml"


class GatewayError(Exception):
    """The gateway folder or a request cannot be used; the message says what to fix."""


class GatewaySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    hosts: list[str] = Field(
        min_length=1,
        description="host names or addresses agents dial; the first goes into agent bundles, "
        "all go into the broker certificate",
    )
    agent_port: int = Field(default=8883, ge=1, le=65535, description="TLS listener for agents")
    agent_bind: str = Field(default="0.0.0.0", description="address of the agent listener")  # noqa: S104
    local_port: int = Field(
        default=1883, ge=1, le=65535, description="loopback listener for ingest and the API"
    )
    user: str = Field(default="mosquitto", description="OS user Mosquitto drops to when root")
    max_queued_messages: int = Field(
        default=1_000_000,
        ge=1000,
        description="QoS 1 messages kept per offline session (Mosquitto's 1000 loses reports)",
    )
    max_inflight_messages: int = Field(default=100, ge=1, description="unacknowledged per client")
    max_packet_size: int = Field(
        default=257 * 1024,
        ge=2048,
        description="largest MQTT packet (payload, topic, headers): ingest's payload limit "
        "(256 KiB) plus room for the rest; MQTT v5 clients are told it when they connect",
    )
    max_keepalive: int = Field(default=300, ge=10, le=65535, description="longest keep-alive")
    max_agent_connections: int = Field(
        default=50_000, ge=1, description="connections on the agent listener"
    )
    tls_min_version: str = Field(
        default="tlsv1.2", pattern=r"^tlsv1\.[23]$", description="oldest TLS version accepted"
    )


def _toml_value(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, bool | int):
        return json.dumps(value)
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a TOML basic string


def dump(settings: GatewaySettings) -> str:
    lines = ["# smartarea gateway settings; after editing run: python -m gateway apply DIR"]
    for name, field in GatewaySettings.model_fields.items():
        lines.append(f"# {field.description}")
        lines.append(f"{name} = {_toml_value(getattr(settings, name))}")
    return "\n".join(lines) + "\n"


def load(folder: Path) -> GatewaySettings:
    path = folder / SETTINGS_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GatewayError(
            f"{path}: no such file; create the gateway first: python -m gateway init {folder}"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise GatewayError(f"{path}: not valid TOML: {exc}") from None
    try:
        return GatewaySettings.model_validate(data)
    except ValidationError as exc:
        problems = "\n".join(
            f"  {'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
            for e in exc.errors()
        )
        raise GatewayError(f"{path}: invalid settings:\n{problems}") from None
