"""Database errors as HTTP answers, in one place: routes let them rise.

- the catalog refused a write (``IntegrityError``: an entry with the same key was written
  meanwhile, or one it refers to is gone): 409, the request may succeed once reloaded;
- the catalog is busy or away (``OperationalError``: SQLite locked past its busy timeout, the
  PostgreSQL server unreachable; or no pooled connection free in time): 503 with Retry-After;
- InfluxDB did not answer a query (``QueryError``): 503 with Retry-After.

A route that can say more (``SetConflict``: "raise the version"; a user name taken; InfluxDB
refusing the query itself, ``QueryRefused`` in the series route) catches its own case first. The
database's own message is logged, never sent: it can quote the row.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from api.access import Problem
from api.i18n import text
from tsdb.influxql import QueryError

logger = logging.getLogger(__name__)

RETRY_AFTER_S = 5  # SQLite already waited its busy timeout (5 s) before giving up

Handler = Callable[[Request, Exception], Awaitable[Response]]


def _answer(request: Request, code: int, key: str, retry: bool) -> JSONResponse:
    headers = {"Retry-After": str(RETRY_AFTER_S)} if retry else None
    detail = text(key, request.headers.get("accept-language"))
    return JSONResponse({"detail": detail}, code, headers=headers)


def _reason(exc: Exception) -> object:
    """The driver's own message ("UNIQUE constraint failed: …", "database is locked"), without
    SQLAlchemy's statement and parameters (a password hash, say)."""
    return getattr(exc, "orig", None) or exc


async def _conflict(request: Request, exc: Exception) -> Response:
    logger.warning(
        "%s %s: the catalog refused the write: %.300s",
        request.method,
        request.url.path,
        _reason(exc),
    )
    return _answer(request, status.HTTP_409_CONFLICT, "catalog_conflict", retry=False)


async def _catalog_unavailable(request: Request, exc: Exception) -> Response:
    logger.warning(
        "%s %s: the catalog is unavailable: %.300s", request.method, request.url.path, _reason(exc)
    )
    return _answer(request, status.HTTP_503_SERVICE_UNAVAILABLE, "catalog_unavailable", retry=True)


async def _influx_unavailable(request: Request, exc: Exception) -> Response:
    logger.warning("%s %s: %.300s", request.method, request.url.path, exc)
    return _answer(request, status.HTTP_503_SERVICE_UNAVAILABLE, "database_unavailable", retry=True)


HANDLERS: dict[type[Exception], Handler] = {
    IntegrityError: _conflict,
    OperationalError: _catalog_unavailable,
    PoolTimeout: _catalog_unavailable,
    QueryError: _influx_unavailable,
}

# Declared on the routes whose writes two requests can race (two imports creating the same area);
# routes that say more about their own 409 (a user name taken) declare it themselves.
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {
        "model": Problem,
        "description": "The write conflicts with the catalog's content (changed meanwhile by "
        "another request): reload and try again",
    },
}
# Declared on every route but /healthz (api.main): each reads the catalog, or InfluxDB.
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {
        "model": Problem,
        "description": "A database is busy or unreachable: retry after Retry-After seconds",
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}},
    },
}
