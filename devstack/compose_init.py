"""``python -m devstack.compose_init``: docker-compose's one start-up step, before any service.

It migrates the catalog (the one migration: the services that start after it find the schema
current), loads the demo fleet's catalog and the shipped criteria sets, and creates the first
administrator if there is none: with the password in ``SMARTAREA_FIRST_ADMIN_PASSWORD_FILE`` if
given (a Docker secret), otherwise a generated one printed once (``docker compose logs init``).
Every step is idempotent, so the step runs again harmlessly on each ``docker compose up``.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from sqlalchemy import select

from api.access import Role
from api.accounts import create_user
from api.catalogfile import import_catalog
from api.criteria.service import store_set
from api.settings import ApiSettings
from catalog.db import Catalog, migrate
from catalog.models import User
from devstack.demo import catalog_document, load_fleet
from servicekit.settings import load_or_explain

BUILTIN_SETS = Path(__file__).parents[1] / "api" / "criteria" / "builtin"
ACTOR = "compose-init"
FIRST_ADMIN = "admin"


def first_admin_password() -> tuple[str, bool]:
    """(password, generated): from the secret file if one is named, else a fresh one."""
    path = os.environ.get("SMARTAREA_FIRST_ADMIN_PASSWORD_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").strip(), False
    return secrets.token_urlsafe(12), True


def run(settings: ApiSettings, demo: bool = True) -> list[str]:
    """The steps; returns what was done, one line each (printed by ``main``)."""
    done = []
    catalog = Catalog(settings.database_url)
    try:
        migrate(catalog.engine)
        done.append("catalog schema: current")
        with catalog.transaction() as session:
            if demo:
                counts = import_catalog(session, catalog_document(load_fleet()[1]).encode(), ACTOR)
                done.append("demo catalog: " + " ".join(f"{k}={v}" for k, v in counts.items()))
            for path in sorted(BUILTIN_SETS.glob("*.yaml")):
                row = store_set(session, path.read_bytes(), ACTOR)
                done.append(f"criteria set: {row.set_id} v{row.version}")
            admins = session.execute(select(User).where(User.role == Role.ADMIN.value)).first()
            if admins is None:
                password, generated = first_admin_password()
                create_user(session, ACTOR, FIRST_ADMIN, Role.ADMIN, password, [], [], None)
                shown = password if generated else "(from SMARTAREA_FIRST_ADMIN_PASSWORD_FILE)"
                done.append(f"first administrator: {FIRST_ADMIN}, password: {shown}")
            else:
                done.append("administrator: present")
    finally:
        catalog.close()
    return done


def main() -> int:
    settings = load_or_explain(ApiSettings)
    if settings is None:
        return 2
    demo = os.environ.get("SMARTAREA_DEMO_CATALOG", "1") != "0"
    for line in run(settings, demo):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
