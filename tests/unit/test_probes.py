"""Probes turn every failure into a result with a reason and timings, within their timeout.

They run against real sockets on 127.0.0.1 (a camera simulator, a closed port, a silent server).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from contract.models import Status
from devstack.camsim import CameraFleet, Footage, find_footage
from devstack.processes import free_port
from edge.probes.base import Credentials
from edge.probes.camera import CameraSnapshotConfig, CameraSnapshotProbe
from edge.probes.link import TcpLinkConfig


@pytest.fixture(scope="module")
def footage() -> Footage:
    return Footage(find_footage(), max_frames=10)


@pytest.fixture
def fleet(footage: Footage) -> Iterator[CameraFleet]:
    with CameraFleet(["cam-01"], footage) as cameras:
        yield cameras


@pytest.fixture
def silent_port() -> Iterator[int]:
    """Accepts TCP connections and never says a word (a half-dead camera)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def _camera(
    url: str, timeout_s: float = 1.0, auth: Credentials | None = None
) -> CameraSnapshotProbe:
    return CameraSnapshotConfig(id="cam-01", url=url, timeout_s=timeout_s, auth=auth).build()


def test_camera_up_with_real_frame_size(fleet: CameraFleet) -> None:
    result = _camera(fleet["cam-01"].snapshot_url).probe()
    assert result.status is Status.UP, result
    assert (result.metrics["width_px"], result.metrics["height_px"]) == (768, 576)
    assert result.metrics["bytes"] > 10_000  # type: ignore[operator]
    assert 0 < result.duration_ms < 1000


def test_camera_offline_is_refused(fleet: CameraFleet) -> None:
    url = fleet["cam-01"].snapshot_url
    fleet["cam-01"].set_fault("offline")
    result = _camera(url).probe()
    assert (result.status, result.reason) == (Status.DOWN, "refused")


def test_camera_that_accepts_and_never_answers_costs_only_its_timeout(silent_port: int) -> None:
    started = time.monotonic()
    result = _camera(f"http://127.0.0.1:{silent_port}/snapshot.jpg", timeout_s=0.5).probe()
    assert (result.status, result.reason) == (Status.DOWN, "timeout")
    assert time.monotonic() - started < 2


def test_camera_auth_refused_and_password_never_in_the_result(
    fleet: CameraFleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAM_PW", "s3cr3t-Đèn")
    fleet["cam-01"].set_fault("auth")
    probe = _camera(
        fleet["cam-01"].snapshot_url, auth=Credentials(username="admin", password_env="CAM_PW")
    )
    result = probe.probe()
    assert (result.status, result.reason) == (Status.DOWN, "auth_refused")
    assert "s3cr3t" not in result.model_dump_json()
    assert "s3cr3t" not in repr(probe.auth)


def test_camera_missing_password_is_a_result_not_a_crash(fleet: CameraFleet) -> None:
    probe = _camera(
        fleet["cam-01"].snapshot_url, auth=Credentials(username="admin", password_env="NOPE_X")
    )
    result = probe.probe()
    assert (result.status, result.reason) == (Status.DOWN, "config")
    assert "NOPE_X" in (result.detail or "")


def test_body_that_is_not_an_image() -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<html>login</html>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        result = _camera(f"http://127.0.0.1:{server.server_address[1]}/x").probe()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert (result.status, result.reason) == (Status.DOWN, "not_an_image")


def test_link_up_degraded_down(silent_port: int) -> None:
    closed = free_port()
    up = TcpLinkConfig(id="uplink", targets=[f"127.0.0.1:{silent_port}"]).build().probe()
    assert up.status is Status.UP
    assert 0 <= up.metrics["rtt_ms"] < 100  # type: ignore[operator]
    half = TcpLinkConfig(
        id="uplink", targets=[f"127.0.0.1:{silent_port}", f"127.0.0.1:{closed}"]
    ).build()
    result = half.probe()
    assert (result.status, result.reason) == (Status.DEGRADED, "partial")
    assert result.metrics["targets_up"] == 1
    down = TcpLinkConfig(id="uplink", targets=[f"127.0.0.1:{closed}"]).build().probe()
    assert (down.status, down.reason) == (Status.DOWN, "refused")
