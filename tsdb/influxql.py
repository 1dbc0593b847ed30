"""Reading InfluxDB with InfluxQL over ``/query`` (served by InfluxDB 1.x, 2.x and 3.x).

User input reaches a query only through ``literal()`` and ``identifier()``, which escape it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import urllib3

from tsdb.auth import auth_headers


class QueryError(Exception):
    """InfluxDB did not answer the query (unreachable, or an error status)."""


class QueryRefused(QueryError):
    """InfluxDB answered and refused the statement (a parse error, a function the field's type
    does not support): the query is wrong, the database is not unavailable."""


def literal(value: str) -> str:
    """An InfluxQL string literal: backslashes and single quotes escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def identifier(value: str) -> str:
    """An InfluxQL double-quoted identifier."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _error_text(body: bytes) -> str:
    try:
        return str(json.loads(body)["error"])[:300]
    except (ValueError, KeyError, TypeError):
        return body[:300].decode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    tags: dict[str, str]
    rows: list[dict[str, Any]] = field(default_factory=list)


class InfluxQL:
    def __init__(
        self,
        url: str,
        database: str,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        timeout_s: float = 30,
    ) -> None:
        self._url = url.rstrip("/")
        self._database = database
        self._headers = auth_headers(username, password, token)
        self._pool = urllib3.PoolManager(
            maxsize=8, timeout=urllib3.Timeout(connect=3, read=timeout_s), retries=False
        )

    def ping(self) -> bool:
        try:
            return self._pool.request("GET", f"{self._url}/ping", timeout=2).status == 204
        except urllib3.exceptions.HTTPError:
            return False

    def query(self, q: str) -> list[Series]:
        """Run read statements (several joined by ``;`` go in one request; their series come back
        in order, one list); times come back as epoch milliseconds. Sent as a form body, so a long
        statement (a province's area filter) is never cut by a URL length limit."""
        fields = {"db": self._database, "q": q, "epoch": "ms"}
        try:
            response = self._pool.request(
                "POST",
                f"{self._url}/query",
                fields=fields,
                headers=self._headers,
                encode_multipart=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            raise QueryError(f"InfluxDB unreachable: {type(exc).__name__}") from None
        if response.status == 400:
            raise QueryRefused(f"InfluxQL error: {_error_text(response.data)}")
        if response.status != 200:
            raise QueryError(f"InfluxDB answered {response.status}")
        body = json.loads(response.data)
        out: list[Series] = []
        for result in body.get("results", []):
            if "error" in result:
                raise QueryRefused(f"InfluxQL error: {result['error']}")
            for s in result.get("series", []):
                columns = s["columns"]
                rows = [dict(zip(columns, values, strict=True)) for values in s.get("values", [])]
                out.append(Series(s["name"], s.get("tags", {}), rows))
        return out

    def close(self) -> None:
        self._pool.clear()
