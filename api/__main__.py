"""``python -m api``: serve the API (default), or manage the catalog from the command line.

    python -m api [serve]
    python -m api create-user NAME --role ROLE [--commune ID ...] [--area ID ...] [--with-token L]
    python -m api create-token NAME [--days N] [--label TEXT]
    python -m api import-catalog FILE
    python -m api export-catalog
    python -m api load-criteria [FILE ...]   (no file: the built-in sets)
    python -m api rollup-job [--once]        (availability roll-ups; see api/rollup_job.py)

Settings come from SMARTAREA_* variables; a wrong one stops the command and names the variable.
Every command needs the catalog's schema current (``python -m catalog migrate`` first).
Passwords are read from standard input (one line) or generated and printed once.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import secrets
import signal
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access import Role
from api.accounts import AccountError, create_user, issue_token
from api.catalogfile import CatalogFileError, export_catalog, import_catalog
from api.criteria.service import SetConflict, store_set
from api.criteria.sets import CriteriaSetError
from api.main import create_app
from api.rollup_job import run_once
from api.settings import ApiSettings
from catalog.db import Catalog, SchemaNotCurrent, require_current
from catalog.models import Area
from servicekit.settings import load_or_explain
from tsdb.influxql import InfluxQL
from tsdb.writer import InfluxV1Writer

BUILTIN_SETS = Path(__file__).parent / "criteria" / "builtin"


MAX_TOKEN_DAYS = 3650


def _token_days(value: str) -> int:
    """A token's lifetime: a token issued already expired (``--days=-1``), or one that outlives
    any review of who holds it, is refused with a message naming the option."""
    try:
        days = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of days, not {value!r}") from None
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise argparse.ArgumentTypeError(
            f"must be from 1 to {MAX_TOKEN_DAYS} (a token of {days} days would be "
            + ("expired when issued)" if days < 1 else "kept beyond any review)")
        )
    return days


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m api", description="smartarea API")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="serve the HTTP API (the default)")
    user = sub.add_parser("create-user", help="add a user")
    user.add_argument("username")
    user.add_argument("--role", required=True, choices=[r.value for r in Role])
    user.add_argument("--commune", action="append", default=[], help="scope (technician)")
    user.add_argument("--area", action="append", default=[], help="scope (technician, leader)")
    user.add_argument("--name", help="display name")
    user.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    user.add_argument("--with-token", metavar="LABEL", help="also issue an API token (printed)")
    token = sub.add_parser("create-token", help="issue an API token for a machine or script")
    token.add_argument("username")
    token.add_argument(
        "--days", type=_token_days, default=365, help=f"lifetime, 1 to {MAX_TOKEN_DAYS} days"
    )
    token.add_argument("--label", default="cli")
    load = sub.add_parser("import-catalog", help="load provinces, communes, areas and devices")
    load.add_argument("file", type=Path)
    sub.add_parser("export-catalog", help="print the catalog as YAML")
    sets = sub.add_parser(
        "load-criteria", help="load criteria sets (YAML); no file: the built-in ones"
    )
    sets.add_argument("files", type=Path, nargs="*")
    job = sub.add_parser("rollup-job", help="build and refresh the availability roll-up blocks")
    job.add_argument("--once", action="store_true", help="one round, then exit")
    job.add_argument("--every-s", type=float, default=300, help="seconds between rounds")
    job.add_argument("--days", type=int, default=7, help="how far back to build and refresh")
    job.add_argument("--months", type=int, default=2, help="completed months to build")
    return parser


def _create_user(session: Session, actor: str, args: argparse.Namespace) -> None:
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    create_user(
        session, actor, args.username, Role(args.role), password, args.commune, args.area, args.name
    )
    if generated:
        print(f"password for {args.username}: {password}")
    if args.with_token:
        lifetime = timedelta(days=365)
        print(
            f"token: {issue_token(session, actor, args.username, 'api', lifetime, args.with_token)}"
        )


def _load_criteria(session: Session, actor: str, args: argparse.Namespace) -> None:
    for path in args.files or sorted(BUILTIN_SETS.glob("*.yaml")):
        row = store_set(session, path.read_bytes(), actor)
        print(f"{row.set_id} v{row.version} sha256={row.sha256}")


def _import_catalog(session: Session, actor: str, args: argparse.Namespace) -> None:
    counts = import_catalog(session, args.file.read_bytes(), actor)
    print(" ".join(f"{k}={v}" for k, v in counts.items()))


def _create_token(session: Session, actor: str, args: argparse.Namespace) -> None:
    print(issue_token(session, actor, args.username, "api", timedelta(days=args.days), args.label))


def _export_catalog(session: Session, actor: str, args: argparse.Namespace) -> None:
    sys.stdout.write(export_catalog(session).decode("utf-8"))


def _rollup_job(settings: ApiSettings, args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    password = settings.influx_password.get_secret_value() if settings.influx_password else None
    token = settings.influx_token.get_secret_value() if settings.influx_token else None
    influx = InfluxQL(
        settings.influx_url, settings.influx_database, settings.influx_username, password, token
    )
    writer = InfluxV1Writer(
        settings.influx_url,
        settings.influx_database,
        None,
        settings.influx_username,
        password,
        token,
    )
    catalog = Catalog(settings.database_url)
    require_current(catalog.engine)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        while not stop.is_set():
            with catalog.sessions() as session:
                area_ids = list(session.execute(select(Area.id).order_by(Area.id)).scalars())
            tally = run_once(
                influx, writer, area_ids, datetime.now(UTC), timedelta(days=args.days), args.months
            )
            logging.getLogger("api.rollup_job").info(
                "%d areas: %d blocks built, %d rebuilt, %d areas failed",
                len(area_ids),
                tally.built,
                tally.rebuilt,
                tally.failed_areas,
            )
            if args.once:
                break
            deadline = time.monotonic() + args.every_s
            while not stop.is_set() and time.monotonic() < deadline:
                stop.wait(0.2)  # short slices: see edge.agent._sleep_until for why
    finally:
        influx.close()
        writer.close()
        catalog.close()
    return 0


COMMANDS = {
    "create-user": _create_user,
    "create-token": _create_token,
    "import-catalog": _import_catalog,
    "export-catalog": _export_catalog,
    "load-criteria": _load_criteria,
}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = load_or_explain(ApiSettings)
    if settings is None:
        return 2
    catalog = Catalog(settings.database_url)
    try:
        require_current(catalog.engine)
    except SchemaNotCurrent as exc:
        print(f"error: SMARTAREA_DATABASE_URL: {exc}", file=sys.stderr)
        return 2
    finally:
        catalog.close()
    if args.command in (None, "serve"):
        uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port)
        return 0
    if args.command == "rollup-job":
        return _rollup_job(settings, args)
    catalog = Catalog(settings.database_url)
    try:
        with catalog.transaction() as session:
            COMMANDS[args.command](session, f"cli:{getpass.getuser()}", args)
    except (AccountError, CatalogFileError, CriteriaSetError, SetConflict, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        catalog.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
