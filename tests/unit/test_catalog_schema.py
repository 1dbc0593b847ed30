"""One migration step for the catalog; the services check the schema and never change it."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import get_args

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from api.routes.incidents import State
from catalog.db import Catalog, SchemaNotCurrent, migrate, require_current
from catalog.incidents import (
    Incident,
    IncidentState,
    StateChangeRefused,
    acknowledge,
    annotate,
    resolve,
)
from catalog.tables import METADATA
from devstack.processes import child_env, python_module

T0 = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)


def _run(module: str, *args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = child_env({"SMARTAREA_DATABASE_URL": url, "SMARTAREA_MQTT_PORT": "1"})
    return subprocess.run(
        python_module(module, *args),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        input="",
    )


def test_services_refuse_an_unmigrated_catalog_and_name_the_step(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    for module, args in (("api", ("create-user", "a", "--role", "admin")), ("alerts", ())):
        done = _run(module, *args, url=url)
        assert done.returncode == 2, (module, done.stderr)
        assert "SMARTAREA_DATABASE_URL" in done.stderr, module
        assert "python -m catalog migrate" in done.stderr, module
    assert _run("catalog", "check", url=url).returncode == 1
    assert _run("catalog", "migrate", url=url).returncode == 0
    assert _run("catalog", "check", url=url).stdout.strip() == "catalog schema: current"
    assert "password" in _run("api", "create-user", "a", "--role", "admin", url=url).stdout


def test_a_schema_one_revision_behind_is_named(tmp_path: Path) -> None:
    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    migrate(catalog.engine, "0002")
    behind = r"at revision 0002, this version needs 00[0-9][0-9]: run"
    with pytest.raises(SchemaNotCurrent, match=behind):
        require_current(catalog.engine)
    migrate(catalog.engine)
    require_current(catalog.engine)
    catalog.close()


def test_the_migrations_build_exactly_the_tables_the_code_maps(tmp_path: Path) -> None:
    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    migrate(catalog.engine)
    with catalog.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, METADATA)
    catalog.close()
    assert differences == []


def test_the_api_schema_offers_exactly_the_incident_states() -> None:
    assert set(get_args(State)) == {state.value for state in IncidentState}


def test_state_changes_are_checked_once_for_every_caller() -> None:
    row = Incident(area_id="son-vi-khu-6", kind="device_down", severity="down", opened_at=T0)
    row.state, row.events = IncidentState.OPEN, []
    acknowledge(row, T0, "ky-thuat-vien")
    with pytest.raises(StateChangeRefused, match="acknowledged already"):
        acknowledge(row, T0, "người khác")
    annotate(row, T0, "ky-thuat-vien", "Đã thay dây nguồn")
    resolve(row, T0, "alerts", by_data=True)
    assert (row.state, row.resolved_by) == (IncidentState.RESOLVED, None)
    with pytest.raises(StateChangeRefused, match="resolved already"):
        resolve(row, T0, "ky-thuat-vien")
    assert [(e.kind, e.actor, e.detail) for e in row.events] == [
        ("acknowledged", "ky-thuat-vien", {}),
        ("note", "ky-thuat-vien", {}),
        ("resolved", "alerts", {"by": "data"}),
    ]
