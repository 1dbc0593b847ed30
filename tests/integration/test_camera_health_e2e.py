"""Every picture fault, driven through the camera simulator, reaches InfluxDB and the API with the
right status and reason: camera (Digest login) → agent → Mosquitto → ingest → InfluxDB → API."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.camsim import CameraFleet
from devstack.processes import Child, child_env, python_module
from devstack.stack import Stack
from edge.camera.reference import reference_path
from tests.clock import midday_zone
from tests.integration.conftest import api_get, catalog_yaml, wait_for

AREA = "son-vi-khu-6"
PASSWORD = "Mật-khẩu-Dahua-41d0"


@pytest.fixture
def cameras() -> Iterator[CameraFleet]:
    with CameraFleet(["cam-01", "cam-02"]) as fleet:
        fleet["cam-01"].credentials = ("admin", PASSWORD)
        yield fleet


def _config(tmp_path: Path, stack: Stack, cameras: CameraFleet) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(
        f"""
area_id = "{AREA}"
agent_id = "nvh"
interval_s = 1
timezone = "{midday_zone()}"

[broker]
host = "127.0.0.1"
port = {stack.mosquitto.port}
tls = false

[[devices]]
id = "Cổng chợ"
type = "camera_snapshot"
url = "{cameras["cam-01"].snapshot_url}"
timeout_s = 0.5
auth = {{ username = "admin", password_env = "CAM_PASSWORD" }}
reference_dir = "{tmp_path / "references"}"
confirm_after = 2
clear_after = 1

[[devices]]
id = "cam-02"
type = "camera_snapshot"
url = "{cameras["cam-02"].snapshot_url}"
timeout_s = 0.5
reference_dir = "{tmp_path / "references"}"
""",
        encoding="utf-8",
    )
    return path


def _device(stack: Stack, device_id: str) -> dict[str, Any]:
    status, body = api_get(stack, f"/areas/{AREA}/status")
    if status != 200:
        return {}
    return next((d for d in body["devices"] if d["device_id"] == device_id), {})


def _shows(stack: Stack, state: str, reason: str | None) -> bool:
    device = _device(stack, "Cổng chợ")
    return device.get("state") == state and device.get("reason") == reason


def _showing(stack: Stack, state: str, reason: str) -> Callable[[], bool]:
    return lambda: _shows(stack, state, reason)


def test_each_picture_fault_reaches_the_api(
    stack: Stack, cameras: CameraFleet, tmp_path: Path
) -> None:
    stack.load_catalog(catalog_yaml(AREA, [("Cổng chợ", "camera"), ("cam-02", "camera")]))
    agent = Child(
        "agent",
        python_module(
            "edge", "run", str(_config(tmp_path, stack, cameras)), "--log-level", "DEBUG"
        ),
        tmp_path / "agent.log",
        env=child_env({"CAM_PASSWORD": PASSWORD}),
    ).start()
    camera = cameras["cam-01"]
    try:
        wait_for(lambda: _shows(stack, "up", None), "the camera up with a clean picture")
        assert reference_path(tmp_path / "references", "Cổng chợ").exists()
        assert _device(stack, "Cổng chợ")["metrics"]["image"] == "ok"
        for fault, state in [
            ("covered", "down"),
            ("moved", "degraded"),
            ("blurred", "degraded"),
            ("black", "down"),
            ("frozen", "down"),
        ]:
            camera.set_fault(fault)
            wait_for(_showing(stack, state, fault), f"{fault} reported {state}")
            metrics = _device(stack, "Cổng chợ")["metrics"]
            assert metrics["image_state"] == fault and metrics["grade"] == "unusable", metrics
            camera.set_fault("none")
            wait_for(lambda: _shows(stack, "up", None), f"recovery from {fault}")
        camera.set_fault("dark")
        wait_for(lambda: _shows(stack, "up", "dark"), "a dark picture by day: a warning, still up")
        assert _device(stack, "cam-02")["state"] == "up"
    finally:
        agent.signal(signal.SIGTERM)
        assert agent.stop() == 0, agent.log_tail()

    stored = str(stack.influxdb.query('SELECT "image_state" FROM "camera"'))
    assert "covered" in stored and "frozen" in stored
    everything = [
        (tmp_path / "agent.log").read_text(errors="replace"),
        stack.ingest.log_tail(10_000) if stack.ingest else "",
        str(stack.influxdb.query("SELECT * FROM /.*/")),
        str(api_get(stack, f"/areas/{AREA}/status")[1]),
    ]
    assert "DEBUG" in everything[0]
    for text in everything:
        assert PASSWORD not in text


@pytest.fixture
def rtsp_camera() -> Iterator[CameraFleet]:
    with CameraFleet(["cam-rtsp"], rtsp=True) as fleet:
        fleet["cam-rtsp"].credentials = ("admin", PASSWORD)
        yield fleet


def test_rtsp_camera_faults_reach_the_api(
    stack: Stack, rtsp_camera: CameraFleet, tmp_path: Path
) -> None:
    camera = rtsp_camera["cam-rtsp"]
    stack.load_catalog(catalog_yaml(AREA, [("Cổng chợ", "camera")]))
    config = tmp_path / "agent.toml"
    config.write_text(
        f"""
area_id = "{AREA}"
agent_id = "nvh"
interval_s = 3

[broker]
host = "127.0.0.1"
port = {stack.mosquitto.port}
tls = false

[[devices]]
id = "Cổng chợ"
type = "camera_rtsp"
url = "{camera.rtsp_url}"
timeout_s = 1
sample_s = 0.5
auth = {{ username = "admin", password_env = "CAM_PASSWORD" }}
reference_dir = "{tmp_path / "references"}"
confirm_after = 1
clear_after = 1
""",
        encoding="utf-8",
    )
    agent = Child(
        "agent",
        python_module("edge", "run", str(config), "--log-level", "DEBUG"),
        tmp_path / "agent.log",
        env=child_env({"CAM_PASSWORD": PASSWORD}),
    ).start()
    try:
        wait_for(lambda: _shows(stack, "up", None), "the RTSP camera up")
        metrics = _device(stack, "Cổng chợ")["metrics"]
        assert metrics["fps"] > 3 and metrics["image"] == "ok", metrics
        camera.set_fault("covered")
        wait_for(_showing(stack, "down", "covered"), "a covered RTSP camera reported down")
        camera.set_fault("stalled")
        wait_for(_showing(stack, "down", "no_frames"), "a stalled stream reported down")
        camera.set_fault("none")
        wait_for(lambda: _shows(stack, "up", None), "the RTSP camera back up")
    finally:
        agent.signal(signal.SIGTERM)
        assert agent.stop() == 0, agent.log_tail()
    log = (tmp_path / "agent.log").read_text(errors="replace")
    assert "probe_timeout" not in log
    for text in [log, str(stack.influxdb.query("SELECT * FROM /.*/"))]:
        assert PASSWORD not in text
