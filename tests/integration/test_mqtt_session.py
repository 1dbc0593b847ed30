"""The one MQTT session of the server side, on real Mosquitto brokers.

A refusal retrying cannot cure stops the service with a message naming the settings; a broker
that goes away is reconnected to, with jittered backoff, and subscribed again.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from catalog.db import Catalog, migrate
from devstack.gateway import GatewayBroker
from devstack.processes import child_env, python_module
from devstack.servers import Mosquitto
from servicekit.mqtt import Session, consumer_client

pytestmark = pytest.mark.integration


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[GatewayBroker]:
    broker = GatewayBroker(tmp_path / "gateway").start()
    yield broker
    broker.stop()


@pytest.mark.parametrize("service", ["ingest", "alerts"])
def test_a_wrong_password_stops_the_service_and_names_the_setting(
    gateway: GatewayBroker, tmp_path: Path, service: str
) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    catalog = Catalog(url)
    migrate(catalog.engine)
    catalog.close()
    env = gateway.service_env(service)
    env |= {"SMARTAREA_MQTT_PASSWORD": "not-the-password", "SMARTAREA_DATABASE_URL": url}
    started = time.monotonic()
    done = subprocess.run(
        python_module(service),
        env=child_env(env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert "SMARTAREA_MQTT_PASSWORD" in done.stderr
    assert "not retrying" in done.stderr
    assert "not-the-password" not in done.stderr  # the message names the setting, not its value
    assert time.monotonic() - started < 30, "it gave up at once instead of retrying forever"


def test_a_lost_broker_is_reconnected_and_subscribed_again(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path / "mosquitto").start()
    got: list[bytes] = []
    client = consumer_client("session-test", None, None, "test.paho")

    def on_message(c: mqtt.Client, u: object, m: mqtt.MQTTMessage) -> None:
        got.append(bytes(m.payload))
        c.ack(m.mid, m.qos)

    client.on_message = on_message
    changes: list[bool] = []
    session = Session(
        "session-test",
        client,
        "127.0.0.1",
        broker.port,
        filters=["smartarea/v1/+/+/report"],
        session_expiry_s=600,
        backoff_base_s=0.2,
        backoff_cap_s=1.0,
        on_connection=changes.append,
    )
    session.start()
    try:
        assert session.subscribed.wait(20)
        first_epoch = session.epoch
        broker.kill()
        deadline = time.monotonic() + 10
        while session.connected.is_set() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not session.subscribed.is_set(), "a lost connection is no longer subscribed"
        time.sleep(1.5)  # a few failed attempts while the broker is away
        broker.start()
        assert session.subscribed.wait(20), "subscribed again after the broker came back"
        assert session.epoch >= first_epoch + 2 and changes[-2:] == [False, True]
        assert session.reconnects >= 2
        sender = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        sender.connect("127.0.0.1", broker.port)
        sender.loop_start()
        sender.publish("smartarea/v1/khu-6/pc/report", b"after", qos=1).wait_for_publish(10)
        sender.disconnect()
        sender.loop_stop()
        deadline = time.monotonic() + 10
        while not got and time.monotonic() < deadline:
            time.sleep(0.05)
        assert got == [b"after"]
        assert not session.failed.is_set()
    finally:
        session.stop()
        broker.stop()
