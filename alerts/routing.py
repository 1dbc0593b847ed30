"""Who gets what: the channels (with their secrets) and the routes by area or commune (TOML).

Example (``docs/alerts.md`` explains every field)::

    dashboard_url = "https://giam-sat.phutho.gov.vn"   # messages link to the area's page there

    [channels.webhook]
    secret = "a long random string"        # HMAC-SHA256 key of X-Smartarea-Signature

    [channels.email]
    host = "smtp.example.vn"
    port = 587
    sender = "canh-bao@example.vn"
    starttls = true
    username = "canh-bao"
    password = "..."

    [channels.telegram]
    base_url = "https://api.telegram.org"
    token = "123:ABC"

    [channels.zalo]
    base_url = "https://openapi.zalo.me"
    access_token = "..."

    [[routes]]
    communes = ["son-vi"]                  # empty communes and areas: every area
    notify = [{ channel = "email", to = "ky-thuat@example.vn" }]
    escalate = [{ channel = "zalo", to = "8412345", language = "vi" }]
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WebhookChannel(_Strict):
    secret: SecretStr = Field(min_length=16, description="HMAC-SHA256 key")
    timeout_s: float = Field(default=5.0, gt=0)


class EmailChannel(_Strict):
    host: str
    port: int = Field(default=25, ge=1, le=65535)
    sender: str = Field(min_length=3)
    starttls: bool = False
    username: str | None = None
    password: SecretStr | None = None
    timeout_s: float = Field(default=10.0, gt=0)


class TelegramChannel(_Strict):
    base_url: str = "https://api.telegram.org"
    token: SecretStr
    timeout_s: float = Field(default=5.0, gt=0)


class ZaloChannel(_Strict):
    base_url: str = "https://openapi.zalo.me"
    access_token: SecretStr
    timeout_s: float = Field(default=5.0, gt=0)


class Channels(_Strict):
    webhook: WebhookChannel | None = None
    email: EmailChannel | None = None
    telegram: TelegramChannel | None = None
    zalo: ZaloChannel | None = None


ChannelName = Literal["webhook", "email", "telegram", "zalo"]


class Contact(_Strict):
    channel: ChannelName
    to: str = Field(min_length=1, max_length=200, description="URL, address, chat or user id")
    language: Literal["vi", "en"] = "vi"


class Route(_Strict):
    communes: list[str] = Field(default_factory=list)
    areas: list[str] = Field(default_factory=list)
    notify: list[Contact] = Field(default_factory=list)
    escalate: list[Contact] = Field(default_factory=list)

    def covers(self, area_id: str, commune_id: str | None) -> bool:
        if not self.communes and not self.areas:
            return True
        return area_id in self.areas or (commune_id is not None and commune_id in self.communes)


class Routing(_Strict):
    dashboard_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s/]+(/\S*)?$",
        max_length=200,
        description="the dashboard's address as technicians reach it: each message links to "
        "the area's page there (none: no link)",
    )
    channels: Channels = Field(default_factory=Channels)
    routes: list[Route] = Field(default_factory=list)

    def contacts(self, area_id: str, commune_id: str | None, escalation: bool) -> list[Contact]:
        seen: dict[tuple[str, str], Contact] = {}
        for route in self.routes:
            if route.covers(area_id, commune_id):
                for contact in route.escalate if escalation else route.notify:
                    seen.setdefault((contact.channel, contact.to), contact)
        return list(seen.values())

    def check(self) -> None:
        """Every contact's channel must be configured: say which one is not."""
        for i, route in enumerate(self.routes):
            for contact in route.notify + route.escalate:
                if getattr(self.channels, contact.channel) is None:
                    raise ValueError(
                        f"routes[{i}]: contact {contact.to!r} uses channel {contact.channel!r}, "
                        f"but [channels.{contact.channel}] is not configured"
                    )


class RoutingError(Exception):
    pass


def load(path: Path) -> Routing:
    """Read and check a routing file; ``RoutingError`` names the file and the field."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        routing = Routing.model_validate(raw)
        routing.check()
    except OSError as exc:
        raise RoutingError(f"{path}: cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RoutingError(f"{path}: not valid TOML: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise RoutingError(f"{path}: {where}: {first['msg']}") from None
    except ValueError as exc:
        raise RoutingError(f"{path}: {exc}") from None
    return routing
