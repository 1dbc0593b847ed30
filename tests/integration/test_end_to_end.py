"""The whole path, every part a real process: simulated cameras → agent → Mosquitto → ingest →
InfluxDB → API. What a user relies on is asserted through the API."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.camsim import CameraFleet
from devstack.processes import Child, child_env, python_module
from devstack.stack import Stack
from tests.integration.conftest import api_get, catalog_yaml, wait_for

AREA = "son-vi-khu-6"
CAMERA_PASSWORD = "Mật-khẩu-camera-9f3b"


@pytest.fixture
def cameras() -> Iterator[CameraFleet]:
    with CameraFleet(["cam-01", "cam-02"]) as fleet:
        yield fleet


def _agent_config(tmp_path: Path, stack: Stack, cameras: CameraFleet) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(
        f"""
area_id = "{AREA}"
agent_id = "nvh"
interval_s = 2

[broker]
host = "127.0.0.1"
port = {stack.mosquitto.port}
tls = false

[[devices]]
id = "cam-01"
type = "camera_snapshot"
url = "{cameras["cam-01"].snapshot_url}"
timeout_s = 1
auth = {{ username = "admin", password_env = "CAM_PASSWORD" }}

[[devices]]
id = "Cổng chợ"
type = "camera_snapshot"
url = "{cameras["cam-02"].snapshot_url}"
timeout_s = 1

[[devices]]
id = "uplink"
type = "tcp_link"
targets = ["127.0.0.1:{stack.mosquitto.port}", "127.0.0.1:{stack.influxdb.port}"]
timeout_s = 1
""",
        encoding="utf-8",
    )
    return path


def _devices(stack: Stack) -> dict[str, dict[str, Any]]:
    status, body = api_get(stack, f"/areas/{AREA}/status")
    return {d["device_id"]: d for d in body["devices"]} if status == 200 else {}


def _state(stack: Stack, device: str) -> str | None:
    return _devices(stack).get(device, {}).get("state")


def test_camera_up_then_down_then_up_and_the_link_rtt(
    stack: Stack, cameras: CameraFleet, tmp_path: Path
) -> None:
    stack.load_catalog(
        catalog_yaml(AREA, [("cam-01", "camera"), ("Cổng chợ", "camera"), ("uplink", "uplink")])
    )
    config = _agent_config(tmp_path, stack, cameras)
    agent = Child(
        "agent",
        python_module("edge", "run", str(config), "--log-level", "DEBUG"),
        tmp_path / "agent.log",
        env=child_env({"CAM_PASSWORD": CAMERA_PASSWORD}),
    ).start()
    try:
        wait_for(
            lambda: {d["state"] for d in _devices(stack).values()} == {"up"},
            "all three devices to be seen up through the API",
        )
        devices = _devices(stack)
        assert {d["state"] for d in devices.values()} == {"up"}, devices
        assert devices["cam-01"]["metrics"]["width_px"] == 768
        assert devices["Cổng chợ"]["kind"] == "camera"
        rtt = devices["uplink"]["metrics"]["rtt_ms"]
        assert 0 < rtt < 500, rtt
        assert devices["uplink"]["metrics"]["targets_up"] == 2
        assert cameras["cam-01"].snapshots_served > 0

        cameras["cam-01"].set_fault("offline")
        wait_for(lambda: _state(stack, "cam-01") == "down", "cam-01 to be reported down")
        devices = _devices(stack)
        assert devices["cam-01"]["reason"] == "refused"
        assert devices["Cổng chợ"]["state"] == "up"

        cameras["cam-01"].set_fault("none")
        wait_for(lambda: _state(stack, "cam-01") == "up", "cam-01 to recover")

        _, body = api_get(stack, f"/areas/{AREA}/status")
        seen = body["agents"][0]
        assert (seen["agent_id"], seen["stale"], seen["presence"]) == ("nvh", False, "online")
        assert body["counts"] == {"up": 3, "degraded": 0, "down": 0, "unknown": 0}
    finally:
        agent.signal(signal.SIGTERM)
        assert agent.stop() == 0, agent.log_tail()

    # A graceful stop says "offline" itself; presence is stored with the agent's time.
    def last_presence() -> str | None:
        result = stack.influxdb.query('SELECT last("state") FROM "agent_presence"')
        series = result["results"][0].get("series")  # type: ignore[index]
        return series[0]["values"][0][1] if series else None

    wait_for(lambda: last_presence() == "offline", "the agent's offline presence")

    # The camera password never left the agent: not in its log, not in what was stored or served.
    everything = [
        (tmp_path / "agent.log").read_text(errors="replace"),
        stack.ingest.log_tail(10_000) if stack.ingest else "",
        str(stack.influxdb.query("SELECT * FROM /.*/")),
        str(api_get(stack, f"/areas/{AREA}/status")[1]),
    ]
    assert "DEBUG" in everything[0]
    for text in everything:
        assert CAMERA_PASSWORD not in text


def test_api_refuses_callers_without_the_token_in_their_language(stack: Stack) -> None:
    stack.load_catalog(catalog_yaml(AREA, [("cam-01", "camera")]))
    status, body = api_get(stack, f"/areas/{AREA}/status", token=None)
    assert status == 401
    assert "Cần đăng nhập" in body["detail"]
    status, body = api_get(
        stack, f"/areas/{AREA}/status", token="wrong-token-wrong-token", language="en"
    )
    assert status == 401
    assert body["detail"].startswith("Authentication required")
    status, body = api_get(stack, "/areas/khu-chua-co/status")
    assert status == 404
    assert "Không tìm thấy khu dân cư" in body["detail"]
    status, body = api_get(stack, f"/areas/{AREA}/status")
    assert status == 200 and body["name"] == "Khu 6"
    assert [(d["device_id"], d["state"]) for d in body["devices"]] == [("cam-01", "unknown")]
    status, body = api_get(stack, "/healthz", token=None)
    assert (status, body) == (200, {"status": "ok", "influxdb": "ok"})


def test_openapi_is_served_for_docs(stack: Stack) -> None:
    status, schema = api_get(stack, "/openapi.json", token=None)
    assert status == 200
    assert "/areas/{area_id}/status" in schema["paths"]
