"""The cultural-house PC itself: CPU, memory, disk, uptime, and how far its clock is off.

The clock matters more than it seems: every report is stamped with it, and uptime figures for
auditors are computed from those stamps. With an NTP server configured, the offset is measured by
a plain SNTP query each cycle, and a clock off by more than ``max_clock_offset_s`` degrades the PC.
"""

from __future__ import annotations

import socket
import struct
import time
from pathlib import Path
from typing import Literal

import psutil
from pydantic import Field

from contract.models import DeviceKind, DeviceResult, Status
from edge.probes.base import Probe, ProbeConfig

_NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900-01-01 to 1970-01-01


class PcConfig(ProbeConfig):
    type: Literal["pc"] = "pc"
    kind: Literal[DeviceKind.PC] = DeviceKind.PC
    disk_path: Path = Field(default=Path("/"), description="the disk that holds the outbox")
    ntp_server: str | None = Field(
        default=None, description="NTP server (HOST or HOST:PORT) to measure the clock offset"
    )
    timeout_s: float = Field(default=2.0, gt=0, le=30, description="limit for the NTP query")
    max_disk_pct: float = Field(default=95, gt=0, le=100, description="fuller: degraded")
    max_memory_pct: float = Field(default=95, gt=0, le=100, description="fuller: degraded")
    max_clock_offset_s: float = Field(default=5, gt=0, description="further off: degraded")

    def worst_case_s(self) -> float:
        return self.timeout_s + 0.5 if self.ntp_server else 0.5  # one NTP query at most

    def build(self) -> PcProbe:
        return PcProbe(self)


def clock_offset_s(server: str, timeout_s: float, port: int = 123) -> float:
    """SNTP (RFC 4330): server time minus local time, corrected for the round trip."""
    packet = b"\x23" + 47 * b"\x00"  # version 4, mode 3 (client)
    with socket.socket(
        socket.AF_INET6 if ":" in server else socket.AF_INET, socket.SOCK_DGRAM
    ) as sock:
        sock.settimeout(timeout_s)
        sent = time.time()
        sock.sendto(packet, (server, port))
        data = sock.recv(48)
        received = time.time()
    if len(data) < 48:
        raise OSError("short NTP answer")
    seconds, fraction = struct.unpack("!II", data[40:48])  # transmit timestamp
    server_time = seconds - _NTP_EPOCH_OFFSET + fraction / 2**32
    return float(server_time - (sent + received) / 2)


class PcProbe(Probe):
    kind = DeviceKind.PC

    def __init__(self, config: PcConfig) -> None:
        super().__init__(config)
        self.config = config
        psutil.cpu_percent()  # the first reading only starts the measurement window

    def probe(self) -> DeviceResult:
        started = time.perf_counter()
        config = self.config
        metrics: dict[str, float | bool] = {
            "cpu_pct": psutil.cpu_percent(),
            "memory_pct": psutil.virtual_memory().percent,
            "disk_pct": psutil.disk_usage(str(config.disk_path)).percent,
            "uptime_s": round(time.time() - psutil.boot_time(), 1),
        }
        problems: list[tuple[str, str]] = []
        if config.ntp_server is not None:
            try:
                host, _, port = config.ntp_server.rpartition(":")
                if not port.isdigit():
                    host, port = config.ntp_server, "123"
                offset = clock_offset_s(host, self.timeout_s, int(port))
                metrics["clock_offset_ms"] = round(offset * 1000, 3)
                if abs(offset) > config.max_clock_offset_s:
                    problems.append(("clock_off", f"clock is {offset:+.1f} s off"))
            except OSError:
                # Not the PC's fault (the uplink may be down): no figure this cycle, no verdict.
                metrics["clock_checked"] = False
        if metrics["disk_pct"] > config.max_disk_pct:
            problems.append(("disk_full", f"disk {metrics['disk_pct']:g}% full"))
        if metrics["memory_pct"] > config.max_memory_pct:
            problems.append(("memory_full", f"memory {metrics['memory_pct']:g}% used"))
        if problems:
            detail = "; ".join(text for _, text in problems)
            return self.result(started, Status.DEGRADED, problems[0][0], detail, metrics)
        return self.result(started, Status.UP, metrics=metrics)
