"""'Probe now' reaches a real agent process through the real broker: it reports at once instead
of waiting for its (long) interval; commands it must not act on are counted, never fatal."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from contract import topics
from contract.models import Command, CommandName, Report
from devstack.processes import Child
from devstack.servers import Mosquitto
from tests.integration.conftest import Publish, uplink_agent, wait_for

AREA, AGENT = "son-vi-khu-6", "nvh"
INTERVAL_S = 300  # far longer than any wait below: a report within it was asked for


class Reports:
    """Every report the agent publishes, as the broker delivers it."""

    def __init__(self, port: int) -> None:
        self.received: list[Report] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id="test-reports", protocol=mqtt.MQTTv5
        )
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(topics.report_topic(AREA, AGENT), qos=1)
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.received.append(Report.model_validate_json(msg.payload))

    def all(self) -> list[Report]:
        with self._lock:
            return list(self.received)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def reports(mosquitto: Mosquitto) -> Iterator[Reports]:
    listener = Reports(mosquitto.port)
    try:
        yield listener
    finally:
        listener.close()


@pytest.fixture
def agent(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[Child]:
    with uplink_agent(tmp_path, AREA, AGENT, mosquitto.port, INTERVAL_S) as child:
        yield child


def command(issued_at: datetime | None = None, **overrides: str) -> bytes:
    payload = Command(
        area_id=AREA,
        agent_id=AGENT,
        command=CommandName.PROBE_NOW,
        id="t" + datetime.now(UTC).strftime("%H%M%S%f"),
        issued_at=issued_at or datetime.now(UTC),
        issued_by="kỹ-thuật-viên",
    ).model_dump(mode="json", by_alias=True)
    payload.update(overrides)
    return json.dumps(payload).encode()


def test_probe_now_makes_the_agent_report_at_once(
    agent: Child, reports: Reports, publish: Publish
) -> None:
    wait_for(lambda: len(reports.all()) >= 1, "the agent's first report (at start)")
    first = reports.all()[-1]
    cmd_topic = topics.command_topic(AREA, AGENT)

    # Commands the agent must not act on: each counted, none wakes it, none stops it.
    publish(cmd_topic, b"{not json")
    publish(cmd_topic, command(schema="smartarea.command/9"))
    publish(cmd_topic, command(command="reboot"))
    publish(cmd_topic, command(agent_id="other"))
    publish(cmd_topic, command(issued_at=datetime.now(UTC) - timedelta(hours=1)))
    # Another agent's topic: never delivered to this one.
    publish(topics.command_topic(AREA, "other"), command(agent_id="other"))

    publish(cmd_topic, command())
    wait_for(lambda: len(reports.all()) >= 2, "a report after 'probe now'", timeout=60)
    second = reports.all()[1]
    assert second.seq == first.seq + 1
    assert second.observed_at - first.observed_at < timedelta(seconds=INTERVAL_S / 2)
    metrics = second.agent_metrics
    assert metrics["commands_total"] == 1
    assert metrics["commands_ignored_total"] == 5
    for reason in ("bad_json", "unknown_schema", "invalid_payload", "wrong_agent", "too_old"):
        assert metrics[f"commands_ignored_{reason}"] == 1, reason

    # A burst of commands is one cycle (or one more, for those that arrived during it).
    for _ in range(5):
        publish(cmd_topic, command())
    wait_for(
        lambda: any(r.agent_metrics["commands_total"] == 6 for r in reports.all()),
        "a report that counted the burst",
        timeout=60,
    )
    after_burst = [r for r in reports.all() if r.seq > second.seq]
    assert 1 <= len(after_burst) <= 2
    assert [r.seq for r in reports.all()] == list(range(first.seq, first.seq + len(reports.all())))
    assert agent.running, agent.log_tail()
