"""Retention and hourly roll-ups on InfluxDB 1.x: ``python -m ingest.retention`` (idempotent).

- ``autogen`` (the database's default retention policy, where ingest writes): raw points for
  ``--raw-days`` (400 by default: a year of raw evidence plus an assessment's slack);
- ``hourly``: one point per device and hour for ``--rollup-days`` (10 years by default), kept
  by continuous queries: per device measurement ``<kind>_hourly`` with ``samples``,
  ``up_samples``, ``down_samples`` (degraded = the rest), ``status_min``, ``status_mean`` and
  ``duration_ms_mean``; ``agent_report_hourly`` with ``reports`` (coverage) and ``lag_s_max``.

InfluxDB 2.x has no continuous queries: docs/influxdb.md gives the equivalent buckets and tasks.
"""

from __future__ import annotations

import argparse
import json
import sys

import urllib3

from contract.models import DeviceKind
from ingest.settings import IngestSettings
from tsdb.auth import auth_headers
from tsdb.influxql import identifier
from tsdb.schema import AGENT_REPORT, HOURLY

ROLLUP_RP = "hourly"
RAW_RP = "autogen"  # the default policy every database starts with, where ingest writes


def _cq(database: str, name: str, select: str, source: str, target: str, where: str = "") -> str:
    db = identifier(database)
    # Every name goes through identifier(); select and where are constants of this module.
    return (
        f"CREATE CONTINUOUS QUERY {identifier(name)} ON {db} BEGIN "  # noqa: S608
        f"SELECT {select} INTO {db}.{identifier(ROLLUP_RP)}.{identifier(target)} "
        f"FROM {db}.{identifier(RAW_RP)}.{identifier(source)}{where} GROUP BY time(1h), * END"
    )


def statements(database: str, raw_days: int = 400, rollup_days: int = 3650) -> list[str]:
    """InfluxQL that sets up both retention policies and every continuous query."""
    db = identifier(database)
    out = [
        f"CREATE DATABASE {db}",
        f"ALTER RETENTION POLICY {identifier(RAW_RP)} ON {db} DURATION {raw_days}d DEFAULT",
        f"CREATE RETENTION POLICY {identifier(ROLLUP_RP)} ON {db} DURATION {rollup_days}d "
        "REPLICATION 1",
        f"ALTER RETENTION POLICY {identifier(ROLLUP_RP)} ON {db} DURATION {rollup_days}d",
    ]
    for kind in DeviceKind:
        target = f"{kind.value}_hourly"
        out += [
            _cq(
                database,
                f"{kind.value}_hourly",
                'count("status_code") AS "samples", min("status_code") AS "status_min", '
                'mean("status_code") AS "status_mean", mean("duration_ms") AS "duration_ms_mean"',
                kind.value,
                target,
            ),
            _cq(
                database,
                f"{kind.value}_hourly_up",
                'count("status_code") AS "up_samples"',
                kind.value,
                target,
                ' WHERE "status_code" = 2',
            ),
            _cq(
                database,
                f"{kind.value}_hourly_down",
                'count("status_code") AS "down_samples"',
                kind.value,
                target,
                ' WHERE "status_code" = 0',
            ),
        ]
    out.append(
        _cq(
            database,
            AGENT_REPORT + HOURLY,
            'count("seq") AS "reports", max("lag_s") AS "lag_s_max"',
            AGENT_REPORT,
            AGENT_REPORT + HOURLY,
        )
    )
    return out


def apply(url: str, database: str, statements_: list[str], headers: dict[str, str]) -> None:
    """Run the statements (POST /query); continuous queries are replaced, so reruns are safe."""
    pool = urllib3.PoolManager(timeout=urllib3.Timeout(connect=3, read=60), retries=False)
    try:
        for statement in statements_:
            if statement.startswith("CREATE CONTINUOUS QUERY"):  # 1.x has no IF NOT EXISTS here
                name = statement.split(" ")[3]
                _post(pool, url, f"DROP CONTINUOUS QUERY {name} ON {identifier(database)}", headers)
            _post(pool, url, statement, headers)
    finally:
        pool.clear()


def _post(pool: urllib3.PoolManager, url: str, statement: str, headers: dict[str, str]) -> None:
    response = pool.request(
        "POST", f"{url.rstrip('/')}/query", fields={"q": statement}, headers=headers
    )
    body = json.loads(response.data or b"{}")
    errors = [r["error"] for r in body.get("results", []) if "error" in r]
    if errors and not errors[0].startswith("continuous query not found"):
        raise RuntimeError(f"InfluxDB refused {statement[:80]!r}: {errors[0]}")
    if response.status != 200 and not errors:
        raise RuntimeError(f"InfluxDB answered {response.status} to {statement[:80]!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Create the retention policies and hourly roll-ups on InfluxDB 1.x "
        "(URL, database and credentials from the SMARTAREA_INFLUX_* settings)."
    )
    parser.add_argument("--raw-days", type=int, default=400, help="keep raw points this long")
    parser.add_argument("--rollup-days", type=int, default=3650, help="keep hourly roll-ups")
    parser.add_argument("--print", action="store_true", help="print the InfluxQL, run nothing")
    args = parser.parse_args(argv)
    settings = IngestSettings()
    todo = statements(settings.influx_database, args.raw_days, args.rollup_days)
    if args.print:
        print("\n".join(f"{s};" for s in todo))
        return 0
    password = settings.influx_password.get_secret_value() if settings.influx_password else None
    token = settings.influx_token.get_secret_value() if settings.influx_token else None
    headers = auth_headers(settings.influx_username, password, token)
    apply(settings.influx_url, settings.influx_database, todo, headers)
    print(f"retention: raw {args.raw_days} d (default), hourly roll-ups {args.rollup_days} d")
    return 0


if __name__ == "__main__":
    sys.exit(main())
