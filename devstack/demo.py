"""``make run``: the whole stack on this machine with a demo fleet of simulated areas.

Starts Mosquitto, InfluxDB, ingest and the API (``devstack.stack``), one camera simulator per demo
camera (real footage), and one real agent process per area, then prints where to look and waits
for Ctrl-C. Everything lives under ``run/`` in the checkout and is stopped on exit.
"""

from __future__ import annotations

import shutil
import signal
import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path

from devstack.camsim import CameraFleet
from devstack.processes import Child, python_module
from devstack.stack import Stack

FLEET_FILE = Path(__file__).with_name("demo_fleet.toml")


@dataclass(frozen=True)
class DemoArea:
    id: str
    name: str
    commune: str
    province: str
    agent_id: str
    cameras: int

    def camera_ids(self) -> list[str]:
        return [f"{self.id}/cam-{n:02d}" for n in range(1, self.cameras + 1)]


def load_fleet(path: Path = FLEET_FILE) -> tuple[float, list[DemoArea]]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return float(data["interval_s"]), [DemoArea(**area) for area in data["areas"]]


def agent_config(area: DemoArea, interval_s: float, stack: Stack, cameras: CameraFleet) -> str:
    lines = [
        f'area_id = "{area.id}"',
        f'agent_id = "{area.agent_id}"',
        f"interval_s = {interval_s}",
        "",
        "[broker]",
        'host = "127.0.0.1"',
        f"port = {stack.mosquitto.port}",
        "tls = false  # loopback only; agents over the internet use the gateway's TLS listener",
    ]
    for camera_id in area.camera_ids():
        lines += [
            "",
            "[[devices]]",
            f'id = "{camera_id.split("/")[1]}"',
            'type = "camera_snapshot"',
            f'url = "{cameras[camera_id].snapshot_url}"',
            "timeout_s = 3",
        ]
    lines += [
        "",
        "[[devices]]",
        'id = "uplink"',
        'type = "tcp_link"',
        f'targets = ["127.0.0.1:{stack.mosquitto.port}", "127.0.0.1:{stack.influxdb.port}"]',
        "timeout_s = 2",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    workdir = Path.cwd() / "run"
    shutil.rmtree(workdir, ignore_errors=True)
    interval_s, areas = load_fleet()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    print("Đang khởi động / starting: Mosquitto, InfluxDB, ingest, API…", flush=True)
    with Stack(workdir) as stack, CameraFleet([c for a in areas for c in a.camera_ids()]) as cameras:
        agents = []
        for area in areas:
            config = workdir / "agents" / area.id / "agent.toml"
            config.parent.mkdir(parents=True, exist_ok=True)
            config.write_text(agent_config(area, interval_s, stack, cameras), encoding="utf-8")
            argv = python_module("edge", "run", str(config))
            agents.append(Child(f"agent {area.id}", argv, config.parent / "agent.log").start())
        try:
            _print_welcome(stack, areas, interval_s, workdir)
            stop.wait()
        finally:
            print("\nĐang dừng / stopping…", flush=True)
            for agent in agents:
                agent.stop()
    return 0


def _print_welcome(stack: Stack, areas: list[DemoArea], interval_s: float, workdir: Path) -> None:
    auth = f"Authorization: Bearer {stack.api_token}"
    print(f"""
smartarea is running — đang chạy.

  API:            {stack.api_url}            (OpenAPI: {stack.api_url}/docs)
  API token:      {stack.api_token}
  ingest metrics: {stack.metrics_url}
  MQTT broker:    {stack.mosquitto.url}
  InfluxDB:       {stack.influxdb.url}  (database "{stack.influxdb.database}")
  logs and data:  {workdir}/

Demo areas (one report every {interval_s:g} s):""")
    for area in areas:
        print(f"  - {area.name}, {area.commune}, {area.province}: {area.cameras} camera + uplink")
        print(f"      curl -s -H '{auth}' {stack.api_url}/areas/{area.id}/status")
    print("\nCtrl-C để dừng / to stop.", flush=True)
