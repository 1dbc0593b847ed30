"""Retention policies and hourly roll-ups, set up on the real InfluxDB 1.6.7."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from devstack.servers import InfluxDB
from ingest.retention import apply, statements
from tsdb.lineprotocol import line, timestamp_ns
from tsdb.writer import InfluxV1Writer


def test_roll_ups_count_up_and_down_samples_per_device_and_hour(influxdb: InfluxDB) -> None:
    todo = statements(influxdb.database, raw_days=400, rollup_days=3650)
    apply(influxdb.url, influxdb.database, todo, {})
    apply(influxdb.url, influxdb.database, todo, {})  # a second run changes nothing

    policies = influxdb.query(f'SHOW RETENTION POLICIES ON "{influxdb.database}"')
    rows = {r[0]: r for r in policies["results"][0]["series"][0]["values"]}  # type: ignore[index]
    assert rows["autogen"][1] == "9600h0m0s" and rows["autogen"][4] is True  # 400 d, default
    assert rows["hourly"][1] == "87600h0m0s"  # 10 years
    cqs = influxdb.query("SHOW CONTINUOUS QUERIES")
    mine = next(s for s in cqs["results"][0]["series"] if s["name"] == influxdb.database)  # type: ignore[index]
    assert len(mine["values"]) == len([s for s in todo if "CONTINUOUS QUERY" in s]) == 16

    hour = datetime(2026, 3, 1, 8, tzinfo=UTC)
    codes = [2] * 45 + [0] * 10 + [1] * 5  # one probe a minute: 45 up, 10 down, 5 degraded
    lines = [
        line(
            "camera",
            {"area": "son-vi-khu-6", "agent": "nvh", "device": "Cổng chính"},
            {"status_code": code, "duration_ms": 10.0},
            timestamp_ns(hour + timedelta(minutes=n)),
        )
        for n, code in enumerate(codes)
    ]
    writer = InfluxV1Writer(influxdb.url, influxdb.database)
    writer.write(lines)
    writer.close()

    # Continuous queries run on the clock; run their SELECT … INTO over the test hour instead.
    window = f"time >= '{hour.isoformat()}' AND time < '{(hour + timedelta(hours=1)).isoformat()}'"
    for statement in todo:
        if '"camera"' not in statement or "CONTINUOUS" not in statement:
            continue
        select = statement.split(" BEGIN ", 1)[1].removesuffix(" END")
        if " WHERE " in select:
            select = select.replace(" GROUP BY", f" AND {window} GROUP BY")
        else:
            select = select.replace(" GROUP BY", f" WHERE {window} GROUP BY")
        influxdb.query(select)

    result = influxdb.query(
        'SELECT "samples", "up_samples", "down_samples", "status_min" '
        'FROM "hourly"."camera_hourly" GROUP BY "device"'
    )
    series = result["results"][0]["series"]  # type: ignore[index]
    assert series[0]["tags"]["device"] == "Cổng chính"  # tags kept, Vietnamese intact
    assert series[0]["values"] == [[timestamp_ns(hour), 60, 45, 10, 0]]
