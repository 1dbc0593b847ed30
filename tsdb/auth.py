"""Credentials for InfluxDB's HTTP API, as request headers."""

from __future__ import annotations

import urllib3


def auth_headers(username: str | None, password: str | None, token: str | None) -> dict[str, str]:
    """A 2.x token (accepted by its v1 /write and /query endpoints), else 1.x user and password."""
    if token is not None:
        return {"Authorization": f"Token {token}"}
    if username is not None and password is not None:
        return dict(urllib3.util.make_headers(basic_auth=f"{username}:{password}"))
    return {}
