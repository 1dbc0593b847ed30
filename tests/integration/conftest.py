"""Fixtures for tests against the real Mosquitto and InfluxDB."""

from __future__ import annotations

import json
import signal
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from devstack.processes import Child, child_env, python_module, wait_until
from devstack.servers import InfluxDB, Mosquitto
from devstack.stack import Stack
from ingest.service import IngestService
from ingest.settings import IngestSettings
from tsdb.writer import InfluxV1Writer

Publish = Callable[[str, bytes], None]


def ingest_settings(
    mosquitto: Mosquitto, influxdb: InfluxDB, tmp_path: Path, **extra: object
) -> IngestSettings:
    return IngestSettings(
        mqtt_port=mosquitto.port,
        influx_url=influxdb.url,
        influx_database=influxdb.database,
        dead_letter_file=tmp_path / "dead-letters.jsonl",
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def ingest(mosquitto: Mosquitto, influxdb: InfluxDB, tmp_path: Path) -> Iterator[IngestService]:
    settings = ingest_settings(mosquitto, influxdb, tmp_path)
    service = IngestService(settings, InfluxV1Writer(influxdb.url, influxdb.database))
    service.start()
    try:
        assert service.subscribed.wait(10), "ingest did not subscribe"
        yield service
    finally:
        service.stop()


@contextmanager
def publisher(port: int, client_id: str = "test-publisher") -> Iterator[Publish]:
    """Publish at QoS 1 and wait for the broker's acknowledgement."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", port)
    client.loop_start()

    def send(topic: str, payload: bytes) -> None:
        info = client.publish(topic, payload, qos=1)
        info.wait_for_publish(timeout=10)
        assert info.is_published()

    try:
        yield send
    finally:
        client.disconnect()
        client.loop_stop()


@pytest.fixture
def publish(mosquitto: Mosquitto) -> Iterator[Publish]:
    with publisher(mosquitto.port) as send:
        yield send


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    """Mosquitto, InfluxDB, ``python -m ingest`` and ``python -m api``, all real processes."""
    with Stack(tmp_path / "stack") as running:
        yield running


def catalog_yaml(area_id: str, devices: list[tuple[str, str]], name: str = "Khu 6") -> str:
    """A one-area catalog file: Tỉnh Phú Thọ → Xã Sơn Vi → the area with ``devices`` (id, kind)."""
    document = {
        "version": 1,
        "provinces": [
            {
                "id": "phu-tho",
                "name": "Tỉnh Phú Thọ",
                "communes": [
                    {
                        "id": "son-vi",
                        "name": "Xã Sơn Vi",
                        "areas": [
                            {
                                "id": area_id,
                                "name": name,
                                "agents": ["nvh"],
                                "devices": [{"id": d, "kind": k} for d, k in devices],
                            }
                        ],
                    }
                ],
            }
        ],
    }
    text: str = yaml.safe_dump(document, allow_unicode=True)
    return text


def api_get(
    stack: Stack, path: str, token: str | None = "", language: str = "vi"
) -> tuple[int, Any]:
    """GET an API path as a client would; ``token=""`` means the stack's own token."""
    headers = {"Accept-Language": language}
    if token is not None:
        headers["Authorization"] = f"Bearer {token or stack.api_token}"
    request = urllib.request.Request(stack.api_url + path, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def count_points(influxdb: InfluxDB, measurement: str, where: str = "") -> int:
    result = influxdb.query(f'SELECT count("status_code") FROM "{measurement}" {where}')
    series = result["results"][0].get("series")  # type: ignore[index]
    return int(series[0]["values"][0][1]) if series else 0


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 45) -> None:
    """Poll until ``condition`` holds. The limit is generous (it costs nothing when things work)
    because the machine is shared: a loaded run must not fail for being slow."""
    wait_until(condition, timeout, what, step=0.1)


@contextmanager
def uplink_agent(
    workdir: Path, area_id: str, agent_id: str, broker_port: int, interval_s: float
) -> Iterator[Child]:
    """A real agent process (``python -m edge run``) on a plain loopback broker, probing only the
    broker as its uplink; stopped by SIGTERM, which it must answer with exit code 0."""
    config = workdir / "agent.toml"
    config.write_text(
        f"""
area_id = "{area_id}"
agent_id = "{agent_id}"
interval_s = {interval_s}

[broker]
host = "127.0.0.1"
port = {broker_port}
tls = false

[outbox]
flush_on_stop_s = 2

[[devices]]
id = "uplink"
type = "tcp_link"
targets = ["127.0.0.1:{broker_port}"]
timeout_s = 1
""",
        encoding="utf-8",
    )
    child = Child(
        "agent", python_module("edge", "run", str(config)), workdir / "agent.log", env=child_env({})
    ).start()
    try:
        yield child
    finally:
        child.signal(signal.SIGTERM)
        assert child.stop() == 0, child.log_tail()


def phu_tho_catalog(
    khu6: dict[str, Any], khu7: dict[str, Any] | None = None, thon1: dict[str, Any] | None = None
) -> str:
    """The catalog file of the access tests: Tỉnh Phú Thọ → Xã Sơn Vi (Khu 6, Khu 7) and Xã Phúc
    Khánh (Thôn 1); each area's dict adds or replaces its name, agents and devices."""

    def area(area_id: str, name: str, extra: dict[str, Any] | None) -> dict[str, Any]:
        return {"id": area_id, "name": name, **(extra or {})}

    document = {
        "version": 1,
        "provinces": [
            {
                "id": "phu-tho",
                "name": "Tỉnh Phú Thọ",
                "communes": [
                    {
                        "id": "son-vi",
                        "name": "Xã Sơn Vi",
                        "areas": [
                            area("son-vi-khu-6", "Khu 6", khu6),
                            area("son-vi-khu-7", "Khu 7", khu7),
                        ],
                    },
                    {
                        "id": "phuc-khanh",
                        "name": "Xã Phúc Khánh",
                        "areas": [area("phuc-khanh-thon-1", "Thôn 1", thon1)],
                    },
                ],
            }
        ],
    }
    return yaml.safe_dump(document, allow_unicode=True)
