"""TCP connect round-trip time to a set of targets: is the line (LAN or fibre uplink) usable?"""

from __future__ import annotations

import socket
import statistics
import time
from typing import Literal

from pydantic import Field, field_validator

from contract.models import DeviceKind, DeviceResult, Status
from edge.probes.base import Probe, ProbeConfig
from edge.probes.netfail import reason_for


class TcpLinkConfig(ProbeConfig):
    type: Literal["tcp_link"] = "tcp_link"
    kind: Literal[DeviceKind.UPLINK] = DeviceKind.UPLINK
    targets: list[str] = Field(
        min_length=1,
        max_length=16,
        description="HOST:PORT endpoints to connect to, e.g. the ISP DNS '203.162.4.191:53'",
    )
    timeout_s: float = Field(default=3.0, gt=0, le=60, description="connect timeout per target")

    @field_validator("targets")
    @classmethod
    def _host_port(cls, targets: list[str]) -> list[str]:
        for target in targets:
            host, sep, port = target.rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"target {target!r} must be HOST:PORT with a port 1-65535")
        return targets

    def build(self) -> TcpLinkProbe:
        return TcpLinkProbe(self)

    def worst_case_s(self) -> float:
        return self.timeout_s * len(self.targets)


class TcpLinkProbe(Probe):
    kind = DeviceKind.UPLINK

    def __init__(self, config: TcpLinkConfig) -> None:
        super().__init__(config)
        self.targets = [
            (t.rpartition(":")[0].strip("[]"), int(t.rpartition(":")[2])) for t in config.targets
        ]

    def _connect_ms(self, host: str, port: int) -> float:
        start = time.perf_counter()
        with socket.create_connection((host, port), timeout=self.timeout_s):
            return (time.perf_counter() - start) * 1000

    def probe(self) -> DeviceResult:
        started = time.perf_counter()
        rtts: list[float] = []
        failure: tuple[str, str] | None = None
        for host, port in self.targets:
            try:
                rtts.append(self._connect_ms(host, port))
            except OSError as exc:
                failure = failure or reason_for(exc)
        counts: dict[str, float] = {"targets_up": len(rtts), "targets_total": len(self.targets)}
        if not rtts:
            reason, detail = failure or ("error", "no targets")
            detail = f"no target answered: {detail}"
            return self.result(started, Status.DOWN, reason, detail, metrics=counts)
        rtt: dict[str, float] = {
            "rtt_ms": round(statistics.median(rtts), 3),
            "rtt_max_ms": round(max(rtts), 3),
        }
        if failure is not None:
            reason, detail = failure
            detail = f"{len(rtts)}/{len(self.targets)} targets answered; first failure: {detail}"
            return self.result(started, Status.DEGRADED, "partial", detail, metrics=rtt | counts)
        return self.result(started, Status.UP, metrics=rtt | counts)
