"""Database errors answer as HTTP says, whichever route meets them (api.errors): the app in
process, on a real migrated SQLite catalog; InfluxDB away (nothing listens on its port)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select

from api.access import Role
from api.accounts import create_user, issue_token
from api.catalogfile import import_catalog
from api.criteria.service import store_set
from api.main import create_app
from api.settings import ApiSettings
from catalog.criteria import CriteriaSet, Declaration
from catalog.db import Catalog, migrate
from devstack.processes import free_port

AREA = "son-vi-khu-6"
SET = (Path(__file__).parents[2] / "api/criteria/builtin/qd318-tieu-chi-8.yaml").read_bytes()
CATALOG = f"""
version: 1
provinces:
  - id: phu-tho
    name: Tỉnh Phú Thọ
    communes:
      - id: son-vi
        name: Xã Sơn Vi
        areas:
          - id: {AREA}
            name: Khu 6
            agents: [nvh]
            devices: [{{id: uplink, kind: uplink}}]
""".encode()
DECLARATION = {
    "figure": "households",
    "value": 212,
    "source_document": "Biên bản rà soát",
    "document_date": "2026-01-05",
    "valid_from": "2026-01-01",
    "valid_to": "2026-12-31",
}
Call = tuple[str, str, dict[str, Any]]  # method, path, httpx keyword arguments


@dataclass(frozen=True)
class Seeded:
    """A migrated catalog with one area and the administrator ``quan-tri``, logged in."""

    url: str
    token: str

    def count(self, table: type[Any]) -> int:
        catalog = Catalog(self.url)
        with catalog.transaction() as session:
            found = session.scalar(select(func.count()).select_from(table))
        catalog.close()
        return found or 0

    def send(
        self, calls: list[Call], hook: Callable[..., None] | None = None
    ) -> list[httpx.Response]:
        """Start the app (its lifespan too), send ``calls`` in turn as the administrator, stop
        it. ``hook`` listens to the app's catalog engine's ``before_cursor_execute``."""
        settings = ApiSettings(database_url=self.url, influx_url=f"http://127.0.0.1:{free_port()}")
        app = create_app(settings)
        auth = {"Authorization": f"Bearer {self.token}"}

        async def run() -> list[httpx.Response]:
            async with app.router.lifespan_context(app):
                if hook is not None:
                    event.listen(app.state.catalog.engine, "before_cursor_execute", hook)
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as c:
                    return [
                        await c.request(method, path, headers=auth | kw.pop("headers", {}), **kw)
                        for method, path, kw in calls
                    ]

        return asyncio.run(run())


@pytest.fixture
def seeded(tmp_path: Path) -> Seeded:
    url = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    catalog = Catalog(url)
    migrate(catalog.engine)
    with catalog.transaction() as session:
        import_catalog(session, CATALOG, "test")
        create_user(session, "test", "quan-tri", Role.ADMIN, None)
        token = issue_token(session, "test", "quan-tri", "session", timedelta(hours=1))
    catalog.close()
    return Seeded(url, token)


def test_a_criteria_set_another_admin_loaded_meanwhile_answers_409_not_500(
    seeded: Seeded,
) -> None:
    """Two administrators load the same set at once: both find no version 1, and the other's
    commits between this request's check and its insert (real SQLite, its own connection)."""
    raced: list[str] = []

    def other_admin_first(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.startswith("INSERT INTO criteria_sets") and not raced:
            raced.append(statement)
            other = Catalog(seeded.url)
            with other.transaction() as session:
                store_set(session, SET, "quan-tri-2")
            other.close()

    post: Call = ("POST", "/criteria-sets", {"content": SET})
    (first,) = seeded.send([post], hook=other_admin_first)
    assert raced, "the race did not happen"
    assert first.status_code == 409, first.text
    assert first.json()["detail"].startswith("Yêu cầu xung đột với dữ liệu hiện có")
    assert "INSERT" not in first.text  # the database's own words stay in the log
    # Sent again, the same file is found stored (loading is idempotent): the other admin's.
    (again,) = seeded.send([post])
    assert again.status_code == 201 and again.json()["loaded_by"] == "quan-tri-2"
    assert seeded.count(CriteriaSet) == 1


def test_a_locked_catalog_answers_503_with_retry_after(seeded: Seeded) -> None:
    """Another process holds the write lock past SQLite's busy timeout (5 s)."""
    holder = sqlite3.connect(seeded.url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    declare: Call = (
        "POST",
        f"/areas/{AREA}/declarations",
        {"json": DECLARATION, "headers": {"Accept-Language": "en"}},
    )
    try:
        started = time.monotonic()
        (answer,) = seeded.send([declare])
        waited = time.monotonic() - started
    finally:
        holder.rollback()
        holder.close()
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"] == "5"
    assert answer.json()["detail"].startswith("The catalog database is busy")
    assert waited >= 4  # SQLite waited for the lock before giving up
    assert seeded.count(Declaration) == 0


def test_criteria_answer_503_when_influxdb_is_away(seeded: Seeded) -> None:
    catalog = Catalog(seeded.url)
    with catalog.transaction() as session:
        store_set(session, SET, "quan-tri")
    catalog.close()
    now = datetime.now(UTC)
    window = {
        "set": "qd318-tieu-chi-8",
        "from": (now - timedelta(days=2)).isoformat(),
        "to": now.isoformat(),
    }
    answers = seeded.send(
        [
            ("GET", f"/areas/{AREA}/criteria", {"params": window}),
            ("POST", f"/areas/{AREA}/reports", {"params": window}),
        ]
    )
    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert answer.json()["detail"] == "Cơ sở dữ liệu đo lường tạm thời không truy cập được."
        assert answer.headers["Retry-After"] == "5"


def test_the_schema_says_which_routes_answer_409_and_503() -> None:
    schema = create_app(ApiSettings()).openapi()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if path != "/healthz":
                assert "503" in operation["responses"], (method, path)
    for path in ("/criteria-sets", "/catalog", "/users"):
        assert "409" in schema["paths"][path]["post"]["responses"], path
    retry = schema["paths"]["/areas/{area_id}/criteria"]["get"]["responses"]["503"]["headers"]
    assert "Retry-After" in retry
