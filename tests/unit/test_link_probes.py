"""Uplink, other-device and PC probes against real sockets on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import struct
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from contract.models import DeviceKind, Status
from devstack.processes import free_port
from edge.probes import measure
from edge.probes.device import DeviceCheckConfig
from edge.probes.pc import PcConfig
from edge.probes.target import LinkTarget
from edge.probes.uplink import UplinkConfig, UplinkProbe


@pytest.fixture
def listening() -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


class _UdpServer:
    """Answers each datagram with ``reply(data)`` on a thread; for DNS and NTP."""

    def __init__(self, reply: object) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self._reply = reply
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(512)
            except TimeoutError:
                continue
            self.sock.sendto(self._reply(data), peer)  # type: ignore[operator]

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


def _tcp(name: str, role: str, port: int) -> LinkTarget:
    return LinkTarget(name=name, role=role, method="tcp", host="127.0.0.1", port=port)


def _uplink(*targets: LinkTarget, **extra: object) -> UplinkProbe:
    config = UplinkConfig(
        id="uplink",
        targets=list(targets),
        attempts=3,
        spacing_ms=0,
        timeout_s=0.5,
        **extra,
    )
    return config.build()


def test_summary_loss_percentiles_and_jitter() -> None:
    samples = [
        measure.Sample(10.0),
        measure.Sample(14.0),
        measure.Sample(None, "timeout"),
        measure.Sample(12.0),
    ]
    summary = measure.summarise(samples)
    assert (summary.sent, summary.received, summary.loss_pct) == (4, 3, 25.0)
    assert summary.rtt_p50_ms == 12.0 and summary.rtt_p95_ms == 14.0
    assert summary.jitter_ms == 3.0  # |14-10| and |12-14|, averaged
    assert summary.first_reason == "timeout"


def test_uplink_up_with_per_target_figures(listening: int) -> None:
    result = _uplink(
        _tcp("ont", "gateway", listening), _tcp("google", "upstream", listening)
    ).probe()
    assert result.status is Status.UP, result
    assert result.metrics["ont_loss_pct"] == 0 and result.metrics["google_loss_pct"] == 0
    assert 0 <= result.metrics["google_rtt_p95_ms"] < 100  # type: ignore[operator]
    assert result.metrics["link_state"] == "up"


def test_gateway_answers_nothing_beyond_is_an_uplink_fault(listening: int) -> None:
    closed = free_port()
    result = _uplink(
        _tcp("ont", "gateway", listening),
        _tcp("isp", "isp", closed),
        _tcp("web", "upstream", closed),
    ).probe()
    assert (result.status, result.reason) == (Status.DOWN, "uplink_fault")
    assert "refused" in (result.detail or "")


def test_gateway_silent_is_a_lan_fault(listening: int) -> None:
    closed = free_port()
    result = _uplink(_tcp("ont", "gateway", closed), _tcp("web", "upstream", listening)).probe()
    assert (result.status, result.reason) == (Status.DOWN, "lan_fault")


def test_provider_answers_internet_does_not(listening: int) -> None:
    closed = free_port()
    result = _uplink(_tcp("isp", "isp", listening), _tcp("web", "upstream", closed)).probe()
    assert (result.status, result.reason) == (Status.DOWN, "upstream_fault")


def test_partial_loss_is_degraded(listening: int) -> None:
    closed = free_port()
    result = _uplink(_tcp("a", "upstream", listening), _tcp("b", "upstream", closed)).probe()
    assert (result.status, result.reason) == (Status.DEGRADED, "loss")


def test_link_state_moves_only_after_cycles_agree(listening: int) -> None:
    probe = _uplink(_tcp("web", "upstream", listening), change_after=2)
    states = [
        probe._hysteresis(s)
        for s in (Status.UP, Status.DOWN, Status.UP, Status.DOWN, Status.DOWN, Status.UP, Status.UP)
    ]
    assert states == [
        Status.UP,
        Status.UP,
        Status.UP,
        Status.UP,
        Status.DOWN,
        Status.DOWN,
        Status.UP,
    ]


def test_dns_against_a_resolver_that_answers_and_one_that_does_not() -> None:
    def answer(query: bytes) -> bytes:
        return query[:2] + b"\x81\x80" + query[4:]  # same id, a response, NOERROR

    server = _UdpServer(answer)
    try:
        ok = measure.dns("sơnvi.vn", "127.0.0.1", 1.0, port=server.port)  # IDN names encode
        assert ok.ok, ok
    finally:
        server.close()
    silent = measure.dns("example.vn", "127.0.0.1", 0.3, port=free_port())
    assert not silent.ok and silent.reason in {"timeout", "refused"}


def test_http_below_500_is_reachable_above_is_not() -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(503 if self.path == "/broken" else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,))
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert measure.http_get(base + "/", 1).ok
        assert measure.http_get(base + "/broken", 1).reason == "http_503"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.skipif(os.geteuid() != 0, reason="ICMP echo needs root or net.ipv4.ping_group_range")
def test_icmp_echo_to_loopback() -> None:
    summary = measure.summarise(measure.icmp("127.0.0.1", 3, 0.05, 1.0))
    assert summary.loss_pct == 0 and summary.rtt_p50_ms is not None


def test_wifi_access_point_and_speaker_are_devices_with_a_kind(listening: int) -> None:
    wifi = DeviceCheckConfig(
        id="wifi-nvh", kind=DeviceKind.WIFI, check=_tcp("ap", "gateway", listening)
    ).build()
    result = wifi.probe()
    assert (result.kind, result.status) == (DeviceKind.WIFI, Status.UP)
    speaker = DeviceCheckConfig(
        id="loa-1", kind=DeviceKind.SPEAKER, check=_tcp("loa", "gateway", free_port()), attempts=1
    ).build()
    down = speaker.probe()
    assert (down.kind, down.status, down.reason) == (DeviceKind.SPEAKER, Status.DOWN, "refused")


def test_pc_health_and_a_clock_that_is_off() -> None:
    def ntp_ten_seconds_ahead(_: bytes) -> bytes:
        now = time.time() + 10 + 2_208_988_800
        seconds, fraction = int(now), int((now % 1) * 2**32)
        return b"\x24" + 39 * b"\x00" + struct.pack("!II", seconds, fraction)

    server = _UdpServer(ntp_ten_seconds_ahead)
    try:
        result = PcConfig(id="pc", ntp_server=f"127.0.0.1:{server.port}").build().probe()
    finally:
        server.close()
    assert (result.status, result.reason) == (Status.DEGRADED, "clock_off")
    assert 9_000 < result.metrics["clock_offset_ms"] < 11_000  # type: ignore[operator]
    for key in ("cpu_pct", "memory_pct", "disk_pct", "uptime_s"):
        assert key in result.metrics


def test_pc_without_ntp_answer_is_not_blamed() -> None:
    result = PcConfig(id="pc", ntp_server=f"127.0.0.1:{free_port()}", timeout_s=0.3).build().probe()
    assert result.metrics["clock_checked"] is False
    assert result.status is Status.UP or result.reason in {"disk_full", "memory_full"}
