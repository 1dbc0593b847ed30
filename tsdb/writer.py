"""Writing line protocol to InfluxDB, with errors classified at this boundary.

``InfluxV1Writer`` speaks the v1 ``POST /write`` over a keep-alive connection pool: InfluxDB 1.x,
and 2.x through its v1-compatible endpoint (a bucket is a database there, with a token). Every
failure becomes one of two exceptions, and the caller decides from the class alone:
``Retryable`` (server down, 5xx, 429, timeout: keep the messages, retry later, honour Retry-After)
or ``Rejected`` (4xx: these points will never be accepted: dead-letter them).
"""

from __future__ import annotations

import urllib.parse
from typing import Protocol

import urllib3

from tsdb.auth import auth_headers


class WriteError(Exception):
    pass


class Retryable(WriteError):
    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Rejected(WriteError):
    """InfluxDB refused the points themselves (400, 413 after splitting, …)."""


class Writer(Protocol):
    def write(self, lines: list[str]) -> None: ...

    def close(self) -> None: ...


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


class InfluxV1Writer:
    def __init__(
        self,
        url: str,
        database: str,
        retention_policy: str | None = None,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        params = {"db": database, "precision": "ns"}
        if retention_policy:
            params["rp"] = retention_policy
        self._url = f"{url.rstrip('/')}/write?{urllib.parse.urlencode(params)}"
        self._headers = {"Content-Type": "text/plain; charset=utf-8"}
        self._headers.update(auth_headers(username, password, token))
        self._pool = urllib3.PoolManager(
            num_pools=1,
            maxsize=4,
            timeout=urllib3.Timeout(connect=3.0, read=timeout_s),
            retries=False,
        )

    def write(self, lines: list[str]) -> None:
        if not lines:
            return
        body = "\n".join(lines).encode("utf-8")
        try:
            response = self._pool.request("POST", self._url, body=body, headers=self._headers)
        except urllib3.exceptions.HTTPError as exc:
            raise Retryable(f"InfluxDB unreachable: {type(exc).__name__}") from None
        if response.status == 204:
            return
        text = response.data.decode("utf-8", "replace")[:300]
        if response.status == 429 or response.status >= 500:
            retry_after = _retry_after(response.headers.get("Retry-After"))
            raise Retryable(f"InfluxDB answered {response.status}: {text}", retry_after)
        raise Rejected(f"InfluxDB refused the points ({response.status}): {text}")

    def close(self) -> None:
        self._pool.clear()
