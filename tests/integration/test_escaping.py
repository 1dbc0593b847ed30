"""Names with spaces, commas, '=', quotes, backslashes and Vietnamese survive every layer:
MQTT payload → ingest → line protocol → InfluxDB → InfluxQL → API JSON."""

from __future__ import annotations

import json
import urllib.parse
from datetime import UTC, datetime

from contract import topics
from contract.models import DeviceResult, Report
from devstack.stack import Stack
from tests.integration.conftest import api_get, catalog_yaml, publisher, wait_for

NAMES = [
    "Cổng chợ Sơn Vi",
    "Phúc Khánh, ngã ba",
    "a=b",
    'quote "double"',
    "quote 'single'",
    "back\\slash",
    "back\\ space",
    "all of it: Lâm Thao, \"x\"='y' \\ end",
]


def test_device_names_read_back_unchanged(stack: Stack) -> None:
    stack.load_catalog(catalog_yaml("son-vi-khu-6", [(NAMES[0], "camera"), (NAMES[-1], "camera")]))
    report = Report(
        area_id="son-vi-khu-6",
        agent_id="nvh",
        seq=1,
        observed_at=datetime.now(UTC),
        interval_s=60,
        results=[
            DeviceResult(
                device_id=name,
                kind="camera",
                status="up",
                duration_ms=1.0,
                metrics={"link_state": name},  # a declared text metric,
            )
            for name in NAMES
        ],
    )
    with publisher(stack.mosquitto.port) as publish:
        publish(topics.report_topic("son-vi-khu-6", "nvh"), report.to_json())

    def stored() -> bool:
        status, body = api_get(stack, "/areas/son-vi-khu-6/status")
        return status == 200 and len(body["devices"]) == len(NAMES)

    wait_for(stored, "the report to reach the API")
    _, body = api_get(stack, "/areas/son-vi-khu-6/status")
    assert sorted(d["device_id"] for d in body["devices"]) == sorted(NAMES)
    for device in body["devices"]:
        assert device["metrics"]["link_state"] == device["device_id"]
        assert device["state"] == "up"
        assert device["in_catalog"] == (device["device_id"] in (NAMES[0], NAMES[-1]))
    # And straight from InfluxDB, to be sure the API did not mend anything.
    raw = stack.influxdb.query('SHOW TAG VALUES FROM "camera" WITH KEY = "device"')
    values = [row[1] for row in raw["results"][0]["series"][0]["values"]]  # type: ignore[index]
    assert sorted(values) == sorted(NAMES)


def test_hostile_area_ids_never_reach_a_query(stack: Stack) -> None:
    for hostile in ["x' OR 1=1 --", "son-vi-khu-6'; DROP DATABASE smartarea", "Sơn Vi"]:
        status, body = api_get(stack, "/areas/" + urllib.parse.quote(hostile, safe="") + "/status")
        assert status in {404, 422}, (hostile, body)  # refused before any query is built
    databases = stack.influxdb.query("SHOW DATABASES")
    assert ["smartarea"] in databases["results"][0]["series"][0]["values"]  # type: ignore[index]
    assert json.dumps(databases)
