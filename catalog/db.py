"""The catalog database: engine, sessions, and its schema.

The schema is brought up to date once, by ``python -m catalog migrate`` (a deployment step:
compose's ``init``, ``make run``'s stack). The services only check it is current at start and
stop with a message if it is not: several processes migrating one PostgreSQL database at once
would race.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from catalog import tables as _tables  # noqa: F401 - every table mapped before any session

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class SchemaNotCurrent(RuntimeError):
    """The database's schema is not the one this code was written for."""


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

    return engine


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``, the newest by default (idempotent)."""
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def require_current(engine: Engine) -> None:
    """Raise :class:`SchemaNotCurrent`, saying what to run, unless the schema is at the newest
    revision. Reads one row; never changes the database."""
    wanted = set(ScriptDirectory.from_config(_config()).get_heads())
    with engine.connect() as connection:
        found = set(MigrationContext.configure(connection).get_current_heads())
    if found != wanted:
        at = ", ".join(sorted(found)) or "empty (never migrated)"
        raise SchemaNotCurrent(
            f"the catalog database is at revision {at}, this version needs "
            f"{', '.join(sorted(wanted))}: run `python -m catalog migrate` first"
        )


class Catalog:
    """Sessions on one engine."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in a transaction that commits when the block ends without an error."""
        with self._sessions() as session, session.begin():
            yield session

    def sessions(self) -> Session:
        """A plain session (the caller commits); use as a context manager."""
        return self._sessions()

    def close(self) -> None:
        self.engine.dispose()
