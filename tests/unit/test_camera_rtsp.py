"""The RTSP probe against the simulator's RTSP server through OpenCV's real FFmpeg backend."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator

import numpy as np
import pytest

from contract.models import Status
from devstack.camfaults import encode_jpeg
from devstack.camsim import CameraFleet, Footage, find_footage
from devstack.rtspsim import parse_jpeg, rtp_packets
from edge.probes.base import Credentials
from edge.probes.rtsp import CameraRtspConfig, CameraRtspProbe

PASSWORD = "Mật khẩu/9@x"  # spaces, a slash and an at sign: the URL must be quoted right


@pytest.fixture(scope="module")
def footage() -> Footage:
    return Footage(find_footage(), max_frames=30)


@pytest.fixture
def fleet(footage: Footage) -> Iterator[CameraFleet]:
    with CameraFleet(["cam-01"], footage, rtsp=True) as cameras:
        yield cameras


def _probe(url: str, **extra: object) -> CameraRtspProbe:
    config = {"id": "cam-01", "url": url, "timeout_s": 1.5, "sample_s": 0.5, **extra}
    return CameraRtspConfig.model_validate(config).build()


def test_rtp_jpeg_packets_carry_the_whole_frame(footage: Footage) -> None:
    parts = parse_jpeg(footage.jpegs[0])
    assert (parts.width, parts.height, parts.kind, len(parts.tables)) == (768, 576, 1, 128)
    packets = rtp_packets(parts, seq=65535, timestamp=0, ssrc=1)
    assert len(packets) > 1
    assert [p[1] >> 7 for p in packets] == [0] * (len(packets) - 1) + [1]  # marker on the last
    assert int.from_bytes(packets[1][2:4], "big") == 0  # the sequence number wraps
    with pytest.raises(ValueError, match="JPEG"):
        parse_jpeg(b"not a jpeg")
    assert parse_jpeg(encode_jpeg(np.full((64, 64, 3), 128, np.uint8))).width == 64


def test_stream_with_digest_login_fps_and_no_password_anywhere(
    fleet: CameraFleet, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    camera = fleet["cam-01"]
    camera.credentials = ("admin", PASSWORD)
    monkeypatch.setenv("CAM_PW", PASSWORD)
    login = Credentials(username="admin", password_env="CAM_PW")
    result = _probe(camera.rtsp_url, auth=login).probe()
    assert result.status is Status.UP, result
    assert result.metrics["width_px"] == 768 and result.metrics["image"] == "ok"
    assert 5 <= result.metrics["fps"] <= 15, result.metrics  # type: ignore[operator]
    monkeypatch.setenv("CAM_PW", "sai-" + PASSWORD)
    refused = _probe(camera.rtsp_url, auth=login).probe()
    assert (refused.status, refused.reason) == (Status.DOWN, "auth_refused")
    for text in [result.model_dump_json(), refused.model_dump_json(), caplog.text]:
        assert PASSWORD not in text and "Mật" not in text


def test_covered_picture_is_confirmed_over_rtsp(fleet: CameraFleet) -> None:
    camera = fleet["cam-01"]
    probe = _probe(camera.rtsp_url, confirm_after=2)
    assert probe.probe().status is Status.UP
    camera.set_fault("covered")
    assert probe.probe().status is Status.UP  # one covered look is not yet a fault
    result = probe.probe()
    assert (result.status, result.reason) == (Status.DOWN, "covered"), result


def test_stalled_offline_and_silent_cameras_cost_at_most_their_timeouts(
    fleet: CameraFleet,
) -> None:
    camera = fleet["cam-01"]
    camera.set_fault("stalled")
    started = time.monotonic()
    stalled = _probe(camera.rtsp_url).probe()
    assert (stalled.status, stalled.reason) == (Status.DOWN, "no_frames"), stalled
    assert time.monotonic() - started < 3 * 1.5 + 1  # the agent's hard limit for this probe
    url = camera.rtsp_url
    camera.set_fault("offline")
    assert _probe(url).probe().reason == "refused"
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    try:
        started = time.monotonic()
        result = _probe(f"rtsp://127.0.0.1:{silent.getsockname()[1]}/live").probe()
    finally:
        silent.close()
    assert (result.status, result.reason) == (Status.DOWN, "timeout")
    assert time.monotonic() - started < 2.5


def test_rtsp_config_refuses_credentials_in_the_url_and_a_sample_over_budget() -> None:
    with pytest.raises(ValueError, match="credentials"):
        CameraRtspConfig(id="c", url="rtsp://admin:pw@10.0.0.2/live")
    with pytest.raises(ValueError, match="sample_s"):
        CameraRtspConfig(id="c", url="rtsp://10.0.0.2/live", timeout_s=1, sample_s=2)
