"""What the gateway's security costs: QoS 1 throughput and reload time with many agent accounts.

Baseline: the devstack broker (plain TCP, anonymous, no ACL). Against it, in the same run, the
gateway's generated broker with N provisioned agents: one agent publishing over TLS through its
ACL, ingest's account reading on loopback. Also the time ``provision-agent`` takes with N accounts
(it re-renders every file) and how long after the SIGHUP a new agent is admitted: the broker
serves nobody while it reloads. The same reload with the rejected design, one ACL section per
agent, is measured in the same run (Mosquitto 2.0.11 loads those in super-linear time).

The publisher is one Python paho client: at these rates it, not the broker, is the limit, so the
throughput ratio shows only that TLS and the ACL do not make the broker the bottleneck.

    .venv/bin/python benchmarks/gateway_acl.py [--messages 20000] [--agents 10 10000]
"""

from __future__ import annotations

import argparse
import getpass
import ssl
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contract import topics
from devstack.processes import Child, free_port, port_open, wait_until
from devstack.servers import Mosquitto, require_binary
from gateway import accounts, ops, passwords
from gateway.accounts import Account, Role
from gateway.settings import GatewaySettings

AREA, AGENT = "son-vi-khu-6", "nvh"


def client(port: int, login: tuple[str, str] | None, ca: Path | None, name: str) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=name, protocol=mqtt.MQTTv5)
    c.max_inflight_messages_set(100)
    if login:
        c.username_pw_set(*login)
    if ca:
        c.tls_set(ca_certs=str(ca), tls_version=ssl.PROTOCOL_TLS_CLIENT)
    ready = threading.Event()
    c.on_connect = lambda *a: ready.set()
    c.connect("127.0.0.1", port)
    c.loop_start()
    if not ready.wait(10):
        raise RuntimeError(f"{name} could not connect")
    return c


def throughput(pub: mqtt.Client, sub: mqtt.Client, messages: int) -> float:
    """Messages per second from the first publish to the subscriber holding them all."""
    got = threading.Semaphore(0)
    sub.on_message = lambda *a: got.release()
    done = threading.Event()
    sub.on_subscribe = lambda *a: done.set()
    sub.subscribe(topics.subscription(topics.Channel.REPORT), qos=1)
    done.wait(10)
    payload = b"x" * 2000  # about one report of 20 devices
    topic = topics.report_topic(AREA, AGENT)
    started = time.perf_counter()
    for _ in range(messages):
        pub.publish(topic, payload, qos=1)
    for _ in range(messages):
        if not got.acquire(timeout=60):
            raise RuntimeError("messages were lost")
    return messages / (time.perf_counter() - started)


def close(*clients: mqtt.Client) -> None:
    for c in clients:
        c.disconnect()
        c.loop_stop()


def baseline(root: Path, messages: int) -> float:
    broker = Mosquitto(root / "baseline").start()
    try:
        pub = client(broker.port, None, None, "pub")
        sub = client(broker.port, None, None, "sub")
        rate = throughput(pub, sub, messages)
        close(pub, sub)
        return rate
    finally:
        broker.stop()


def admit_after_reload(folder: Path, port: int, login: tuple[str, str]) -> float:
    """Seconds from SIGHUP until a new connection is admitted (the broker blocks to reload)."""
    ops.reload(folder)
    started = time.perf_counter()

    def admitted() -> bool:
        try:
            close(client(port, login, folder / "tls" / "ca.crt", "probe"))
        except (RuntimeError, OSError):
            return False
        return True

    wait_until(admitted, 600, "the new agent to be admitted", step=0.01)
    return time.perf_counter() - started


def explicit_acl(known: dict[str, Account]) -> str:
    """The rejected design: one ``user`` section with explicit topics per agent."""
    lines = []
    for account in known.values():
        if account.role is Role.AGENT and account.area_id and account.agent_id:
            grants = topics.agent_grants(account.area_id, account.agent_id)
            lines.append(f"user {account.username}")
            lines += [f"topic write {t}" for t in grants.publish]
            lines += [f"topic read {t}" for t in grants.subscribe]
    return "\n".join(lines) + "\n"


def gateway(
    root: Path, agents: int, messages: int, explicit_max: int
) -> tuple[float, float, float, float | None]:
    folder = root / f"gateway-{agents}"
    config = GatewaySettings(
        hosts=["127.0.0.1"],
        agent_port=free_port(),
        agent_bind="127.0.0.1",
        local_port=free_port(),
        user=getpass.getuser(),
    )
    ops.init(folder, config)
    known = accounts.load(folder)
    shared_hash = passwords.hash_password("unused")  # the fleet's other members never connect
    for i in range(agents):
        name = accounts.agent_username(f"area-{i}", "nvh")
        known[name] = Account(
            username=name,
            role=Role.AGENT,
            area_id=f"area-{i}",
            agent_id="nvh",
            password_hash=shared_hash,
            created_at=accounts.now(),
        )
    accounts.save(folder, known)
    ops.apply(folder)
    log = folder / "mosquitto.log"
    child = Child(
        "mosquitto",
        [require_binary("mosquitto", "mosquitto"), "-c", str(folder / "mosquitto.conf")],
        log,
    ).start()
    try:
        child.wait_ready(lambda: port_open(config.agent_port) and port_open(config.local_port), 60)
        started = time.perf_counter()
        issued = ops.provision_agent(folder, AREA, AGENT)
        provision_s = time.perf_counter() - started
        login = (issued.account.username, issued.password)
        admit_s = admit_after_reload(folder, config.agent_port, login)
        env = dict(
            line.split("=", 1)
            for line in (folder / "secrets" / "ingest.env").read_text().splitlines()
            if "=" in line and not line.startswith("#")
        )
        ingest_login = (env["SMARTAREA_MQTT_USERNAME"], env["SMARTAREA_MQTT_PASSWORD"])
        pub = client(config.agent_port, login, folder / "tls" / "ca.crt", "pub")
        sub = client(config.local_port, ingest_login, None, "sub")
        rate = throughput(pub, sub, messages)
        close(pub, sub)
        explicit_s = None
        if agents <= explicit_max:
            (folder / "acl-agents").write_text(explicit_acl(accounts.load(folder)))
            explicit_s = admit_after_reload(folder, config.agent_port, login)
        return rate, provision_s, admit_s, explicit_s
    finally:
        child.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--agents", type=int, nargs="+", default=[10, 10_000, 30_000, 100_000])
    parser.add_argument(
        "--explicit-max", type=int, default=30_000, help="largest N for per-agent ACL sections"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        base = baseline(root, args.messages)
        print(f"baseline (plain TCP, anonymous, no ACL): {base:,.0f} msg/s QoS 1, 2 kB each")
        for n in args.agents:
            rate, provision_s, admit_s, explicit_s = gateway(
                root, n, args.messages, args.explicit_max
            )
            print(
                f"gateway with {n:>7,} agents (TLS + ACL): {rate:,.0f} msg/s "
                f"(ratio to baseline {rate / base:.2f}); "
                f"provision-agent {provision_s * 1000:.0f} ms; "
                f"reload until admitted {admit_s * 1000:.0f} ms"
            )
            if explicit_s is not None:
                print(
                    f"  same with per-agent ACL sections: reload until admitted "
                    f"{explicit_s * 1000:.0f} ms (ratio {explicit_s / admit_s:.1f})"
                )


if __name__ == "__main__":
    main()
