"""The catalog on a real SQLite file: import/export, history of parents, tokens, audit, access."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select

from api.access import ALLOWED, Action, Role, current_caller
from api.accounts import AccountError, create_user, issue_token
from api.catalogfile import CatalogFileError, export_catalog, import_catalog
from api.main import ROUTERS
from api.security import hash_password, token_digest, verify_password
from catalog.db import Catalog, migrate
from catalog.maintenance import intervals
from catalog.models import AreaParent, AuditEntry, MaintenanceWindow, Token

FILE = """
version: 1
provinces:
  - id: phu-tho
    name: Tỉnh Phú Thọ
    communes:
      - id: son-vi
        name: Xã Sơn Vi
        areas:
          - id: son-vi-khu-6
            name: Khu 6
            agents: [nvh]
            devices:
              - {id: cam-01, kind: camera, road: Đường Hùng Vương, main_road: true}
              - {id: "Cổng chợ, \\"số 2\\"", kind: camera}
      - id: lam-thao
        name: Thị trấn Lâm Thao
"""


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    db = Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    migrate(db.engine)
    migrate(db.engine)  # idempotent
    return db


def test_import_export_round_trip_keeps_vietnamese(catalog: Catalog) -> None:
    with catalog.transaction() as session:
        counts = import_catalog(session, FILE.encode(), "admin")
    assert counts["created"] == 4
    with catalog.transaction() as session:
        exported = export_catalog(session).decode("utf-8")
        assert import_catalog(session, exported.encode(), "admin")["updated"] == 0
    assert "Xã Sơn Vi" in exported and "Đường Hùng Vương" in exported
    assert 'Cổng chợ, "số 2"' in exported
    catalog.close()


def test_moving_an_area_keeps_its_history(catalog: Catalog) -> None:
    with catalog.transaction() as session:
        import_catalog(session, FILE.encode(), "admin")
    moved = FILE.replace("      - id: lam-thao\n        name: Thị trấn Lâm Thao\n", "").replace(
        "      - id: son-vi\n        name: Xã Sơn Vi\n",
        "      - id: lam-thao\n        name: Thị trấn Lâm Thao\n",
    )
    with catalog.transaction() as session:
        assert import_catalog(session, moved.encode(), "admin")["moved"] == 1
    with catalog.transaction() as session:
        periods = session.execute(select(AreaParent).order_by(AreaParent.id)).scalars().all()
        assert [(p.commune_id, p.valid_to is None) for p in periods] == [
            ("son-vi", False),
            ("lam-thao", True),
        ]
    catalog.close()


def test_bad_catalog_file_names_the_place(catalog: Catalog) -> None:
    with (
        catalog.transaction() as session,
        pytest.raises(CatalogFileError, match=r"provinces\.0\.communes\.0\.areas\.0\.id"),
    ):
        import_catalog(session, FILE.replace("son-vi-khu-6", "Sơn Vi khu 6").encode(), "admin")
    catalog.close()


def test_audit_log_is_append_only_in_the_database(catalog: Catalog, tmp_path: Path) -> None:
    with catalog.transaction() as session:
        import_catalog(session, FILE.encode(), "admin")
        assert session.execute(select(AuditEntry)).scalars().one().actor == "admin"
    catalog.close()
    raw = sqlite3.connect(tmp_path / "catalog.sqlite")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("UPDATE audit_log SET actor = 'someone else'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("DELETE FROM audit_log")
    raw.close()


def test_passwords_use_a_salted_kdf() -> None:
    first, second = hash_password("mật khẩu"), hash_password("mật khẩu")
    assert first != second and first.startswith("scrypt$")
    assert verify_password("mật khẩu", first) and not verify_password("mat khau", first)
    assert not verify_password("anything", None)


def test_expired_tokens_are_refused(catalog: Catalog) -> None:
    with catalog.transaction() as session:
        import_catalog(session, FILE.encode(), "admin")
        create_user(
            session, "admin", "truong-khu-6", Role.LEADER, "mật-khẩu-dài", areas=["son-vi-khu-6"]
        )
        live = issue_token(session, "admin", "truong-khu-6", "session", timedelta(minutes=5))
        dead = issue_token(session, "admin", "truong-khu-6", "session", timedelta(minutes=5))
        session.get(Token, token_digest(dead)).expires_at = datetime.now(UTC) - timedelta(seconds=1)  # type: ignore[union-attr]
    with catalog.sessions() as session:
        assert current_caller(live, session).areas == frozenset({"son-vi-khu-6"})
        with pytest.raises(Exception, match="401"):
            current_caller(dead, session)
    catalog.close()


def test_scoped_roles_need_a_scope(catalog: Catalog) -> None:
    with catalog.transaction() as session:
        import_catalog(session, FILE.encode(), "admin")
        with pytest.raises(AccountError, match="needs a scope"):
            create_user(session, "admin", "ktv", Role.TECHNICIAN, "pw")
        with pytest.raises(AccountError, match="Unknown area"):
            create_user(session, "admin", "tk", Role.LEADER, "pw", areas=["khong-co"])
    catalog.close()


def test_weekly_maintenance_in_vietnam_time() -> None:
    window = MaintenanceWindow(
        id=1,
        area_id="a",
        device_id=None,
        starts_local=datetime(2026, 11, 1, 6),
        ends_local=datetime(2026, 11, 1, 8),
        timezone="Asia/Ho_Chi_Minh",
        recurrence="weekly",
        until_local=datetime(2026, 11, 30),
        reason="Bảo trì định kỳ",
    )
    found = intervals(
        [window], datetime(2026, 11, 10, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC)
    )
    # Sundays 06:00-08:00 in Hà Nội are 23:00-01:00 UTC the evening before.
    assert [iv.start for iv in found] == [
        datetime(2026, 11, 14, 23, tzinfo=UTC),
        datetime(2026, 11, 21, 23, tzinfo=UTC),
        datetime(2026, 11, 28, 23, tzinfo=UTC),
    ]
    assert all(iv.end - iv.start == timedelta(hours=2) for iv in found)


def test_every_route_but_health_and_login_checks_the_caller() -> None:
    # The dashboard's shells and assets carry no data: their script reads the API with the token.
    dashboard = {"/ui", "/ui/login", "/ui/overview", "/ui/incidents", "/ui/areas/{area_id}"}
    dashboard |= {"/ui/areas/{area_id}/certification", "/ui/static/{name}"}
    dashboard |= {"/docs", "/docs/oauth2-redirect", "/ui/vendor/{name}"}  # the OpenAPI explorer
    public = {"/healthz", "/auth/token"} | dashboard

    def depends_on_caller(dependant: object) -> bool:
        calls = [getattr(d, "call", None) for d in getattr(dependant, "dependencies", [])]
        return current_caller in calls or any(
            depends_on_caller(d) for d in getattr(dependant, "dependencies", [])
        )

    routes = [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    assert len(routes) > 10
    for route in routes:
        if route.path in public:
            continue
        assert depends_on_caller(route.dependant), f"{route.path} does not check the caller"
    # Every action has its roles written down in one place.
    assert set(ALLOWED) == set(Action)
