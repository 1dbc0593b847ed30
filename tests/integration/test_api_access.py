"""Roles and scopes through the real API process: each role sees exactly what it may, no more."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from typing import Any

from contract import topics
from contract.models import DeviceResult, Report
from devstack.processes import Child, free_port, python_module
from devstack.stack import Stack
from tests.integration.conftest import api_get, phu_tho_catalog, publisher, wait_for

A, A2, B = "son-vi-khu-6", "son-vi-khu-7", "phuc-khanh-thon-1"
CATALOG = phu_tho_catalog({"devices": [{"id": "cam-01", "kind": "camera"}]})


def _request(
    stack: Stack,
    method: str,
    path: str,
    token: str | None,
    body: Any = None,
    content_type: str = "application/json",
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = content_type
    request = urllib.request.Request(
        stack.api_url + path, data=data, method=method, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, _decode(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, _decode(exc.read())


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw  # YAML, or an empty body


def _ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _login(stack: Stack, username: str, password: str) -> str:
    form = urllib.parse.urlencode({"username": username, "password": password}).encode()
    status, body = _request(
        stack, "POST", "/auth/token", None, form, "application/x-www-form-urlencoded"
    )
    assert status == 200, body
    return str(body["access_token"])


def _user(stack: Stack, username: str, role: str, *scope: str) -> str:
    password = f"mật-khẩu-{username}-42"
    stack.api_cli(
        "create-user", username, "--role", role, *scope, "--password-stdin", stdin=password + "\n"
    )
    return _login(stack, username, password)


def test_each_role_sees_its_scope_and_nothing_more(stack: Stack) -> None:
    stack.load_catalog(CATALOG)
    admin = stack.api_token
    auditor = _user(stack, "kiem-dinh", "auditor")
    tech = _user(stack, "ktv-son-vi", "technician", "--commune", "son-vi")
    leader = _user(stack, "truong-khu-6", "leader", "--area", A)

    def ids(token: str) -> list[str]:
        status, body = _request(stack, "GET", "/areas", token)
        assert status == 200
        return [a["id"] for a in body]

    assert ids(admin) == ids(auditor) == sorted([A, A2, B])
    assert ids(tech) == [A, A2]
    assert ids(leader) == [A]

    reads = ["/areas/{}", "/areas/{}/status", "/areas/{}/maintenance"]
    for token, visible in (
        (leader, {A}),
        (tech, {A, A2}),
        (auditor, {A, A2, B}),
        (admin, {A, A2, B}),
    ):
        for template in reads:
            for area in (A, A2, B):
                status, _ = _request(stack, "GET", template.format(area), token)
                assert status == (200 if area in visible else 404), (template, area, status)

    window = {
        "starts_local": "2026-12-06T06:00",
        "ends_local": "2026-12-06T08:00",
        "reason": "Thay camera cổng chợ",
    }
    assert _request(stack, "POST", f"/areas/{A}/maintenance", leader, window)[0] == 403
    assert _request(stack, "POST", f"/areas/{A}/maintenance", auditor, window)[0] == 403
    assert _request(stack, "POST", f"/areas/{B}/maintenance", tech, window)[0] == 404
    status, planned = _request(stack, "POST", f"/areas/{A}/maintenance", tech, window)
    assert status == 201 and planned["created_by"] == "ktv-son-vi"

    for token, allowed in ((leader, False), (tech, False), (auditor, True), (admin, True)):
        assert _request(stack, "GET", "/catalog", token)[0] == (200 if allowed else 403)
        assert _request(stack, "GET", "/audit", token)[0] == (200 if allowed else 403)
    catalog_file = CATALOG.encode()
    assert _request(stack, "POST", "/catalog", auditor, catalog_file, "application/yaml")[0] == 403
    rename = {"name": "Khu 6 (mới)", "reason": "đổi tên theo quyết định"}
    assert _request(stack, "PATCH", f"/areas/{A}", tech, rename)[0] == 403
    assert _request(stack, "PATCH", f"/areas/{A}", admin, rename)[0] == 200

    # Every write is in the audit log with who and what.
    status, entries = _request(stack, "GET", "/audit", auditor)
    actions = {(e["actor"], e["action"]) for e in entries}
    assert ("ktv-son-vi", "maintenance.plan") in actions
    assert ("devstack-admin", "area.update") in actions
    assert any(a == "catalog.import" for _, a in actions)
    assert any(a == "user.create" and e.startswith("cli:") for e, a in actions)


def test_no_token_wrong_token_and_logout(stack: Stack) -> None:
    stack.load_catalog(CATALOG)
    for path in ("/areas", f"/areas/{A}/status", "/audit", "/catalog", "/auth/me"):
        assert _request(stack, "GET", path, None)[0] == 401, path
        assert _request(stack, "GET", path, "not-a-token")[0] == 401, path
    leader = _user(stack, "truong-khu-6", "leader", "--area", A)
    status, me = _request(stack, "GET", "/auth/me", leader)
    assert (status, me["role"], me["areas"]) == (200, "leader", [A])
    assert _request(stack, "POST", "/auth/logout", leader)[0] == 204
    assert _request(stack, "GET", "/auth/me", leader)[0] == 401
    assert api_get(stack, "/healthz", token=None)[0] == 200

    # Password guessing: five failures are free, the sixth locks the name, and then even the
    # right password waits; a name that does not exist behaves the same; others are unaffected.
    # The guesses alternate between two API workers on one catalog: they count together.
    port = free_port()
    second = Child(
        "api-2",
        python_module("api"),
        stack.workdir / "api-2.log",
        env=stack.env("api") | {"SMARTAREA_API_PORT": str(port)},
    ).start()
    second_url = f"http://127.0.0.1:{port}"
    second.wait_ready(lambda: _ok(second_url + "/healthz"), timeout=30)
    guesses = 0

    def attempt(username: str, password: str) -> tuple[int, Any, dict[str, str]]:
        nonlocal guesses
        guesses += 1
        form = urllib.parse.urlencode({"username": username, "password": password}).encode()
        request = urllib.request.Request(
            (second_url if guesses % 2 else stack.api_url) + "/auth/token",
            data=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                headers = response.headers
                return (
                    response.status,
                    _decode(response.read()),
                    {k.lower(): v for k, v in headers.items()},
                )
        except urllib.error.HTTPError as exc:
            return exc.code, _decode(exc.read()), {k.lower(): v for k, v in exc.headers.items()}

    for username in ("truong-khu-6", "không-có-ai"):
        assert [attempt(username, "sai")[0] for _ in range(6)] == [401] * 6
        status, body, headers = attempt(username, "mật-khẩu-truong-khu-6-42")
        assert status == 429, body
        assert 0 < int(headers["retry-after"]) <= 30
        assert f"sau {headers['retry-after']} giây" in body["detail"]
    second.stop()
    _user(stack, "kiem-dinh", "auditor")  # logs in at once


def test_roll_ups_count_only_what_the_caller_may_see(stack: Stack) -> None:
    stack.load_catalog(CATALOG)
    report = Report(
        area_id=A,
        agent_id="nvh",
        seq=1,
        observed_at=datetime.now(UTC),
        interval_s=60,
        results=[
            DeviceResult(
                device_id="uplink", kind="uplink", status="down", reason="timeout", duration_ms=3.0
            )
        ],
    )
    with publisher(stack.mosquitto.port) as publish:
        publish(topics.report_topic(A, "nvh"), report.to_json())
    leader = _user(stack, "truong-khu-6", "leader", "--area", A)

    def province(token: str) -> dict[str, Any]:
        status, body = _request(stack, "GET", "/provinces/phu-tho/status", token)
        assert status == 200, body
        return dict(body)

    wait_for(lambda: province(stack.api_token)["counts"]["down"] == 1, "the report to be stored")
    everything = province(stack.api_token)
    # cam-01 is in the catalog but never reported: unknown, never up or down.
    assert everything["counts"] == {"up": 0, "degraded": 0, "down": 1, "unknown": 1}
    assert set(everything["areas_silent"]) == {A2, B}
    mine = province(leader)
    assert [a["area_id"] for a in mine["areas"]] == [A] and mine["areas_silent"] == []
    assert _request(stack, "GET", "/communes/phuc-khanh/status", leader)[0] == 404
    assert _request(stack, "GET", "/communes/son-vi/status", leader)[0] == 404  # areas only
