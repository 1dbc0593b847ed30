"""Writing line protocol to InfluxDB, with errors classified at this boundary.

Two endpoints, one interface (``Writer``): ``InfluxV1Writer`` speaks the v1 ``POST /write`` over a
keep-alive connection pool (InfluxDB 1.x, and 2.x through its v1-compatible endpoint);
``tsdb.writer_v2.InfluxV2Writer`` goes through ``influxdb-client``'s WriteApi (``/api/v2/write``:
InfluxDB 2.x, 3.x, Cloud). Every failure becomes one of these exceptions, and the caller decides
from the class alone:

- ``Retryable``: server down, 5xx, 429, timeout. Keep the messages, retry later, honour
  ``retry_after_s`` (from ``Retry-After``). ``Misconfigured`` (401, 403, 404) is retryable too: a
  wrong token or a missing database is not the points' fault, and dropping a country's data
  because of it would be worse than waiting for the operator.
- ``TooLarge`` (413): split the batch and write the halves.
- ``Rejected`` (other 4xx): these points will never be accepted: dead-letter them.
"""

from __future__ import annotations

import email.utils
import time
import urllib.parse
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Protocol

import urllib3

from tsdb.auth import auth_headers
from tsdb.influxql import identifier, literal

MAX_ERROR_TEXT = 300


class WriteError(Exception):
    pass


class Retryable(WriteError):
    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Misconfigured(Retryable):
    """401/403/404: credentials or database/bucket wrong. Retried, and worth an operator's look."""


class TooLarge(WriteError):
    """413: the request body is over the server's limit; write the batch in smaller parts."""


class Rejected(WriteError):
    """InfluxDB refused the points themselves (400 bad line, field type conflict, …)."""


class Writer(Protocol):
    def write(self, lines: list[str]) -> None:
        """Write the lines in one request, or raise one of the classes above."""
        ...

    def erase(self, measurements: set[str], tags: dict[str, str], time_ns: int) -> None:
        """Delete the points of ``measurements`` with these tags at exactly this time: what a
        partly refused message did store (InfluxDB keeps the other lines of a refused write)."""
        ...

    def close(self) -> None: ...


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` in seconds: a number of seconds or an HTTP date; None if absent or junk."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.now(UTC).timestamp() if now is None else now
    return max(0.0, when.timestamp() - current)


def classify(status: int, headers: Mapping[str, str] | None, text: str) -> WriteError | None:
    """The error for one HTTP answer of a write endpoint (None for success)."""
    if 200 <= status < 300:
        return None
    text = text[:MAX_ERROR_TEXT]
    if status == 429 or status >= 500:
        after = retry_after(headers.get("Retry-After") if headers else None)
        return Retryable(f"InfluxDB answered {status}: {text}", after)
    if status == 413:
        return TooLarge(f"InfluxDB refused the request size (413): {text}")
    if status in (401, 403, 404):
        return Misconfigured(f"InfluxDB answered {status} (check credentials and database): {text}")
    return Rejected(f"InfluxDB refused the points ({status}): {text}")


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
        self._query_url = f"{url.rstrip('/')}/query"
        self._database = database
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
        error = classify(*self._post("\n".join(lines).encode("utf-8")))
        if error is not None:
            raise error

    def _post(self, body: bytes) -> tuple[int, dict[str, str], str]:
        """One request; the response is read and released here, so that no exception raised
        later keeps it (and its socket) alive."""
        started = time.monotonic()
        try:
            response = self._pool.request(
                "POST", self._url, body=body, headers=self._headers, preload_content=False
            )
            try:
                text = response.read().decode("utf-8", "replace")
            finally:
                response.release_conn()  # back to the pool (keep-alive), whatever the status
        except urllib3.exceptions.HTTPError as exc:
            took = time.monotonic() - started
            raise Retryable(
                f"InfluxDB unreachable after {took:.1f} s: {type(exc).__name__}"
            ) from None
        return response.status, dict(response.headers), text

    def erase(self, measurements: set[str], tags: dict[str, str], time_ns: int) -> None:
        where = " AND ".join(
            [
                *(f"{identifier(k)} = {literal(v)}" for k, v in sorted(tags.items())),
                f"time = {time_ns}",
            ]
        )
        statements = ";".join(
            f"DELETE FROM {identifier(m)} WHERE {where}"  # noqa: S608 - escaped identifiers, literals
            for m in sorted(measurements)
        )
        try:
            response = self._pool.request(
                "POST",
                self._query_url,
                fields={"db": self._database, "q": statements},
                headers={k: v for k, v in self._headers.items() if k != "Content-Type"},
                encode_multipart=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            raise Retryable(f"InfluxDB unreachable: {type(exc).__name__}") from None
        if response.status != 200 or b'"error"' in response.data:
            text = response.data.decode("utf-8", "replace")[:MAX_ERROR_TEXT]
            raise Retryable(f"InfluxDB did not delete ({response.status}): {text}")

    def close(self) -> None:
        self._pool.clear()
