"""A measurable target (address and method) and its measurement, shared by the uplink and the
other-device probes."""

from __future__ import annotations

import time
import urllib.parse
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from edge.probes import measure

Role = Literal["gateway", "isp", "upstream"]


class LinkTarget(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(
        pattern=r"^[a-z][a-z0-9_]{0,15}$",
        description="short label used in metric names, e.g. 'ont', 'vnpt_dns', 'google'",
    )
    role: Role = Field(description="gateway (LAN router/ONT), isp, or upstream (internet)")
    method: Literal["icmp", "tcp", "dns", "http"] = Field(description="how to measure it")
    host: str | None = Field(default=None, description="address (icmp, tcp) or resolver (dns)")
    port: int | None = Field(default=None, ge=1, le=65535, description="TCP port (tcp)")
    query: str | None = Field(default=None, description="name to resolve (dns)")
    url: str | None = Field(default=None, description="http:// or https:// URL (http)")

    @model_validator(mode="after")
    def _fields_for_method(self) -> LinkTarget:
        need = {
            "icmp": ("host",),
            "tcp": ("host", "port"),
            "dns": ("host", "query"),
            "http": ("url",),
        }
        missing = [field for field in need[self.method] if getattr(self, field) is None]
        if missing:
            raise ValueError(f"method {self.method!r} needs {', '.join(missing)}")
        if self.url is not None and urllib.parse.urlsplit(self.url).scheme not in {"http", "https"}:
            raise ValueError("url must be http:// or https://")
        return self


def measure_target(
    target: LinkTarget, attempts: int, spacing_s: float, timeout_s: float
) -> measure.Summary:
    """``attempts`` measurements of one target, ``spacing_s`` apart, summarised."""
    if target.method == "icmp":
        return measure.summarise(measure.icmp(target.host or "", attempts, spacing_s, timeout_s))
    samples = []
    for attempt in range(attempts):
        if attempt:
            time.sleep(spacing_s)
        if target.method == "tcp":
            samples.append(measure.tcp(target.host or "", target.port or 0, timeout_s))
        elif target.method == "dns":
            samples.append(measure.dns(target.query or "", target.host or "", timeout_s))
        else:
            samples.append(measure.http_get(target.url or "", timeout_s))
    return measure.summarise(samples)
