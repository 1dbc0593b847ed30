"""One network measurement at a time: ICMP echo, TCP connect, DNS query, HTTP request.

Each returns a ``Sample``: the round-trip time, or the reason it failed. Nothing here raises for a
network fault. ``summarise`` turns a series of samples into loss, RTT percentiles and jitter.
"""

from __future__ import annotations

import http.client
import random
import socket
import statistics
import struct
import time
import urllib.parse
from dataclasses import dataclass
from itertools import pairwise

import icmplib

from edge.probes.netfail import reason_for


@dataclass(frozen=True, slots=True)
class Sample:
    rtt_ms: float | None
    reason: str | None = None  # why it failed, as a reason code

    @property
    def ok(self) -> bool:
        return self.rtt_ms is not None


@dataclass(frozen=True, slots=True)
class Summary:
    sent: int
    received: int
    loss_pct: float
    rtt_p50_ms: float | None
    rtt_p95_ms: float | None
    jitter_ms: float | None
    first_reason: str | None


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)


_icmp_modes = [True, False]  # raw socket first (root, CAP_NET_RAW, Windows), then ping socket


def icmp(host: str, count: int, spacing_s: float, timeout_s: float) -> list[Sample]:
    """``count`` echo requests: a raw socket where allowed (root, CAP_NET_RAW, a Windows
    service), else Linux's unprivileged ICMP socket (net.ipv4.ping_group_range must include the
    agent's group). The mode that works is remembered."""
    for privileged in list(_icmp_modes):
        try:
            reply = icmplib.ping(
                host, count=count, interval=spacing_s, timeout=timeout_s, privileged=privileged
            )
        except icmplib.SocketPermissionError:
            if len(_icmp_modes) > 1:
                _icmp_modes.remove(privileged)
            continue
        except icmplib.NameLookupError:
            return [Sample(None, "dns")] * count
        except (icmplib.ICMPLibError, OSError):
            return [Sample(None, "error")] * count
        samples = [Sample(round(rtt, 3)) for rtt in reply.rtts]
        return samples + [Sample(None, "timeout")] * (count - len(samples))
    return [Sample(None, "icmp_not_permitted")] * count


def tcp(host: str, port: int, timeout_s: float) -> Sample:
    start = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return Sample(_ms(start))
    except OSError as exc:
        return Sample(None, reason_for(exc)[0])


def _dns_query(name: str) -> tuple[int, bytes]:
    query_id = random.getrandbits(16)
    header = struct.pack("!HHHHHH", query_id, 0x0100, 1, 0, 0, 0)  # recursion desired, 1 question
    labels = b"".join(bytes([len(part)]) + part for part in name.encode("idna").split(b".") if part)
    return query_id, header + labels + b"\x00" + struct.pack("!HH", 1, 1)  # A, IN


def dns(name: str, server: str, timeout_s: float, port: int = 53) -> Sample:
    """Ask ``server`` directly for ``name`` (no local cache in the way): is resolution working?"""
    query_id, packet = _dns_query(name)
    start = time.perf_counter()
    family = socket.AF_INET6 if ":" in server else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout_s)
        try:
            sock.sendto(packet, (server, port))
            while True:
                data = sock.recv(4096)
                if len(data) >= 12 and struct.unpack("!H", data[:2])[0] == query_id:
                    break
        except OSError as exc:
            return Sample(None, reason_for(exc)[0])
    rcode = data[3] & 0x0F
    if rcode not in {0, 3}:  # NOERROR and NXDOMAIN both prove the resolver answers
        return Sample(None, f"dns_rcode_{rcode}")
    return Sample(_ms(start))


def http_get(url: str, timeout_s: float) -> Sample:
    """Time to the response headers of a GET; any answer below 500 counts as reachable."""
    parts = urllib.parse.urlsplit(url)
    conn_cls = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    conn = conn_cls(parts.hostname or "", parts.port, timeout=timeout_s)
    path = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
    start = time.perf_counter()
    try:
        conn.request("GET", path, headers={"User-Agent": "smartarea-edge"})
        status = conn.getresponse().status
    except OSError as exc:
        return Sample(None, reason_for(exc)[0])
    except http.client.HTTPException:
        return Sample(None, "protocol")
    finally:
        conn.close()
    if status >= 500:
        return Sample(None, f"http_{status}")
    return Sample(_ms(start))


def _percentile(sorted_values: list[float], share: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(share * (len(sorted_values) - 1))))
    return sorted_values[index]


def summarise(samples: list[Sample]) -> Summary:
    rtts = [s.rtt_ms for s in samples if s.rtt_ms is not None]
    failures = [s.reason for s in samples if s.rtt_ms is None]
    ordered = sorted(rtts)
    jitter = (
        round(statistics.fmean(abs(b - a) for a, b in pairwise(rtts)), 3) if len(rtts) > 1 else None
    )
    return Summary(
        sent=len(samples),
        received=len(rtts),
        loss_pct=round(100 * len(failures) / len(samples), 2) if samples else 100.0,
        rtt_p50_ms=round(statistics.median(ordered), 3) if ordered else None,
        rtt_p95_ms=_percentile(ordered, 0.95) if ordered else None,
        jitter_ms=jitter,
        first_reason=failures[0] if failures else None,
    )
