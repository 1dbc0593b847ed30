"""Chaos: while a publisher sends a known set of reports, kill -9 and restart ingest, then the
broker, then InfluxDB. Afterwards every expected point is in InfluxDB, exactly once."""

from __future__ import annotations

import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from contract import topics
from contract.models import DeviceResult, Report
from devstack.processes import Child, child_env, free_port, python_module
from devstack.servers import InfluxDB, Mosquitto
from tests.integration.conftest import wait_for

AGENTS = [f"thon-{n}" for n in range(1, 5)]
REPORTS_PER_AGENT = 150
DEVICES = 20


def _report(area: str, seq: int, start: datetime) -> bytes:
    return Report(
        area_id=area,
        agent_id="nvh",
        seq=seq,
        observed_at=start + timedelta(seconds=seq),
        interval_s=60,
        results=[
            DeviceResult(
                device_id=f"cam-{d:02d}",
                kind="camera",
                status="up",
                duration_ms=5.0,
                metrics={"width_px": 768},
            )
            for d in range(DEVICES)
        ],
        agent_metrics={"cycle_ms": 120.0},
    ).to_json()


class Publisher(threading.Thread):
    """Sends every report at QoS 1 until the broker acknowledged it, like the agent's outbox:
    through broker restarts it republishes what was not acknowledged (duplicates are harmless)."""

    def __init__(self, port: int, rate: float) -> None:
        super().__init__(name="chaos-publisher")
        self.port, self.rate = port, rate
        self.sent = 0
        self.done = threading.Event()

    def run(self) -> None:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="chaos-publisher")
        client.reconnect_delay_set(min_delay=1, max_delay=1)
        client.connect_async("127.0.0.1", self.port)
        client.loop_start()
        start = datetime.now(UTC) - timedelta(hours=1)
        try:
            for seq in range(REPORTS_PER_AGENT):
                for area in AGENTS:
                    self._send(client, topics.report_topic(area, "nvh"), _report(area, seq, start))
                time.sleep(len(AGENTS) / self.rate)
        finally:
            client.disconnect()
            client.loop_stop()
            self.done.set()

    def _send(self, client: mqtt.Client, topic: str, payload: bytes) -> None:
        while True:
            info = client.publish(topic, payload, qos=1)
            try:
                info.wait_for_publish(timeout=2)
            except RuntimeError:  # not connected right now
                time.sleep(0.2)
                continue
            if info.is_published():
                self.sent += 1
                return


def _ingest(workdir: Path, broker: Mosquitto, influx: InfluxDB, metrics_port: int) -> Child:
    env = child_env(
        {
            "SMARTAREA_MQTT_PORT": str(broker.port),
            "SMARTAREA_MQTT_CLIENT_ID": "chaos-ingest",
            "SMARTAREA_INFLUX_URL": influx.url,
            "SMARTAREA_INFLUX_DATABASE": influx.database,
            "SMARTAREA_METRICS_PORT": str(metrics_port),
            "SMARTAREA_RETRY_MAX_S": "1",
            "SMARTAREA_DEAD_LETTER_FILE": str(workdir / "dead-letters.jsonl"),
        }
    )
    child = Child("ingest", python_module("ingest"), workdir / "ingest.log", env=env).start()
    child.wait_ready(lambda: _ready(metrics_port), timeout=30)
    return child


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _counts(influx: InfluxDB) -> dict[str, int]:
    """Points per series; InfluxDB keeps one point per series and time, so this counts distinct
    (series, time) pairs: a duplicate collapses, a loss shows."""
    try:
        result = influx.query('SELECT count("status_code") FROM "camera" GROUP BY *')
    except OSError:
        return {}
    series = result["results"][0].get("series", [])  # type: ignore[index]
    return {f"{s['tags']['area']}/{s['tags']['device']}": int(s["values"][0][1]) for s in series}


def test_nothing_is_lost_when_ingest_the_broker_and_influxdb_are_killed(tmp_path: Path) -> None:
    # Mosquitto acknowledges a publish before persisting it; saving after every change keeps
    # what it acknowledged across its own kill -9 (the production broker should do the same).
    broker = Mosquitto(tmp_path / "mosquitto", extra_config=["autosave_on_changes true"]).start()
    influx = InfluxDB(tmp_path / "influxdb").start()
    metrics_port = free_port()
    ingest = _ingest(tmp_path, broker, influx, metrics_port)
    publisher = Publisher(broker.port, rate=60.0)
    try:
        publisher.start()
        wait_for(lambda: publisher.sent >= 60, "the publisher to get going")
        ingest.kill()  # kill -9 in the middle of the stream
        wait_for(lambda: publisher.sent >= 120, "reports queued while ingest is dead")
        ingest = _ingest(tmp_path, broker, influx, metrics_port)

        wait_for(lambda: publisher.sent >= 200, "more reports")
        broker.kill()
        broker.start()  # same port and persistence folder

        wait_for(lambda: publisher.sent >= 300, "reports after the broker restart", timeout=40)
        influx.kill()
        wait_for(lambda: publisher.sent >= 360, "reports while InfluxDB is dead")
        influx.start()

        wait_for(publisher.done.is_set, "the publisher to finish", timeout=90)
        expected = {f"{a}/cam-{d:02d}": REPORTS_PER_AGENT for a in AGENTS for d in range(DEVICES)}
        wait_for(lambda: _counts(influx) == expected, "every point stored", timeout=90)
        seqs = influx.query('SELECT count("seq") FROM "agent_report" GROUP BY "area"')
        per_agent = {
            s["tags"]["area"]: s["values"][0][1]
            for s in seqs["results"][0]["series"]  # type: ignore[index]
        }
        assert per_agent == dict.fromkeys(AGENTS, REPORTS_PER_AGENT)
        assert not (tmp_path / "dead-letters.jsonl").exists()
    finally:
        publisher.join(120)
        ingest.stop()
        influx.stop()
        broker.stop()
