"""Broker accounts: who they are, what they may do, where they may connect.

``DIR/accounts.json`` (0600) is the source of truth; Mosquitto's password and ACL files are
rendered from it. Every account's rights come from ``contract.topics`` grant builders, the same
builders the agent, ingest and API use to build the topics they speak on.

Agent user names are ``<area>/<agent>`` (``contract.topics.agent_account``), the middle levels of
the agent's topics, so that one ACL pattern serves every agent; no two (area, agent) pairs share a
name. Bridge names are ``bridge.<name>``: a dot never occurs in a slug, so a pattern built for
agents can never give a bridge another area's topics.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from contract import topics
from contract.models import Slug
from gateway.files import write_private

ACCOUNTS_FILE = "accounts.json"
INGEST_USER = "smartarea-ingest"
API_USER = "smartarea-api"
ALERTS_USER = "smartarea-alerts"


class Role(StrEnum):
    AGENT = "agent"  # one agent of one area, over TLS
    BRIDGE = "bridge"  # a commune broker forwarding its areas' agents, over TLS
    INGEST = "ingest"  # reads reports and presence, on loopback
    API = "api"  # publishes commands, on loopback
    ALERTS = "alerts"  # reads reports and presence (its own session), on loopback


SERVICE_ROLES = frozenset({Role.INGEST, Role.API, Role.ALERTS})


class Listener(StrEnum):
    AGENTS = "agents"  # the TLS listener reachable from the internet
    LOCAL = "local"  # the loopback listener of the server-side services


class Account(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    username: str = Field(description="broker user name")
    role: Role
    area_id: Slug | None = Field(default=None, description="agent accounts: the area")
    agent_id: Slug | None = Field(default=None, description="agent accounts: the agent")
    areas: tuple[Slug, ...] = Field(default=(), description="bridge accounts: the areas")
    password_hash: str = Field(description="Mosquitto $7$ PBKDF2-SHA512 hash, never the password")
    created_at: datetime

    @property
    def listener(self) -> Listener:
        return Listener.LOCAL if self.role in SERVICE_ROLES else Listener.AGENTS

    def grants(self) -> topics.Grants:
        if self.role is Role.AGENT:
            if self.area_id is None or self.agent_id is None:
                raise ValueError(f"agent account {self.username} has no area or agent id")
            return topics.agent_grants(self.area_id, self.agent_id)
        if self.role is Role.BRIDGE:
            return topics.area_grants(self.areas)
        if self.role in (Role.INGEST, Role.ALERTS):
            return topics.ingest_grants()
        return topics.api_grants()

    def describe(self) -> str:
        if self.role is Role.AGENT:
            return f"area {self.area_id}, agent {self.agent_id}"
        if self.role is Role.BRIDGE:
            return "areas " + ", ".join(self.areas)
        return "server-side service"


def agent_username(area_id: str, agent_id: str) -> str:
    return topics.agent_account(area_id, agent_id)


def bridge_username(name: str) -> str:
    return f"bridge.{topics.check_slug(name, 'bridge name')}"


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


_LIST = TypeAdapter(list[Account])


def load(folder: Path) -> dict[str, Account]:
    path = folder / ACCOUNTS_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    return {account.username: account for account in _LIST.validate_json(raw)}


def save(folder: Path, accounts: dict[str, Account]) -> None:
    ordered = sorted(accounts.values(), key=lambda a: (a.role.value, a.username))
    data = [a.model_dump(mode="json") for a in ordered]
    write_private(folder / ACCOUNTS_FILE, json.dumps(data, indent=1, ensure_ascii=False).encode())
