"""Other devices of the cultural house, answered or not: the free Wi-Fi access point, IP
loudspeakers (loa truyền thanh), anything with an address. Each is a device with a kind, so
criteria can count them ("a Wi-Fi point at the cultural house, maintained regularly")."""

from __future__ import annotations

import time
from typing import Literal

from pydantic import Field

from contract.models import DeviceKind, DeviceResult, Status
from edge.probes.base import Probe, ProbeConfig
from edge.probes.target import LinkTarget, measure_target


class DeviceCheckConfig(ProbeConfig):
    type: Literal["device"] = "device"
    kind: Literal[DeviceKind.WIFI, DeviceKind.SPEAKER] = Field(
        description="wifi (access point) or speaker (IP loudspeaker)"
    )
    check: LinkTarget = Field(description="how to reach it: icmp, tcp, dns or http (role: gateway)")
    timeout_s: float = Field(default=2.0, gt=0, le=30, description="limit for each attempt")
    attempts: int = Field(default=3, ge=1, le=10, description="measurements per cycle")

    def worst_case_s(self) -> float:
        return self.attempts * (self.timeout_s * 2 + 0.2)

    def build(self) -> DeviceCheckProbe:
        return DeviceCheckProbe(self)


class DeviceCheckProbe(Probe):
    def __init__(self, config: DeviceCheckConfig) -> None:
        super().__init__(config)
        self.kind = config.kind
        self.config = config

    def probe(self) -> DeviceResult:
        started = time.perf_counter()
        check = self.config.check
        summary = measure_target(check, self.config.attempts, 0.2, self.timeout_s)
        metrics: dict[str, float] = {"loss_pct": summary.loss_pct}
        if summary.rtt_p50_ms is not None:
            metrics["rtt_ms"] = summary.rtt_p50_ms
        if not summary.received:
            reason = summary.first_reason or "error"
            return self.result(
                started, Status.DOWN, reason, f"{check.method} got no answer", metrics
            )
        if summary.loss_pct > 50:
            return self.result(started, Status.DEGRADED, "loss", None, metrics)
        return self.result(started, Status.UP, metrics=metrics)
