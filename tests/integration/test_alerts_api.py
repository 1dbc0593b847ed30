"""The incident routes through the real API process: who sees and who handles which incidents."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from api.access import Role
from api.accounts import create_user, issue_token
from catalog.db import Catalog, migrate
from catalog.incidents import Incident, IncidentEvent
from catalog.models import Area, AuditEntry, Commune, Province
from devstack.processes import Child, child_env, free_port, port_open, python_module

A, A2, B = "son-vi-khu-6", "son-vi-khu-7", "phuc-khanh-thon-1"
T0 = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)


def _seed(catalog: Catalog) -> dict[str, str]:
    tokens: dict[str, str] = {}
    with catalog.transaction() as session:
        session.add(Province(id="phu-tho", name="Tỉnh Phú Thọ"))
        session.add(Commune(id="son-vi", name="Xã Sơn Vi", province_id="phu-tho"))
        session.add(Commune(id="phuc-khanh", name="Xã Phúc Khánh", province_id="phu-tho"))
        session.add(Area(id=A, name="Khu 6", commune_id="son-vi"))
        session.add(Area(id=A2, name="Khu 7", commune_id="son-vi"))
        session.add(Area(id=B, name="Thôn 1", commune_id="phuc-khanh"))
        session.flush()
        for area, minutes in ((A, 0), (A2, 10), (B, 20)):
            session.add(
                Incident(
                    area_id=area,
                    agent_id="pc",
                    kind="device_down",
                    device_id="cam-01",
                    device_kind="camera",
                    severity="down",
                    reason="timeout",
                    state="open",
                    opened_at=T0 + timedelta(minutes=minutes),
                    events=[IncidentEvent(at=T0, kind="opened", actor="alerts")],
                )
            )
        users: dict[str, tuple[Role, list[str], list[str]]] = {
            "admin": (Role.ADMIN, [], []),
            "auditor": (Role.AUDITOR, [], []),
            "ktv-son-vi": (Role.TECHNICIAN, ["son-vi"], []),
            "truong-khu-6": (Role.LEADER, [], [A]),
        }
        for name, (role, communes, scoped_areas) in users.items():
            create_user(session, "admin", name, role, None, communes, scoped_areas)
            tokens[name] = issue_token(session, "admin", name, "api", timedelta(hours=1))
    return tokens


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[str, dict[str, str], Catalog]]:
    url = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    catalog = Catalog(url)
    migrate(catalog.engine)
    tokens = _seed(catalog)
    port = free_port()
    child = Child(
        "api",
        python_module("api"),
        tmp_path / "api.log",
        env=child_env({"SMARTAREA_DATABASE_URL": url, "SMARTAREA_API_PORT": str(port)}),
    )
    with child:
        child.wait_ready(lambda: port_open(port), timeout=30)
        yield f"http://127.0.0.1:{port}", tokens, catalog
    catalog.close()


def _call(base: str, token: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_each_role_sees_and_handles_what_it_may(
    api: tuple[str, dict[str, str], Catalog],
) -> None:
    base, tokens, catalog = api

    def areas(user: str) -> list[str]:
        code, body = _call(base, tokens[user], "GET", "/incidents")
        assert code == 200, body
        return [i["area_id"] for i in body]

    assert areas("admin") == [B, A2, A], "newest first"
    assert areas("auditor") == [B, A2, A]
    assert areas("ktv-son-vi") == [A2, A]
    assert areas("truong-khu-6") == [A]
    code, body = _call(
        base, tokens["ktv-son-vi"], "GET", "/incidents?commune_id=son-vi&since=2026-11-28T01:05:00Z"
    )
    assert [i["area_id"] for i in body] == [A2]

    b_id = 3
    path_b = f"/areas/{B}/incidents/{b_id}"
    assert _call(base, tokens["ktv-son-vi"], "GET", path_b)[0] == 404, "out of scope = not there"
    assert _call(base, tokens["ktv-son-vi"], "POST", f"{path_b}/acknowledge", {})[0] == 404
    path_a = f"/areas/{A}/incidents/1"
    assert _call(base, tokens["auditor"], "POST", f"{path_a}/acknowledge", {})[0] == 403
    assert _call(base, tokens["truong-khu-6"], "POST", f"{path_a}/acknowledge", {})[0] == 403
    assert _call(base, tokens["truong-khu-6"], "GET", path_a)[0] == 200, "leaders read"
    assert _call(base, tokens["ktv-son-vi"], "GET", f"/areas/{A2}/incidents/1")[0] == 404

    code, body = _call(
        base, tokens["ktv-son-vi"], "POST", f"{path_a}/resolve", {"note": "Đã thay nguồn"}
    )
    assert code == 200 and body["state"] == "resolved" and body["resolved_by"] == "ktv-son-vi"
    assert _call(base, tokens["ktv-son-vi"], "POST", f"{path_a}/resolve", {})[0] == 409
    assert _call(base, tokens["ktv-son-vi"], "POST", f"{path_a}/notes", {"note": ""})[0] == 422

    with catalog.sessions() as session:
        audit = list(
            session.execute(select(AuditEntry).where(AuditEntry.target == "incident:1")).scalars()
        )
    assert [(e.actor, e.action, e.note) for e in audit] == [
        ("ktv-son-vi", "incident.resolved", "Đã thay nguồn")
    ]
    code, stats = _call(base, tokens["truong-khu-6"], "GET", "/incidents/stats")
    assert code == 200 and stats["incidents"] == 1 and stats["resolved"] == 1
