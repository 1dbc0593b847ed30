"""The camera snapshot probe on the simulator: Digest and Basic logins, picture faults confirmed
over probes, the stored reference and re-baselining, and the password kept out of everything."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from contract.models import Status
from devstack.camsim import CameraFleet, Footage, find_footage
from edge.camera.__main__ import main as camera_cli
from edge.camera.reference import reference_path
from edge.probes.base import Credentials
from edge.probes.camera import CameraSnapshotConfig, CameraSnapshotProbe
from edge.probes.httpauth import digest, parse_challenge
from tests.clock import midday_zone, midnight_zone

PASSWORD = "Mật-khẩu-7c1e"


@pytest.fixture(scope="module")
def footage() -> Footage:
    return Footage(find_footage(), max_frames=40)


@pytest.fixture
def fleet(footage: Footage) -> Iterator[CameraFleet]:
    with CameraFleet(["cam-01"], footage) as cameras:
        yield cameras


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> Credentials:
    monkeypatch.setenv("CAM_PW", PASSWORD)
    return Credentials(username="admin", password_env="CAM_PW")


def _probe(url: str, tmp_path: Path, **extra: object) -> CameraSnapshotProbe:
    config = CameraSnapshotConfig.model_validate(
        {
            "id": "Cổng chợ",
            "url": url,
            "timeout_s": 2,
            "reference_dir": tmp_path / "refs",
            "confirm_after": 2,
            "timezone": midday_zone(),
            **extra,
        }
    )
    return config.build()


def test_digest_login_like_a_hikvision(
    fleet: CameraFleet, secret: Credentials, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    camera = fleet["cam-01"]
    camera.credentials = ("admin", PASSWORD)
    result = _probe(camera.snapshot_url, tmp_path, auth=secret).probe()
    assert result.status is Status.UP, result
    assert result.metrics["width_px"] == 768
    assert result.metrics["reference_new"] is True

    wrong = Credentials(username="admin", password_env="WRONG_PW")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WRONG_PW", "not-" + PASSWORD)
        refused = _probe(camera.snapshot_url, tmp_path, auth=wrong).probe()
    assert (refused.status, refused.reason) == (Status.DOWN, "auth_refused")
    nobody = _probe(camera.snapshot_url, tmp_path).probe()
    assert (nobody.status, nobody.reason) == (Status.DOWN, "auth_refused")
    for text in [result.model_dump_json(), refused.model_dump_json(), caplog.text]:
        assert PASSWORD not in text


def test_basic_login_answers_the_basic_challenge(
    fleet: CameraFleet, secret: Credentials, tmp_path: Path
) -> None:
    camera = fleet["cam-01"]
    camera.credentials, camera.auth_scheme = ("admin", PASSWORD), "basic"
    assert _probe(camera.snapshot_url, tmp_path, auth=secret).probe().status is Status.UP
    digest_only = _probe(camera.snapshot_url, tmp_path, auth=secret, auth_scheme="digest")
    assert digest_only.probe().reason == "auth_refused"


def test_digest_response_matches_rfc_7616_example() -> None:
    # RFC 7616 section 3.9.1, MD5, with the example's client nonce fixed.
    header = (
        'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, '
        'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
        'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'
    )
    scheme, params = parse_challenge(header)
    assert scheme == "digest" and params["realm"] == "http-auth@example.org"
    cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
    answer = digest("Mufasa", "Circle of Life", "GET", "/dir/index.html", params, cnonce=cnonce)
    assert 'response="8ca523f5e9506fed4657c9700eebdbec"' in answer
    assert 'username="Mufasa"' in answer and "qop=auth" in answer
    assert 'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"' in answer
    assert "Circle of Life" not in answer


@pytest.mark.parametrize(
    ("fault", "status"),
    [
        ("black", Status.DOWN),
        ("frozen", Status.DOWN),
        ("covered", Status.DOWN),
        ("moved", Status.DEGRADED),
        ("blurred", Status.DEGRADED),
    ],
)
def test_picture_faults_are_confirmed_then_reported(
    fleet: CameraFleet, tmp_path: Path, fault: str, status: Status
) -> None:
    camera = fleet["cam-01"]
    probe = _probe(camera.snapshot_url, tmp_path)
    assert probe.probe().status is Status.UP  # the first frame becomes the reference
    assert reference_path(tmp_path / "refs", "Cổng chợ").exists()
    camera.set_fault(fault)
    first = probe.probe()
    if fault != "frozen":  # a freeze shows from the second identical frame on
        assert first.status is Status.UP and first.metrics["image"] == fault, first
    results = [probe.probe() for _ in range(2)]
    assert (results[-1].status, results[-1].reason) == (status, fault), results[-1]
    assert results[-1].metrics["image_state"] == fault
    assert results[-1].metrics["grade"] == "unusable"
    camera.set_fault("none")
    results = [probe.probe() for _ in range(2)]
    assert (results[-1].status, results[-1].reason) == (Status.UP, None), results[-1]


def test_dark_by_day_is_up_with_a_warning(fleet: CameraFleet, tmp_path: Path) -> None:
    camera = fleet["cam-01"]
    probe = _probe(camera.snapshot_url, tmp_path)
    probe.probe()
    camera.set_fault("dark")
    result = probe.probe()
    assert (result.status, result.reason) == (Status.UP, "dark")
    assert result.metrics["image_state"] == "dark"
    assert result.metrics["daylight"] is True


def test_the_same_dark_colour_picture_at_night_is_an_ir_fault(
    fleet: CameraFleet, tmp_path: Path
) -> None:
    """At night in the site's zone a colour camera should have switched to IR (monochrome)."""
    camera = fleet["cam-01"]
    probe = _probe(camera.snapshot_url, tmp_path, timezone=midnight_zone())
    probe.probe()
    camera.set_fault("dark")
    results = [probe.probe() for _ in range(2)]
    assert results[-1].metrics["daylight"] is False
    assert results[-1].metrics["image_state"] == "ir_stuck", results[-1]


def test_rebaseline_by_cli_is_picked_up_by_the_running_probe(
    fleet: CameraFleet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    camera = fleet["cam-01"]
    probe = _probe(camera.snapshot_url, tmp_path)
    probe.probe()
    camera.set_fault("moved")  # the camera was re-aimed on purpose
    assert [probe.probe().status for _ in range(3)][-1] is Status.DEGRADED
    config = tmp_path / "agent.toml"
    config.write_text(
        f"""
area_id = "son-vi-khu-6"
agent_id = "nvh"
[broker]
host = "127.0.0.1"
port = 1883
tls = false
[[devices]]
id = "Cổng chợ"
type = "camera_snapshot"
url = "{camera.snapshot_url}"
reference_dir = "{tmp_path / "refs"}"
""",
        encoding="utf-8",
    )
    assert camera_cli(["reference", str(config), "Cổng chợ"]) == 0
    assert "Cổng chợ" in capsys.readouterr().out
    results = [probe.probe() for _ in range(2)]
    assert (results[-1].status, results[-1].metrics["image"]) == (Status.UP, "ok"), results[-1]
    assert camera_cli(["reference", str(config), "cam-99"]) == 2


def test_without_image_health_it_only_checks_the_frame(fleet: CameraFleet, tmp_path: Path) -> None:
    camera = fleet["cam-01"]
    camera.set_fault("black")
    result = _probe(camera.snapshot_url, tmp_path, image_health=False).probe()
    assert result.status is Status.UP
    assert "image" not in result.metrics and result.metrics["mean_luma"] < 10  # type: ignore[operator]


def test_motion_jpeg_stream_first_frame_judged(fleet: CameraFleet, tmp_path: Path) -> None:
    camera = fleet["cam-01"]
    probe = _probe(camera.mjpeg_url, tmp_path)
    result = probe.probe()
    assert result.status is Status.UP, result
    assert result.metrics["width_px"] == 768 and result.metrics["image"] == "ok"
    camera.set_fault("covered")
    results = [probe.probe() for _ in range(2)]
    assert (results[-1].status, results[-1].reason) == (Status.DOWN, "covered"), results[-1]


def test_stalled_motion_jpeg_costs_only_its_timeout(fleet: CameraFleet, tmp_path: Path) -> None:
    camera = fleet["cam-01"]
    camera.set_fault("stalled")
    started = time.monotonic()
    result = _probe(camera.mjpeg_url, tmp_path, timeout_s=0.5).probe()
    assert (result.status, result.reason) == (Status.DOWN, "timeout"), result
    assert time.monotonic() - started < 1.5
    camera.set_fault("none")
