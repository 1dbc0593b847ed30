"""``python -m alerts`` as a real process: its own area partition, Telegram and Zalo through their
HTTP APIs (pointed at a local receiver), secrets kept out of its log, and configuration errors that
name the variable."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from catalog.db import Catalog, migrate
from catalog.incidents import Delivery, Incident
from catalog.models import Area, Commune, Province
from contract.models import DeviceKind, Status
from devstack.processes import Child, child_env, free_port, python_module
from devstack.servers import Mosquitto
from tests.integration.alerts_harness import HttpReceiver, report, result
from tests.integration.conftest import publisher, wait_for

KHU6, KHU7, AGENT = "son-vi-khu-6", "son-vi-khu-7", "pc"
BOT_TOKEN = "123456:bi-mat-telegram"
ZALO_TOKEN = "zalo-access-token-bi-mat"


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except OSError:
        return 0, ""


def _catalog(url: str) -> None:
    catalog = Catalog(url)
    migrate(catalog.engine)
    with catalog.transaction() as session:
        session.add(Province(id="phu-tho", name="Tỉnh Phú Thọ"))
        session.add(Commune(id="son-vi", name="Xã Sơn Vi", province_id="phu-tho"))
        session.add(Area(id=KHU6, name="Khu 6", commune_id="son-vi"))
        session.add(Area(id=KHU7, name="Khu 7", commune_id="son-vi"))
    catalog.close()


def test_alerts_process_pages_by_telegram_and_zalo_for_its_own_areas(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    _catalog(url)
    receiver = HttpReceiver()
    metrics_port = free_port()
    routing = tmp_path / "routing.toml"
    routing.write_text(
        f"""
[channels.telegram]
base_url = "{receiver.url}"
token = "{BOT_TOKEN}"

[channels.zalo]
base_url = "{receiver.url}"
access_token = "{ZALO_TOKEN}"

[[routes]]
communes = ["son-vi"]
notify = [
  {{ channel = "telegram", to = "-100200300" }},
  {{ channel = "zalo", to = "8412345", language = "en" }},
]
""",
        encoding="utf-8",
    )
    env = child_env(
        {
            "SMARTAREA_MQTT_PORT": str(mosquitto.port),
            "SMARTAREA_DATABASE_URL": url,
            "SMARTAREA_ALERTS_ROUTING_FILE": str(routing),
            "SMARTAREA_ALERTS_AREAS": json.dumps([KHU6]),
            "SMARTAREA_ALERTS_GROUP_WINDOW_S": "0.2",
            "SMARTAREA_ALERTS_TICK_S": "0.05",
            "SMARTAREA_ALERTS_METRICS_PORT": str(metrics_port),
        }
    )
    alerts = Child("alerts", python_module("alerts"), tmp_path / "alerts.log", env=env)
    try:
        with alerts:
            alerts.wait_ready(lambda: _get(metrics_port, "/readyz")[0] == 200, timeout=30)
            now = datetime.now(UTC)
            with publisher(mosquitto.port) as publish:
                for area in (KHU6, KHU7):
                    for i in range(3):
                        black = result("cam-01", DeviceKind.CAMERA, Status.DOWN, "black_frame")
                        at = now + timedelta(seconds=i)
                        publish(*report(area, AGENT, i + 1, at, [black]))
            wait_for(lambda: len(receiver.requests) >= 2, "telegram and zalo")
            telegram = receiver.at(f"/bot{BOT_TOKEN}/sendMessage")
            zalo = receiver.at("/v3.0/oa/message/cs")
            assert len(telegram) == 1 and len(zalo) == 1
            assert telegram[0].json()["chat_id"] == "-100200300"
            assert "Khu 6" in telegram[0].json()["text"] and "hỏng" in telegram[0].json()["text"]
            assert zalo[0].headers["access_token"] == ZALO_TOKEN
            assert zalo[0].json()["recipient"] == {"user_id": "8412345"}
            assert "Camera cam-01: down" in zalo[0].json()["message"]["text"], "English asked"
            wait_for(
                lambda: (
                    'smartarea_alerts_deliveries_total{outcome="sent"} 2.0'
                    in _get(metrics_port, "/metrics")[1]
                ),
                "deliveries counted",
            )
            text = _get(metrics_port, "/metrics")[1]
            assert "smartarea_alerts_reports_total 3.0" in text, "only its own area's reports"
            assert "smartarea_alerts_open_incidents 1.0" in text
        assert alerts.proc is not None and alerts.proc.returncode == 0
    finally:
        receiver.close()
    catalog = Catalog(url)
    with catalog.sessions() as session:
        incidents = list(session.execute(select(Incident)).scalars())
        deliveries = list(session.execute(select(Delivery)).scalars())
    catalog.close()
    assert [(i.area_id, i.device_id) for i in incidents] == [(KHU6, "cam-01")], "only its areas"
    assert sorted(d.channel for d in deliveries) == ["telegram", "zalo"]
    log = (tmp_path / "alerts.log").read_text()
    stored = json.dumps([d.recipient for d in deliveries] + [d.error for d in deliveries])
    for secret in (BOT_TOKEN, ZALO_TOKEN):
        assert secret not in log and secret not in stored


def test_alerts_refuses_bad_settings_naming_the_variable(tmp_path: Path) -> None:
    bad = child_env(
        {
            "SMARTAREA_ALERTS_FLAP_LOW": "50",
            "SMARTAREA_DATABASE_URL": f"sqlite:///{tmp_path / 'c.sqlite'}",
        }
    )
    done = subprocess.run(
        python_module("alerts"), env=bad, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2 and "SMARTAREA_ALERTS_FLAP_LOW" in done.stderr
    routing = tmp_path / "routing.toml"
    routing.write_text('[[routes]]\nnotify = [{channel = "email", to = "a@b.vn"}]\n')
    env = child_env({"SMARTAREA_ALERTS_ROUTING_FILE": str(routing)})
    done = subprocess.run(
        python_module("alerts"), env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert "SMARTAREA_ALERTS_ROUTING_FILE" in done.stderr and "[channels.email]" in done.stderr
