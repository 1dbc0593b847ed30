"""'Probe now' through the real API, broker, agent, ingest and InfluxDB: who may send it, and a
fresh report on the area's status within seconds although the agent's interval is 5 minutes."""

from __future__ import annotations

import json
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.gateway import GatewayBroker
from devstack.processes import Child, child_env, python_module
from devstack.stack import Stack
from tests.integration.conftest import api_get, phu_tho_catalog, uplink_agent, wait_for
from tests.integration.test_api_access import _request, _user

A, A2, B = "son-vi-khu-6", "son-vi-khu-7", "phuc-khanh-thon-1"
INTERVAL_S = 300
CATALOG = phu_tho_catalog(
    {"agents": ["nvh"], "devices": [{"id": "uplink", "kind": "uplink"}]},
    {"agents": ["nvh"]},
    {"agents": ["nvh"]},
)


def _probe(stack: Stack, token: str, area: str, agent: str = "nvh") -> tuple[int, Any]:
    return _request(stack, "POST", f"/areas/{area}/agents/{agent}/probe", token)


@pytest.fixture
def agent(stack: Stack, tmp_path: Path) -> Iterator[Child]:
    with uplink_agent(tmp_path, A, "nvh", stack.mosquitto.port, INTERVAL_S) as child:
        yield child


def _probe_retry_after(stack: Stack, token: str, area: str) -> tuple[int, str | None, Any]:
    """(status, its Retry-After header, body)."""
    request = urllib.request.Request(
        f"{stack.api_url}/areas/{area}/agents/nvh/probe",
        data=b"",
        method="POST",
        headers={"Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers["Retry-After"], json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Retry-After"], json.loads(exc.read())


def _presence(stack: Stack, token: str) -> tuple[str, str] | None:
    """(state, since) of the agent's last presence on the area status."""
    status, body = api_get(stack, f"/areas/{A}/status", token)
    assert status == 200, body
    agents = body["agents"]
    return (agents[0]["presence"], agents[0]["presence_at"]) if agents else None


def _seq(stack: Stack, token: str) -> int:
    status, body = api_get(stack, f"/areas/{A}/status", token)
    assert status == 200, body
    return int(body["agents"][0]["seq"]) if body["agents"] else -1


def test_probe_now_brings_a_fresh_report_to_the_area_status(
    stack: Stack, agent: Child, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.load_catalog(CATALOG)
    tech = _user(stack, "ktv-son-vi", "technician", "--commune", "son-vi")
    wait_for(lambda: _seq(stack, tech) >= 0, "the agent's first report on the area status")
    first = _seq(stack, tech)

    sent = time.monotonic()
    status, body = _probe(stack, tech, A)
    assert status == 202, body
    assert body["command"] == "probe_now" and body["id"]
    wait_for(lambda: _seq(stack, tech) == first + 1, "the report asked for", timeout=90)
    with capsys.disabled():
        print(f"\nprobe now → report on the area status: {time.monotonic() - sent:.2f} s")

    # Pressed again at once: the agent's turn comes again in 15 s (its PC decodes every camera).
    status, retry_after, refused = _probe_retry_after(stack, tech, A)
    assert status == 429, refused
    assert retry_after is not None and 1 <= int(retry_after) <= 15
    assert f"sau {retry_after} giây" in refused["detail"]

    status, audit = api_get(stack, "/audit")
    assert status == 200, audit
    assert any(
        e["action"] == "agent.probe_now"
        and e["actor"] == "ktv-son-vi"
        and e["target"] == f"agent:{A}/nvh"
        and e["detail"] == {"command_id": body["id"]}
        for e in audit
    ), audit


def test_probe_now_refusals(stack: Stack, tmp_path: Path) -> None:
    stack.load_catalog(CATALOG)
    tech = _user(stack, "ktv-son-vi", "technician", "--commune", "son-vi")
    leader = _user(stack, "truong-khu-6", "leader", "--area", A)
    auditor = _user(stack, "kiem-dinh", "auditor")

    assert _probe(stack, "", A)[0] == 401
    assert _probe(stack, leader, A)[0] == 403  # reads their area, commands nothing
    assert _probe(stack, auditor, A)[0] == 403
    assert _probe(stack, tech, B)[0] == 404  # out of scope looks like no such area
    assert _probe(stack, tech, "no-such-area")[0] == 404
    status, body = _probe(stack, tech, A, "no-such-agent")
    assert status == 404 and "agent" in body["detail"]
    assert _probe(stack, tech, A, "Bad_Id")[0] == 422

    # An agent that never connected would never get the command: said, not a silent 202.
    status, body = _probe(stack, tech, A)
    assert status == 409 and "chưa từng kết nối" in body["detail"], body

    with uplink_agent(tmp_path, A, "nvh", stack.mosquitto.port, INTERVAL_S) as agent:
        wait_for(lambda: (_presence(stack, tech) or ("",))[0] == "online", "the agent online")
        online = _presence(stack, tech)
        # The broker away: a clear 503 in the caller's language, nothing queued for later; a
        # command not sent does not use up the agent's turn. (Killed: a broker that shuts down
        # cleanly sends the agents' Wills first, and the agent is rightly offline.)
        stack.mosquitto.kill()
        status, body = _request_en(stack, tech, f"/areas/{A}/agents/nvh/probe")
        assert status == 503, body
        assert "broker" in body["detail"]
        status, body = _probe(stack, tech, A)
        assert status == 503 and "máy chủ MQTT" in body["detail"], body
        stack.mosquitto.start()
        wait_for(lambda: _probe(stack, tech, A)[0] == 202, "a command once the broker is back")
        wait_for(lambda: _presence(stack, tech) != online, "the agent connected again")
        # A clean stop says "offline": the next command is refused with the time it left.
        agent.signal(signal.SIGTERM)
        assert agent.stop() == 0, agent.log_tail()
        wait_for(lambda: (_presence(stack, tech) or ("",))[0] == "offline", "the agent offline")
        status, body = _request_en(stack, tech, f"/areas/{A}/agents/nvh/probe")
        assert status == 409 and "offline (since 20" in body["detail"], body


def _request_en(stack: Stack, token: str, path: str) -> tuple[int, Any]:
    request = urllib.request.Request(
        stack.api_url + path,
        data=b"",
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_probe_now_through_the_gateway_accounts(tmp_path: Path) -> None:
    """As deployed: the API with its own broker account (may publish commands, nothing else),
    the agent over TLS with its provisioned account (may read only its own commands)."""
    with Stack(tmp_path / "stack", secure=True) as stack:
        assert isinstance(stack.mosquitto, GatewayBroker)
        stack.load_catalog(CATALOG)
        bundle = stack.mosquitto.provision(A, "nvh", tmp_path / "agent")
        config = bundle / "agent.toml"
        text = config.read_text(encoding="utf-8")
        assert "interval_s = 60\n" in text
        config.write_text(text.replace("interval_s = 60\n", f"interval_s = {INTERVAL_S}\n"))
        agent = Child(
            "agent",
            python_module("edge", "run", str(config)),
            tmp_path / "agent.log",
            env=child_env({}),
        ).start()
        try:
            wait_for(lambda: _seq(stack, stack.api_token) >= 0, "the agent's first report")
            first = _seq(stack, stack.api_token)
            status, body = _probe(stack, stack.api_token, A)
            assert status == 202, body
            wait_for(lambda: _seq(stack, stack.api_token) == first + 1, "the report asked for")
        finally:
            agent.signal(signal.SIGTERM)
            assert agent.stop() == 0, agent.log_tail()
