"""``python -m catalog``: the catalog database's schema, as a deployment step.

    python -m catalog migrate   bring the schema to the newest revision (idempotent)
    python -m catalog check     exit 0 if it is current, else 1 and say what to run

The database comes from ``SMARTAREA_DATABASE_URL``; the services only check, never migrate.
"""

from __future__ import annotations

import argparse
import sys

from catalog.db import Catalog, SchemaNotCurrent, migrate, require_current
from catalog.settings import CatalogSettings
from servicekit.settings import load_or_explain


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m catalog", description="catalog schema")
    parser.add_argument("command", choices=["migrate", "check"])
    args = parser.parse_args(argv)
    settings = load_or_explain(CatalogSettings)
    if settings is None:
        return 2
    catalog = Catalog(settings.database_url)
    try:
        if args.command == "migrate":
            migrate(catalog.engine)
        require_current(catalog.engine)
    except SchemaNotCurrent as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        catalog.close()
    print("catalog schema: current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
