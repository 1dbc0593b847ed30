"""The gateway against the real Mosquitto started from its generated configuration.

Each test creates a gateway folder with ``python -m gateway``'s own code, starts Mosquitto with
the ``mosquitto.conf`` it wrote, and speaks to it with real MQTT v5 clients over TLS (agents) or
loopback (ingest, API). "Never reaches ingest" is proven by a real IngestService and InfluxDB:
a later message on the same connection arrives, the forbidden one before it did not.
"""

from __future__ import annotations

import getpass
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from pydantic import SecretStr

from contract import topics
from contract.models import DeviceResult, Report
from devstack.gateway import GatewayBroker
from devstack.processes import Child, child_env, free_port, python_module
from devstack.servers import InfluxDB, Mosquitto
from gateway import certs, ops
from gateway.__main__ import main as gateway_main
from gateway.files import user_exists
from gateway.settings import GatewaySettings
from ingest.service import IngestService
from tests.integration.conftest import count_points, ingest_settings, wait_for
from tsdb.writer import InfluxV1Writer

A_AREA, B_AREA, AGENT = "son-vi-khu-6", "phuc-khanh-1", "nvh"


@dataclass
class Gateway(GatewayBroker):
    """The gateway's broker as make run starts it, with the logins the tests need."""

    @property
    def local_port(self) -> int:
        return self.port

    def service_login(self, role: str) -> tuple[str, str]:
        env = self.service_env(role)
        return env["SMARTAREA_MQTT_USERNAME"], env["SMARTAREA_MQTT_PASSWORD"]

    def agent_login(self, area: str, agent: str = AGENT) -> tuple[str, str]:
        """Provisioned through the CLI, as an operator would."""
        out = self.folder.parent / f"bundle-{area}-{agent}"
        assert gateway_main(
            ["provision-agent", "--dir", str(self.folder), "--area", area, "--agent", agent,
             "--out", str(out)]
        ) == 0  # fmt: skip
        return topics.agent_account(area, agent), (out / "broker-password").read_text().strip()


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    settings = GatewaySettings(
        hosts=["127.0.0.1"],
        agent_port=free_port(),
        agent_bind="127.0.0.1",
        local_port=free_port(),
        user=getpass.getuser(),  # as root Mosquitto would drop to "mosquitto"
    )
    ops.init(tmp_path / "gateway", settings)
    broker = Gateway(tmp_path / "gateway", settings.agent_port, settings.local_port).start()
    try:
        yield broker
    finally:
        broker.stop()


@dataclass
class Client:
    """A paho MQTT v5 client that records what happened to it."""

    name: str
    mqtt: mqtt.Client
    connack: list[ReasonCode] = field(default_factory=list)
    disconnects: list[ReasonCode] = field(default_factory=list)
    received: list[tuple[str, bytes]] = field(default_factory=list)
    suback: list[ReasonCode] = field(default_factory=list)
    answered: threading.Event = field(default_factory=threading.Event)
    subscribed: threading.Event = field(default_factory=threading.Event)
    puback: dict[int, ReasonCode] = field(default_factory=dict)

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> ReasonCode:
        """Publish at QoS 1; the reason code of the broker's PUBACK."""
        info = self.mqtt.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(timeout=10)
        assert info.is_published(), f"{self.name}: no PUBACK for {topic}"
        wait_for(lambda: info.mid in self.puback, "the PUBACK's reason code")
        return self.puback[info.mid]

    def subscribe(self, *filters: str) -> list[ReasonCode]:
        self.subscribed.clear()
        self.mqtt.subscribe([(f, 1) for f in filters])
        assert self.subscribed.wait(10), f"{self.name}: no SUBACK"
        return self.suback

    def close(self) -> None:
        self.mqtt.disconnect()
        self.mqtt.loop_stop()
        release(self.mqtt)


def release(client: mqtt.Client) -> None:
    """Close paho's wake-up socket pair now: paho leaves it to ``__del__``, and when the client
    sits in a reference cycle (our callbacks) the garbage collector may finalise the sockets
    first, which Python reports as an unclosed-socket ResourceWarning (an error here)."""
    client._reset_sockets()


def connect(
    port: int,
    login: tuple[str, str] | None,
    ca: Path | None = None,
    tls: bool = True,
    name: str = "client",
) -> Client:
    """Connect and wait for the broker's answer (``connack``) or the connection's end."""
    raw = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=name, protocol=mqtt.MQTTv5)
    client = Client(name, raw)
    if login is not None:
        raw.username_pw_set(*login)
    if tls:
        raw.tls_set(ca_certs=str(ca) if ca else None, tls_version=ssl.PROTOCOL_TLS_CLIENT)

    def on_connect(
        c: mqtt.Client, u: object, f: object, rc: ReasonCode, p: Properties | None
    ) -> None:
        client.connack.append(rc)
        client.answered.set()

    def on_disconnect(
        c: mqtt.Client, u: object, f: object, rc: ReasonCode, p: Properties | None
    ) -> None:
        client.disconnects.append(rc)
        client.answered.set()

    def on_subscribe(
        c: mqtt.Client, u: object, mid: int, rcs: list[ReasonCode], p: Properties | None
    ) -> None:
        client.suback = rcs
        client.subscribed.set()

    def on_publish(c: mqtt.Client, u: object, mid: int, rc: ReasonCode, p: Properties) -> None:
        client.puback[mid] = rc

    raw.on_connect = on_connect
    raw.on_publish = on_publish
    raw.on_disconnect = on_disconnect
    raw.on_subscribe = on_subscribe
    raw.on_message = lambda c, u, m: client.received.append((m.topic, bytes(m.payload)))
    raw.connect("127.0.0.1", port)
    raw.loop_start()
    assert client.answered.wait(10), f"{name}: no answer from the broker"
    return client


def _ok(client: Client) -> bool:
    return bool(client.connack) and not client.connack[-1].is_failure and not client.disconnects


def _refused(port: int, login: tuple[str, str] | None, ca: Path | None, tls: bool = True) -> str:
    client = connect(port, login, ca, tls=tls)
    try:
        assert not _ok(client), "the broker admitted a client it must refuse"
        return str(client.connack[-1]) if client.connack else "connection closed"
    finally:
        client.close()


def report(area: str, agent: str = AGENT, seq: int = 1) -> bytes:
    return Report(
        area_id=area,
        agent_id=agent,
        seq=seq,
        observed_at=datetime.now(UTC) - timedelta(seconds=5),
        interval_s=60,
        results=[DeviceResult(device_id="cam-01", kind="camera", status="up", duration_ms=3.0)],
    ).to_json()


def test_anonymous_wrong_password_and_revoked_agents_are_refused(gateway: Gateway) -> None:
    login = gateway.agent_login(A_AREA)
    assert _refused(gateway.agent_port, None, gateway.ca) == "Not authorized"
    assert _refused(gateway.local_port, None, None, tls=False) == "Not authorized"
    wrong = (login[0], login[1][:-1] + ("x" if login[1][-1] != "x" else "y"))
    assert _refused(gateway.agent_port, wrong, gateway.ca) == "Not authorized"
    # Each account lives on its own listener: an agent's password is useless on the server's
    # loopback, a service's password useless on the internet-facing listener.
    assert _refused(gateway.local_port, login, None, tls=False) == "Not authorized"
    ingest_login = gateway.service_login("ingest")
    assert _refused(gateway.agent_port, ingest_login, gateway.ca) == "Not authorized"

    agent = connect(gateway.agent_port, login, gateway.ca, name="agent-a")
    try:
        assert _ok(agent)
        assert gateway_main(
            ["revoke-agent", "--dir", str(gateway.folder), "--area", A_AREA, "--agent", AGENT]
        ) == 0  # fmt: skip
        # The reload re-checks connected clients: the revoked agent is cut off at once.
        wait_for(lambda: bool(agent.disconnects), "the revoked agent to be disconnected")
    finally:
        agent.close()
    assert _refused(gateway.agent_port, login, gateway.ca) == "Not authorized"


@pytest.fixture
def gateway_ingest(gateway: Gateway, influxdb: InfluxDB, tmp_path: Path) -> Iterator[IngestService]:
    """The real ingest, logged in with the account ``init`` made for it, on loopback."""
    username, password = gateway.service_login("ingest")
    local = Mosquitto(tmp_path / "unused", port=gateway.local_port)  # only its port is read
    settings = ingest_settings(
        local, influxdb, tmp_path, mqtt_username=username, mqtt_password=SecretStr(password)
    )
    service = IngestService(settings, InfluxV1Writer(influxdb.url, influxdb.database))
    service.start()
    try:
        assert service.subscribed.wait(10), "ingest did not subscribe with its account"
        yield service
    finally:
        service.stop()


def test_an_agent_cannot_report_for_another_area(
    gateway: Gateway, gateway_ingest: IngestService, influxdb: InfluxDB
) -> None:
    a = connect(gateway.agent_port, gateway.agent_login(A_AREA), gateway.ca, name="agent-a")
    gateway.agent_login(B_AREA)
    try:
        # A forged report: payload and topic both say area B, so only the broker can stop it.
        forged = [
            a.publish(topics.report_topic(B_AREA, AGENT), report(B_AREA)),
            a.publish(topics.status_topic(B_AREA, AGENT), b'{"forged": true}', retain=True),
            a.publish(topics.report_topic(A_AREA, "other"), report(A_AREA, "other")),
            a.publish(topics.command_topic(B_AREA, AGENT), b"reboot"),
            a.publish(topics.command_topic(A_AREA, AGENT), b"to itself"),
            a.publish("$SYS/broker/forged", b"x"),
            a.publish("elsewhere", b"x"),
        ]
        assert [str(rc) for rc in forged] == ["Not authorized"] * len(forged)
        # On its own topic the broker lets it through; ingest's second check (payload against
        # topic) refuses a payload that speaks for area B, with a reason and a counter.
        assert not a.publish(topics.report_topic(A_AREA, AGENT), report(B_AREA)).is_failure
        # Then its own report, on the same connection: once it is stored, the earlier ones
        # would have been delivered before it.
        assert not a.publish(topics.report_topic(A_AREA, AGENT), report(A_AREA)).is_failure
        wait_for(lambda: gateway_ingest.metrics.get("reports_stored") == 1, "A's own report")
    finally:
        a.close()
    assert gateway_ingest.metrics.get("messages_received") == 2
    assert gateway_ingest.metrics.get("dead_letters", reason="topic_mismatch") == 1
    assert count_points(influxdb, "camera", f"WHERE \"area\" = '{B_AREA}'") == 0
    assert count_points(influxdb, "camera", "WHERE \"agent\" = 'other'") == 0
    assert count_points(influxdb, "camera", f"WHERE \"area\" = '{A_AREA}'") == 1


def test_an_agent_reads_only_its_own_commands(gateway: Gateway) -> None:
    a = connect(gateway.agent_port, gateway.agent_login(A_AREA), gateway.ca, name="agent-a")
    b = connect(gateway.agent_port, gateway.agent_login(B_AREA), gateway.ca, name="agent-b")
    api = connect(gateway.local_port, gateway.service_login("api"), tls=False, name="api")
    ingest = connect(gateway.local_port, gateway.service_login("ingest"), tls=False, name="ing")
    try:
        a.subscribe(
            topics.subscription(topics.Channel.REPORT),
            topics.report_topic(B_AREA, AGENT),
            topics.status_topic(B_AREA, AGENT),
            topics.command_topic(B_AREA, AGENT),
            topics.command_topic(A_AREA, AGENT),
        )
        ingest.subscribe(topics.subscription(topics.Channel.REPORT))
        api.subscribe(topics.subscription(topics.Channel.REPORT))
        b.publish(topics.report_topic(B_AREA, AGENT), report(B_AREA))
        b.publish(topics.status_topic(B_AREA, AGENT), b"online", retain=True)
        api.publish(topics.command_topic(B_AREA, AGENT), b"for-b")
        ingest.publish(topics.report_topic(A_AREA, AGENT), b"ingest may not publish")
        api.publish(topics.command_topic(A_AREA, AGENT), b"for-a")
        wait_for(lambda: bool(a.received), "A's own command")
        wait_for(lambda: bool(ingest.received), "B's report at ingest")
    finally:
        for client in (a, b, api, ingest):
            client.close()
    assert a.received == [(topics.command_topic(A_AREA, AGENT), b"for-a")]
    assert ingest.received == [(topics.report_topic(B_AREA, AGENT), report_payload(ingest))]
    assert api.received == []  # the API account reads nothing


def report_payload(client: Client) -> bytes:
    return client.received[0][1] if client.received else b""


def test_the_agent_listener_speaks_tls_only_with_the_gateway_ca(
    gateway: Gateway, tmp_path: Path
) -> None:
    login = gateway.agent_login(A_AREA)
    # Plain MQTT on the TLS port: the broker sees garbage instead of a TLS hello and hangs up.
    plain = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="plain", protocol=mqtt.MQTTv5)
    plain.username_pw_set(*login)
    closed = threading.Event()
    plain.on_disconnect = lambda *args: closed.set()
    plain.on_connect = lambda *args: pytest.fail("a plain TCP client was admitted")
    plain.connect("127.0.0.1", gateway.agent_port)
    plain.loop_start()
    try:
        assert closed.wait(10), "the TLS listener neither refused nor closed a plain client"
    finally:
        plain.loop_stop()
        release(plain)
    # Clients that trust only the system's CAs, or another gateway's CA, refuse the broker.
    other = certs.generate(tmp_path / "other-ca", ["127.0.0.1"]).ca_cert
    for context in (ssl.create_default_context(), ssl.create_default_context(cafile=other)):
        with (
            socket.create_connection(("127.0.0.1", gateway.agent_port), timeout=5) as sock,
            pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer"),
        ):
            context.wrap_socket(sock, server_hostname="127.0.0.1")
    # One that trusts the gateway's CA connects, and checks the host name too.
    client = connect(gateway.agent_port, login, gateway.ca)
    try:
        assert _ok(client)
    finally:
        client.close()
    context = ssl.create_default_context(cafile=str(gateway.ca))
    with (
        socket.create_connection(("127.0.0.1", gateway.agent_port), timeout=5) as sock,
        pytest.raises(ssl.SSLCertVerificationError, match="match"),
    ):
        context.wrap_socket(sock, server_hostname="mqtt.elsewhere.example")


def test_reload_admits_a_new_agent_without_dropping_connected_ones(
    gateway: Gateway, gateway_ingest: IngestService
) -> None:
    a = connect(gateway.agent_port, gateway.agent_login(A_AREA), gateway.ca, name="agent-a")
    try:
        pid_before = gateway.child.proc.pid if gateway.child and gateway.child.proc else None
        b_login = gateway.agent_login(B_AREA)  # provision-agent signals the broker itself
        wait_for(lambda: "Reloading config" in gateway.log(), "the broker to reload")
        b = connect(gateway.agent_port, b_login, gateway.ca, name="agent-b")
        try:
            assert _ok(b)
            a.publish(topics.report_topic(A_AREA, AGENT), report(A_AREA))
            b.publish(topics.report_topic(B_AREA, AGENT), report(B_AREA))
            wait_for(lambda: gateway_ingest.metrics.get("reports_stored") == 2, "both reports")
        finally:
            b.close()
        assert a.disconnects == [] and len(a.connack) == 1, "A was dropped by the reload"
        assert gateway.child is not None and gateway.child.proc is not None
        assert gateway.child.proc.pid == pid_before and gateway.child.running
    finally:
        a.close()


def test_the_bundle_is_a_working_agent_configuration(
    gateway: Gateway, gateway_ingest: IngestService, influxdb: InfluxDB, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle"
    assert gateway_main(
        ["provision-agent", "--dir", str(gateway.folder), "--area", A_AREA, "--agent", AGENT,
         "--out", str(bundle)]
    ) == 0  # fmt: skip
    assert (bundle / "broker-password").stat().st_mode & 0o777 == 0o600
    check = subprocess.run(
        [sys.executable, "-m", "edge", "check-config", "agent.toml"],
        cwd=bundle,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    # The real agent, from the bundle folder, over TLS with the bundle's CA and password.
    env = child_env({"PYTHONPATH": str(Path(__file__).parents[2])})
    log = tmp_path / "agent.log"
    with Child(
        "agent", python_module("edge", "run", "agent.toml"), log, env=env, cwd=bundle
    ) as agent:
        # Fails at once, with the agent's log, if the agent exits instead.
        agent.wait_ready(lambda: gateway_ingest.metrics.get("reports_stored") >= 1, timeout=60)
    where = f"WHERE \"area\" = '{A_AREA}' AND \"device\" = 'uplink'"
    assert count_points(influxdb, "uplink", where) == 1
    password = (bundle / "broker-password").read_text().strip()
    assert "connected to the broker" in log.read_text()
    assert password not in log.read_text() + gateway.log()


@pytest.mark.skipif(
    os.geteuid() != 0 or not user_exists("mosquitto"),
    reason="the production ownership path needs root and the Debian package's mosquitto user",
)
def test_as_root_the_broker_runs_as_mosquitto_and_still_reloads() -> None:
    # pytest's tmp_path is private to root: the gateway's user could not even reach it.
    root = Path(tempfile.mkdtemp(prefix="smartarea-gateway-"))
    root.chmod(0o755)
    try:
        settings = GatewaySettings(
            hosts=["127.0.0.1"],
            agent_port=free_port(),
            agent_bind="127.0.0.1",
            local_port=free_port(),
        )
        assert settings.user == "mosquitto"
        ops.init(root / "gateway", settings)
        broker = Gateway(root / "gateway", settings.agent_port, settings.local_port).start()
        try:
            assert broker.child is not None and broker.child.proc is not None
            status = Path(f"/proc/{broker.child.proc.pid}/status").read_text()
            uid = next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:"))
            assert int(uid) == pwd.getpwnam("mosquitto").pw_uid
            login = broker.agent_login(A_AREA)  # rewrites the files and signals the broker
            wait_for(lambda: "Reloading config" in broker.log(), "the broker to reload")
            agent = connect(broker.agent_port, login, broker.ca, name="agent-a")
            try:
                assert _ok(agent), "the broker could not read its files after the reload"
                assert not agent.publish(
                    topics.report_topic(A_AREA, AGENT), report(A_AREA)
                ).is_failure
            finally:
                agent.close()
            assert "Error" not in broker.log()
        finally:
            broker.stop()
    finally:
        shutil.rmtree(root)


def test_a_commune_bridge_forwards_only_its_own_areas(
    gateway: Gateway, gateway_ingest: IngestService, influxdb: InfluxDB, tmp_path: Path
) -> None:
    out = tmp_path / "bridge-son-vi"
    assert gateway_main(
        ["provision-bridge", "--dir", str(gateway.folder), "--name", "son-vi",
         "--area", A_AREA, "--out", str(out), "--ca-path", str(out / "ca.crt")]
    ) == 0  # fmt: skip
    bridge_lines = (out / "bridge.conf").read_text().splitlines()
    assert f"topic {topics.report_topic(A_AREA, AGENT).replace(AGENT, '+')} out 1" in bridge_lines
    # A commune operator who widens the bridge still cannot speak for other areas: the
    # provincial ACL, not the commune's good will, decides.
    widened = [*bridge_lines, f"topic {topics.subscription(topics.Channel.REPORT)} out 1"]
    commune = Mosquitto(tmp_path / "commune", extra_config=widened).start()
    try:
        wait_for(lambda: "as bridge.son-vi" in gateway.log(), "the bridge to connect upstream")
        api = connect(gateway.local_port, gateway.service_login("api"), tls=False, name="api")
        local = connect(commune.port, None, tls=False, name="commune-agent")
        try:
            local.subscribe(topics.command_topic(A_AREA, AGENT))

            # The bridge subscribes upstream just after connecting: send until a command arrives.
            def command_arrived() -> bool:
                api.publish(topics.command_topic(A_AREA, AGENT), b"ping")
                return bool(local.received)

            wait_for(command_arrived, "a command through the bridge")
            local.publish(topics.report_topic(B_AREA, AGENT), report(B_AREA))
            local.publish(topics.report_topic(A_AREA, AGENT), report(A_AREA))
            wait_for(lambda: gateway_ingest.metrics.get("reports_stored") == 1, "A's report")
        finally:
            api.close()
            local.close()
    finally:
        commune.stop()
    assert gateway_ingest.metrics.get("messages_received") == 1
    assert count_points(influxdb, "camera", f"WHERE \"area\" = '{A_AREA}'") == 1
    assert count_points(influxdb, "camera", f"WHERE \"area\" = '{B_AREA}'") == 0


def test_one_account_holds_one_connection_and_rotation_cuts_the_old_password(
    gateway: Gateway,
) -> None:
    login = gateway.agent_login(A_AREA)
    first = connect(gateway.agent_port, login, gateway.ca, name="first")
    first.mqtt.reconnect_delay_set(60, 120)  # stay off once pushed out, for the assertion
    second = connect(gateway.agent_port, login, gateway.ca, name="any-client-id")
    try:
        # The broker names both by the user name: the second takes the first's session over.
        wait_for(lambda: bool(first.disconnects), "the first connection to be taken over")
        assert f"Client {login[0]} already connected, closing old connection" in gateway.log()
        assert _ok(second)
        out = gateway.folder.parent / "rotated"
        args = ["provision-agent", "--dir", str(gateway.folder), "--area", A_AREA]
        assert gateway_main([*args, "--agent", AGENT, "--rotate", "--out", str(out)]) == 0
        wait_for(lambda: bool(second.disconnects), "the old password's connection to be cut")
    finally:
        first.close()
        second.close()
    assert _refused(gateway.agent_port, login, gateway.ca) == "Not authorized"
    fresh = (login[0], (out / "broker-password").read_text().strip())
    client = connect(gateway.agent_port, fresh, gateway.ca)
    try:
        assert _ok(client)
    finally:
        client.close()


def test_ingest_workers_can_share_the_subscription_under_the_acl(gateway: Gateway) -> None:
    a = connect(gateway.agent_port, gateway.agent_login(A_AREA), gateway.ca, name="agent-a")
    login = gateway.service_login("ingest")
    workers = [connect(gateway.local_port, login, tls=False, name=f"ingest-{i}") for i in range(2)]
    try:
        for worker in workers:
            worker.subscribe(topics.shared(topics.subscription(topics.Channel.REPORT), "ingest"))
        for seq in range(10):
            a.publish(topics.report_topic(A_AREA, AGENT), report(A_AREA, seq=seq))
        wait_for(lambda: sum(len(w.received) for w in workers) == 10, "all ten reports")
    finally:
        for client in (a, *workers):
            client.close()
    assert all(worker.received for worker in workers), "the group did not split the messages"
