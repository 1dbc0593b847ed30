"""The fibre uplink and the LAN behind it: is the line usable, and if not, where does it break?

Targets have a role: ``gateway`` (the LAN router or the ONT), ``isp`` (the provider's side) and
``upstream`` (hosts on the internet). Each is measured several times per cycle by ICMP, TCP, DNS
or HTTP; per target the probe reports loss, RTT p50/p95 and jitter. The verdict tells a LAN or PC
fault (the gateway does not answer) from an uplink fault (the gateway answers, nothing beyond it
does). ``status`` is this cycle's truth; ``link_state`` adds hysteresis for people who want a
steady light: it changes only after ``change_after`` cycles agree.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

from pydantic import Field, model_validator

from contract.models import DeviceKind, DeviceResult, Status
from edge.probes import measure
from edge.probes.base import Probe, ProbeConfig
from edge.probes.target import LinkTarget, measure_target


class UplinkConfig(ProbeConfig):
    type: Literal["uplink"] = "uplink"
    kind: Literal[DeviceKind.UPLINK] = DeviceKind.UPLINK
    targets: list[LinkTarget] = Field(min_length=1, max_length=10)
    timeout_s: float = Field(default=2.0, gt=0, le=30, description="limit for each attempt")
    attempts: int = Field(default=4, ge=1, le=20, description="measurements per target per cycle")
    spacing_ms: int = Field(default=200, ge=0, le=5000, description="pause between attempts")
    degraded_loss_pct: float = Field(default=20, ge=0, le=100, description="more loss: degraded")
    degraded_rtt_ms: float = Field(default=300, gt=0, description="slower p95: degraded")
    change_after: int = Field(default=2, ge=1, le=20, description="cycles before link_state moves")

    @model_validator(mode="after")
    def _beyond_the_gateway(self) -> UplinkConfig:
        if all(target.role == "gateway" for target in self.targets):
            raise ValueError("add at least one 'isp' or 'upstream' target: the uplink is beyond")
        names = [target.name for target in self.targets]
        if len(set(names)) != len(names):
            raise ValueError("target names must be unique")
        return self

    def worst_case_s(self) -> float:
        # Targets are measured in parallel; attempts one after another.
        return self.attempts * (self.timeout_s * 2 + self.spacing_ms / 1000)

    def build(self) -> UplinkProbe:
        return UplinkProbe(self)


class UplinkProbe(Probe):
    kind = DeviceKind.UPLINK

    def __init__(self, config: UplinkConfig) -> None:
        super().__init__(config)
        self.config = config
        self.link_state: Status | None = None
        self._pending: Status | None = None
        self._streak = 0

    def _verdict(
        self, by_target: dict[str, measure.Summary]
    ) -> tuple[Status, str | None, str | None]:
        def answered(roles: set[str]) -> bool | None:
            chosen = [by_target[t.name] for t in self.config.targets if t.role in roles]
            return any(s.received for s in chosen) if chosen else None

        if answered({"gateway"}) is False:
            return Status.DOWN, "lan_fault", "the LAN gateway does not answer: PC, cable or router"
        if answered({"isp", "upstream"}) is False:
            return Status.DOWN, "uplink_fault", "the gateway answers, nothing beyond it does"
        if answered({"upstream"}) is False:
            return Status.DOWN, "upstream_fault", "the provider answers, the internet does not"
        beyond = [by_target[t.name] for t in self.config.targets if t.role != "gateway"]
        loss = max(s.loss_pct for s in beyond)
        if loss > self.config.degraded_loss_pct:
            return Status.DEGRADED, "loss", f"{loss:g}% of measurements lost"
        slowest = max((s.rtt_p95_ms or 0.0) for s in beyond)
        if slowest > self.config.degraded_rtt_ms:
            return Status.DEGRADED, "latency", f"p95 round trip {slowest:g} ms"
        return Status.UP, None, None

    def _hysteresis(self, status: Status) -> Status:
        if self.link_state is None or status == self.link_state:
            self.link_state, self._pending, self._streak = status, None, 0
            return status
        self._streak = self._streak + 1 if status == self._pending else 1
        self._pending = status
        if self._streak >= self.config.change_after:
            self.link_state, self._pending, self._streak = status, None, 0
        return self.link_state

    def probe(self) -> DeviceResult:
        started = time.perf_counter()
        c = self.config
        targets = c.targets
        with ThreadPoolExecutor(max_workers=len(targets), thread_name_prefix="uplink") as pool:
            summaries = list(
                pool.map(
                    lambda t: measure_target(t, c.attempts, c.spacing_ms / 1000, c.timeout_s),
                    targets,
                )
            )
        by_target = {t.name: s for t, s in zip(targets, summaries, strict=True)}
        status, reason, detail = self._verdict(by_target)
        metrics: dict[str, float | str] = {"link_state": self._hysteresis(status).value}
        for name, summary in by_target.items():
            metrics[f"{name}_loss_pct"] = summary.loss_pct
            for key, value in (
                ("rtt_p50_ms", summary.rtt_p50_ms),
                ("rtt_p95_ms", summary.rtt_p95_ms),
                ("jitter_ms", summary.jitter_ms),
            ):
                if value is not None:
                    metrics[f"{name}_{key}"] = value
        if reason in {"lan_fault", "uplink_fault", "upstream_fault"}:
            failing = [s.first_reason for s in summaries if s.first_reason]
            detail = f"{detail} ({failing[0]})" if failing else detail
        return self.result(started, status, reason, detail, metrics=metrics)
