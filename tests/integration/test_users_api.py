"""User accounts through the API: the admin manages them, everyone changes their own password,
nothing secret comes back, and every change is audited."""

from __future__ import annotations

import json
import urllib.parse

from devstack.stack import Stack
from tests.integration.test_api_access import CATALOG, A, _login, _request

PASSWORD = "Mật-khẩu-kỹ-thuật-viên-3e"


def test_admin_manages_accounts_and_users_change_their_password(stack: Stack) -> None:
    stack.load_catalog(CATALOG)
    admin = stack.api_token
    new = {
        "username": "ktv-phúc-khánh",
        "display_name": "Kỹ thuật viên Phúc Khánh",
        "role": "technician",
        "password": PASSWORD,
        "communes": ["son-vi"],
    }
    status, created = _request(stack, "POST", "/users", admin, new)
    assert status == 201, created
    assert created["communes"] == ["son-vi"] and created["display_name"] == new["display_name"]
    # Refused, each with its reason: a duplicate, a short password, a scope the role cannot have.
    assert _request(stack, "POST", "/users", admin, new)[0] == 409
    short = {**new, "username": "ngan", "password": "ngắn"}
    assert "ít nhất 10 ký tự" in _request(stack, "POST", "/users", admin, short)[1]["detail"]
    unscoped = {**new, "username": "truong-khu", "role": "leader", "communes": []}
    assert _request(stack, "POST", "/users", admin, unscoped)[0] == 422
    unknown = {**new, "username": "ktv-2", "communes": ["khong-co"]}
    assert (
        "Không có xã/phường 'khong-co'"
        in _request(stack, "POST", "/users", admin, unknown)[1]["detail"]
    )

    status, users = _request(stack, "GET", "/users", admin)
    assert status == 200 and "ktv-phúc-khánh" in [u["username"] for u in users]
    assert "scrypt" not in json.dumps(users) and "password" not in json.dumps(users)

    tech = _login(stack, "ktv-phúc-khánh", PASSWORD)
    assert _request(stack, "GET", "/users", tech)[0] == 403
    path = "/users/" + urllib.parse.quote("ktv-phúc-khánh")
    assert _request(stack, "PATCH", path, tech, {"role": "admin"})[0] == 403

    # Narrowed to one area: the same token sees only that area from now on.
    status, changed = _request(stack, "PATCH", path, admin, {"communes": [], "areas": [A]})
    assert (status, changed["communes"], changed["areas"]) == (200, [], [A]), changed
    assert [a["id"] for a in _request(stack, "GET", "/areas", tech)[1]] == [A]
    # Nobody demotes or deactivates themselves.
    assert _request(stack, "PATCH", "/users/devstack-admin", admin, {"active": False})[0] == 422

    # A password change needs the current one and ends the user's login sessions.
    wrong = {"current_password": "không-phải", "new_password": "Mật-khẩu-mới-dài-hơn"}
    assert _request(stack, "POST", "/auth/password", tech, wrong)[0] == 403
    right = {"current_password": PASSWORD, "new_password": "Mật-khẩu-mới-dài-hơn"}
    assert _request(stack, "POST", "/auth/password", tech, right)[0] == 204
    assert _request(stack, "GET", "/auth/me", tech)[0] == 401
    tech = _login(stack, "ktv-phúc-khánh", "Mật-khẩu-mới-dài-hơn")

    # Deactivated: the token dies at once.
    assert _request(stack, "PATCH", path, admin, {"active": False})[1]["active"] is False
    assert _request(stack, "GET", "/auth/me", tech)[0] == 401

    status, entries = _request(stack, "GET", "/audit", admin)
    mine = [e for e in entries if e["target"] == "user:ktv-phúc-khánh"]
    assert [e["action"] for e in reversed(mine)] == [
        "user.create",
        "user.update",
        "user.password",
        "user.update",
    ]
    assert "Mật-khẩu" not in json.dumps(entries)
