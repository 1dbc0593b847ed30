"""``make run``: the whole stack on this machine with a demo fleet of simulated areas.

Starts the gateway's Mosquitto (no anonymous access; ``devstack.gateway``), InfluxDB, ingest, the
API and the alerts service (``devstack.stack``), one camera simulator per demo camera (real
footage), and one real agent process per area, each provisioned with its own broker account and
reporting over TLS, then prints where to look and waits for Ctrl-C. Everything lives under
``run/`` in the checkout and is stopped on exit.

The alerts service routes every message to a local inbox (``devstack.inbox``: a signed webhook
receiver with a page), whose page also turns simulated cameras off or black, so the whole path
from a broken camera to the technician's message can be watched. The survey figures and the
digital-team decision are declared at start, so the demo area can pass its own criteria set.
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import signal
import threading
import tomllib
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from contract.topics import agent_account
from devstack.camsim import CameraFleet
from devstack.gateway import GatewayBroker
from devstack.inbox import Inbox
from devstack.processes import Child, free_port, port_open, python_module
from devstack.stack import Stack

FLEET_FILE = Path(__file__).with_name("demo_fleet.toml")
PREFERRED_API_PORT = 8000


@dataclass(frozen=True)
class DemoArea:
    id: str
    name: str
    commune_id: str
    commune: str
    province_id: str
    province: str
    agent_id: str
    cameras: int
    road: str | None = None
    camera_names: list[str] = field(default_factory=list)

    def camera_ids(self) -> list[str]:
        return [f"{self.id}/cam-{n:02d}" for n in range(1, self.cameras + 1)]

    def camera_name(self, n: int) -> str:
        """Camera ``n`` (from 1) as people call it: where it looks."""
        if n <= len(self.camera_names):
            return self.camera_names[n - 1]
        return f"Camera số {n}"

    def devices(self) -> int:
        """Devices an agent reports: the cameras, the uplink and the cultural-house PC."""
        return self.cameras + 2


def load_fleet(path: Path = FLEET_FILE) -> tuple[float, list[DemoArea]]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return float(data["interval_s"]), [DemoArea(**area) for area in data["areas"]]


def load_survey(path: Path = FLEET_FILE) -> dict[str, Any]:
    survey: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8")).get("survey", {})
    return survey


def catalog_document(areas: list[DemoArea]) -> str:
    """The demo fleet as a catalog file: loaded the way a province loads its areas."""
    provinces: dict[str, dict[str, Any]] = {}
    for area in areas:
        province = provinces.setdefault(
            area.province_id, {"id": area.province_id, "name": area.province, "communes": []}
        )
        communes = {c["id"]: c for c in province["communes"]}
        commune = communes.get(area.commune_id)
        if commune is None:
            commune = {"id": area.commune_id, "name": area.commune, "areas": []}
            province["communes"].append(commune)
        devices: list[dict[str, Any]] = [
            {
                "id": cid.split("/")[1],
                "kind": "camera",
                "name": area.camera_name(n),
                "road": area.road,
                "main_road": True,
            }
            for n, cid in enumerate(area.camera_ids(), start=1)
        ]
        devices.append({"id": "uplink", "kind": "uplink", "name": "Cáp quang nhà văn hóa"})
        # The criteria set asks for the cultural-house PC: it is the agent's own machine.
        devices.append({"id": "may-tinh", "kind": "pc", "name": "Máy tính nhà văn hóa"})
        commune["areas"].append(
            {"id": area.id, "name": area.name, "agents": [area.agent_id], "devices": devices}
        )
    document = {"version": 1, "provinces": list(provinces.values())}
    text: str = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    return text


def create_demo_users(stack: Stack, path: Path = FLEET_FILE) -> list[tuple[str, str, str]]:
    """(username, role, password) of each demo account."""
    created = []
    for user in tomllib.loads(path.read_text(encoding="utf-8")).get("users", []):
        args = ["create-user", user["username"], "--role", user["role"]]
        for commune in user.get("communes", []):
            args += ["--commune", commune]
        for area in user.get("areas", []):
            args += ["--area", area]
        output = stack.api_cli(*args)
        created.append((user["username"], user["role"], output.rsplit(":", 1)[1].strip()))
    return created


def agent_config(
    area: DemoArea,
    interval_s: float,
    broker: tuple[str, int],
    cameras: CameraFleet,
    account: str | None = None,
) -> str:
    """The agent's configuration; ``account``: its gateway account, with the bundle's ``ca.crt``
    and ``broker-password`` beside the file (TLS); none: a plain broker (docker-compose's)."""
    host, port = broker
    # A short demo interval (tests) needs short timeouts: an agent refuses a cycle it cannot finish.
    camera_timeout = min(3.0, round(interval_s / 2.5, 1))
    link_timeout = min(2.0, round(interval_s / 2.5, 1))
    lines = [
        f'area_id = "{area.id}"',
        f'agent_id = "{area.agent_id}"',
        f"interval_s = {interval_s}",
        "",
        "[broker]",
        f'host = "{host}"',
        f"port = {port}",
    ]
    if account is None:
        lines += ["tls = false  # the compose network's broker; agents over the internet use TLS"]
    else:
        lines += [
            "tls = true",
            'ca_file = "ca.crt"',
            f'auth = {{ username = "{account}", password_file = "broker-password" }}',
        ]
    for camera_id in area.camera_ids():
        lines += [
            "",
            "[[devices]]",
            f'id = "{camera_id.split("/")[1]}"',
            'type = "camera_snapshot"',
            f'url = "{cameras[camera_id].snapshot_url}"',
            f"timeout_s = {camera_timeout:g}",
        ]
    # The demo's "internet" is the broker itself: the uplink is up while it answers.
    lines += ["", "[[devices]]", 'id = "uplink"', 'type = "tcp_link"']
    lines += [f'targets = ["{host}:{port}"]', f"timeout_s = {link_timeout:g}"]
    # The PC the agent runs on (CPU, memory, disk; no NTP server in the demo).
    lines += ["", "[[devices]]", 'id = "may-tinh"', 'type = "pc"']
    return "\n".join(lines) + "\n"


def run_fleet(
    workdir: Path,
    broker: tuple[str, int],
    stop: threading.Event,
    gateway: GatewayBroker | None = None,
    interval_s: float | None = None,
    inbox: Inbox | None = None,
) -> Iterator[str]:
    """Start the simulated cameras and one agent per area; yields once running, stops after.
    With ``gateway``, each agent is provisioned there first (its own account, TLS); with
    ``inbox``, its page gets the switch that puts faults on the cameras."""
    fleet_interval, areas = load_fleet()
    interval_s = interval_s or fleet_interval
    with CameraFleet([c for a in areas for c in a.camera_ids()]) as cameras:
        if inbox is not None:
            inbox.cameras = {
                cid: f"{area.camera_name(n)} — {area.name}, {area.commune}"
                for area in areas
                for n, cid in enumerate(area.camera_ids(), start=1)
            }
            inbox.set_fault = lambda camera, fault: cameras[camera].set_fault(fault)
        agents = []
        try:
            for area in areas:
                config = workdir / "agents" / area.id / "agent.toml"
                config.parent.mkdir(parents=True, exist_ok=True)
                account = None
                if gateway is not None:
                    gateway.provision(area.id, area.agent_id, config.parent)
                    account = agent_account(area.id, area.agent_id)
                text = agent_config(area, interval_s, broker, cameras, account)
                config.write_text(text, encoding="utf-8")
                argv = python_module("edge", "run", str(config))
                agents.append(Child(f"agent {area.id}", argv, config.parent / "agent.log").start())
            yield f"{len(areas)} areas, one report every {interval_s:g} s"
            while not stop.wait(0.2):  # short slices: see edge.agent._sleep_until for why
                pass
        finally:
            for agent in agents:
                agent.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument("--workdir", type=Path, default=Path.cwd() / "run")
    parser.add_argument(
        "--interval-s", type=float, help="probe interval of the demo agents (default: the fleet's)"
    )
    parser.add_argument(
        "--fleet-only",
        metavar="HOST:PORT",
        help="only the simulated cameras and agents, reporting to this broker (docker-compose)",
    )
    args = parser.parse_args(argv)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    shutil.rmtree(args.workdir, ignore_errors=True)
    if args.fleet_only:
        host, _, port = args.fleet_only.rpartition(":")
        for summary in run_fleet(args.workdir, (host, int(port)), stop, None, args.interval_s):
            print(f"demo fleet running: {summary}", flush=True)
        return 0

    print("Đang khởi động / starting: Mosquitto, InfluxDB, ingest, API…", flush=True)
    api_port = free_port() if port_open(PREFERRED_API_PORT) else PREFERRED_API_PORT
    with Stack(args.workdir, api_port=api_port, secure=True) as stack:
        stack.load_catalog(catalog_document(load_fleet()[1]))
        stack.api_cli("load-criteria")  # the shipped criteria sets
        users = create_demo_users(stack)
        declare_survey(stack)
        gateway = stack.mosquitto
        assert isinstance(gateway, GatewayBroker)  # noqa: S101 - secure=True above
        broker = ("127.0.0.1", gateway.agent_port)
        rollups = Child(
            "rollup-job",
            python_module("api", "rollup-job", "--every-s", "300"),
            args.workdir / "rollup-job.log",
            env=stack.env(),
        ).start()
        # Incidents for the dashboard's board, and every message to the local inbox.
        inbox = Inbox(secrets.token_urlsafe(24)).start()
        routing = args.workdir / "alerts-routing.toml"
        routing.write_text(routing_file(inbox, stack.api_url), encoding="utf-8")
        alerts_env = {
            **stack.env("alerts"),
            "SMARTAREA_ALERTS_ROUTING_FILE": str(routing),
            "SMARTAREA_ALERTS_GROUP_WINDOW_S": "5",  # a demo: news within seconds
        }
        alerts = Child(
            "alerts", python_module("alerts"), args.workdir / "alerts.log", env=alerts_env
        ).start()
        try:
            for _ in run_fleet(args.workdir, broker, stop, gateway, args.interval_s, inbox):
                fleet = (args.interval_s or load_fleet()[0], load_fleet()[1])
                _print_welcome(stack, fleet, users, args.workdir, inbox)
        finally:
            alerts.stop()
            rollups.stop()
            inbox.stop()
        print("\nĐã dừng / stopped.", flush=True)
    return 0


def routing_file(inbox: Inbox, dashboard_url: str) -> str:
    """Every area's messages, and escalations, to the inbox's webhook, linking to the dashboard."""
    secret = inbox.secret.decode()
    return f"""dashboard_url = "{dashboard_url}"

[channels.webhook]
secret = "{secret}"

[[routes]]
notify = [{{ channel = "webhook", to = "{inbox.hook_url}", language = "vi" }}]
escalate = [{{ channel = "webhook", to = "{inbox.hook_url}", language = "vi" }}]
"""


def declare_survey(stack: Stack, path: Path = FLEET_FILE) -> None:
    """The survey figures and the digital-team decision of every demo area, through the API as
    a commune officer would enter them (each with its source document)."""
    survey = load_survey(path)
    if not survey:
        return
    today = date.today()
    start = today.replace(month=1, day=1)
    end = today.replace(month=12, day=31)
    headers = {"Authorization": f"Bearer {stack.api_token}"}
    for area in load_fleet(path)[1]:
        for figure in ("households", "households_fibre", "adults", "adults_smartphone"):
            body = {
                "figure": figure,
                "value": survey[figure],
                "source_document": survey["source_document"],
                "document_date": start.isoformat(),
                "valid_from": start.isoformat(),
                "valid_to": end.isoformat(),
            }
            _post(
                f"{stack.api_url}/areas/{area.id}/declarations",
                json.dumps(body).encode(),
                {**headers, "Content-Type": "application/json"},
            )
        _upload_decision(stack, area, start, headers)


def _upload_decision(stack: Stack, area: DemoArea, day: date, headers: dict[str, str]) -> None:
    boundary = secrets.token_hex(12)
    text = (
        f"QUYẾT ĐỊNH thành lập Tổ công nghệ số cộng đồng {area.name}, {area.commune} "
        "(văn bản mẫu của bản demo)"
    )
    fields = {
        "kind": "digital_team_decision",
        "title": f"Quyết định thành lập Tổ công nghệ số cộng đồng {area.name}",
        "document_date": day.isoformat(),
        "filename": "quyet-dinh-to-cong-nghe-so.txt",
        "media_type": "text/plain",
    }
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="quyet-dinh.txt"\r\nContent-Type: text/plain\r\n\r\n{text}\r\n'
    )
    body = ("".join(parts) + f"--{boundary}--\r\n").encode()
    content_type = f"multipart/form-data; boundary={boundary}"
    _post(
        f"{stack.api_url}/areas/{area.id}/documents",
        body,
        {**headers, "Content-Type": content_type},
    )


def _post(url: str, body: bytes, headers: dict[str, str]) -> None:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our API
        response.read()


def _print_welcome(
    stack: Stack,
    fleet: tuple[float, list[DemoArea]],
    users: list[tuple[str, str, str]],
    workdir: Path,
    inbox: Inbox | None = None,
) -> None:
    interval_s, areas = fleet
    auth = f"Authorization: Bearer {stack.api_token}"
    gateway = stack.mosquitto
    agents_url = gateway.agent_url if isinstance(gateway, GatewayBroker) else "-"
    print(f"""
smartarea is running — đang chạy.

  Dashboard:      {stack.api_url}/ui         (log in with a demo account below)
  Alert inbox:    {inbox.url if inbox else "-"}   (messages sent to technicians; fault switch)
  API:            {stack.api_url}            (OpenAPI: {stack.api_url}/docs)
  API token:      {stack.api_token}
  ingest metrics: {stack.metrics_url}
  MQTT broker:    {stack.mosquitto.url} (services; their accounts in {workdir}/gateway/secrets/)
                  {agents_url} (agents: TLS, one account each, see python -m gateway)
  InfluxDB:       {stack.influxdb.url}  (database "{stack.influxdb.database}")
  logs and data:  {workdir}/

Demo areas (one report every {interval_s:g} s):""")
    for area in areas:
        print(
            f"  - {area.name}, {area.commune}, {area.province}: {area.cameras} camera, uplink, PC"
        )
        print(f"      curl -s -H '{auth}' {stack.api_url}/areas/{area.id}/status")
    print("\nDemo accounts (log in at POST /auth/token):")
    for username, role, password in users:
        print(f"  - {username:<16} {role:<11} password: {password}")
    print("\nCtrl-C để dừng / to stop.", flush=True)
