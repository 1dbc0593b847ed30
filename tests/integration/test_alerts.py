"""The alerts service against the real Mosquitto, a real HTTP receiver, a real SMTP server
(aiosmtpd), a real SQLite catalog and the real API process: one page per real outage, none for
a blip.

Time is driven by the reports' observation times (a cycle every 60 s, published as fast as the
broker takes them); the grouping window, the escalation delay and the retry back-off are made
small so the suite takes seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from alerts.routing import Routing
from alerts.service import AlertService
from alerts.settings import AlertsSettings
from api.access import Role
from api.accounts import create_user, issue_token
from catalog.db import Catalog, migrate
from catalog.incidents import Delivery, Incident
from catalog.models import Area, Commune, MaintenanceWindow, Province
from contract.models import DeviceKind, PresenceState, Status
from devstack.processes import Child, child_env, free_port, port_open, python_module
from devstack.servers import Mosquitto
from tests.integration.alerts_harness import (
    HttpReceiver,
    SmtpReceiver,
    minutes,
    presence,
    report,
    result,
)
from tests.integration.conftest import publisher, wait_for

AREA, AGENT = "son-vi-khu-6", "pc-nha-van-hoa"
AREA_NAME = "Khu dân cư số 6, xã Sơn Vi"
SECRET = "bí-mật-của-webhook-0123456789"
CAMERAS = [f"cam-{i:02d}" for i in range(1, 19)]
UP, DOWN, DEGRADED = Status.UP, Status.DOWN, Status.DEGRADED


@dataclass
class Env:
    service: AlertService
    catalog: Catalog
    http: HttpReceiver
    smtp: SmtpReceiver
    mosquitto: Mosquitto
    url: str
    seq: int = 0
    published: int = 0

    def send(self, topic_payload: tuple[str, bytes]) -> None:
        with publisher(self.mosquitto.port, "alerts-test") as publish:
            publish(*topic_payload)
        self.published += 1

    def cycles(self, start: datetime, rows: list[dict[str, Status]], step_s: float = 60) -> None:
        """One report per row, ``step_s`` apart in observation time, then wait until handled."""
        with publisher(self.mosquitto.port, "alerts-test") as publish:
            for i, statuses in enumerate(rows):
                results = [
                    result(
                        device,
                        _kind(device),
                        status,
                        None
                        if status is UP
                        else ("black_frame" if status is DEGRADED else "timeout"),
                    )
                    for device, status in statuses.items()
                ]
                self.seq += 1
                publish(
                    *report(AREA, AGENT, self.seq, start + timedelta(seconds=i * step_s), results)
                )
                self.published += 1
        self.settle()

    def settle(self) -> None:
        """Every published message handled, every group sent, every delivery attempted."""
        stats = self.service.stats
        wait_for(lambda: stats.get("reports") + stats.get("presence") >= self.published, "handled")
        wait_for(
            lambda: not self.service.grouper._pending and self.service.dispatcher.idle(),
            "notifications sent",
        )

    def webhook(self) -> list[dict[str, Any]]:
        return [r.json() for r in self.http.at("/notify")]

    def incidents(self) -> list[Incident]:
        with self.catalog.sessions() as session:
            query = select(Incident).options(selectinload(Incident.devices)).order_by(Incident.id)
            return list(session.execute(query).scalars())


def _caller(base: str, token: str) -> Any:
    def call(method: str, path: str, body: Any) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    return call


def _kind(device: str) -> DeviceKind:
    if device.startswith("cam"):
        return DeviceKind.CAMERA
    return DeviceKind.UPLINK if device == "fibre" else DeviceKind.PC


def all_up(cameras: int = 3) -> dict[str, Status]:
    return {"fibre": UP, "pc": UP, **dict.fromkeys(CAMERAS[:cameras], UP)}


def with_(base: dict[str, Status], **changes: Status) -> dict[str, Status]:
    return {**base, **{k.replace("_", "-"): v for k, v in changes.items()}}


def _routing(http: HttpReceiver, smtp: SmtpReceiver) -> Routing:
    return Routing.model_validate(
        {
            "channels": {
                "webhook": {"secret": SECRET},
                "email": {"host": "127.0.0.1", "port": smtp.port, "sender": "canh-bao@xa.vn"},
            },
            "routes": [
                {
                    "communes": ["son-vi"],
                    "notify": [
                        {"channel": "webhook", "to": f"{http.url}/notify"},
                        {"channel": "email", "to": "ky-thuat@xa.vn"},
                    ],
                    "escalate": [{"channel": "webhook", "to": f"{http.url}/escalate"}],
                },
                {"areas": ["thon-khac"], "notify": [{"channel": "email", "to": "khac@xa.vn"}]},
            ],
        }
    )


def _catalog(url: str) -> Catalog:
    catalog = Catalog(url)
    migrate(catalog.engine)
    with catalog.transaction() as session:
        session.add(Province(id="phu-tho", name="Tỉnh Phú Thọ"))
        session.add(Commune(id="son-vi", name="Xã Sơn Vi", province_id="phu-tho"))
        session.add(Area(id=AREA, name=AREA_NAME, commune_id="son-vi"))
    return catalog


@pytest.fixture
def make_env(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[Any]:
    made: list[Env] = []
    http = HttpReceiver()
    smtp = SmtpReceiver()
    url = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    catalog = _catalog(url)

    def make(fail_first: int = 0, **extra: Any) -> Env:
        http.fail_first = fail_first
        settings = AlertsSettings(
            mqtt_port=mosquitto.port,
            database_url=url,
            alerts_group_window_s=0.3,
            alerts_tick_s=0.05,
            alerts_retry_base_s=0.05,
            alerts_late_after_s=30 * 86400,  # reports are in the past: only lag behind counts
            **extra,
        )
        service = AlertService(settings, _routing(http, smtp))
        service.start()
        assert service.subscribed.wait(10), "alerts did not subscribe"
        env = Env(service, catalog, http, smtp, mosquitto, url)
        made.append(env)
        return env

    try:
        yield make
    finally:
        for env in made:
            env.service.stop()
        http.close()
        smtp.close()
        catalog.close()


T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)


def test_a_blip_pages_nobody_a_black_camera_pages_once_and_recovers(make_env: Any) -> None:
    env: Env = make_env()
    base = all_up()
    env.cycles(T0, [base, base, with_(base, cam_02=DOWN), base, base, base])
    assert env.incidents() == [], "a single lost probe opened an incident"
    assert env.webhook() == [] and env.smtp.mails == []

    black = with_(base, cam_03=DEGRADED)
    env.cycles(T0 + minutes(6), [black] * 5)
    [incident] = env.incidents()
    assert (incident.kind, incident.device_id, incident.severity) == (
        "device_down",
        "cam-03",
        "degraded",
    )
    assert incident.reason == "black_frame" and incident.state == "open"
    assert incident.opened_at == T0 + minutes(6), "the incident starts at the first failing result"
    [problem] = env.webhook()
    assert problem["purpose"] == "problem" and problem["area_name"] == AREA_NAME
    assert "cam-03" in problem["text"] and "Camera" in problem["text"]
    assert "suy giảm" in problem["text"], "the message is in Vietnamese"
    signed = env.http.at("/notify")[0]
    expected = "sha256=" + hmac.new(SECRET.encode(), signed.body, hashlib.sha256).hexdigest()
    assert signed.headers["x-smartarea-signature"] == expected
    [mail] = env.smtp.mails
    assert AREA_NAME in str(mail["Subject"]) and "cam-03" in mail.get_content()

    env.cycles(T0 + minutes(11), [base] * 3)
    [incident] = env.incidents()
    assert incident.state == "resolved" and incident.resolved_at == T0 + minutes(11)
    assert [m["purpose"] for m in env.webhook()] == ["problem", "recovery"]
    assert len(env.smtp.mails) == 2 and "hoạt động trở lại" in env.smtp.mails[1].get_content()


def test_fibre_cut_one_page_for_the_area_and_the_replay_completes_the_history(
    make_env: Any,
) -> None:
    env: Env = make_env()
    base = all_up(18)
    env.cycles(T0, [base])
    # The fibre is cut: the broker publishes the agent's Will; nothing more is heard for 30 min.
    env.send(presence(AREA, AGENT, PresenceState.OFFLINE, None))
    env.settle()
    [unreachable] = env.incidents()
    assert unreachable.kind == "area_unreachable" and unreachable.state == "open"
    assert sorted(d.device_id for d in unreachable.devices) == sorted(["fibre", "pc", *CAMERAS])
    assert env.service.engine.device_status(AREA, "cam-07") == "unknown"
    assert [m["purpose"] for m in env.webhook()] == ["problem"]

    # Back: presence, a fresh cycle, then the outbox drains the 30 cycles it kept, oldest first.
    env.send(presence(AREA, AGENT, PresenceState.ONLINE, T0 + minutes(31)))
    env.cycles(T0 + minutes(31), [base, base])
    cut = {"fibre": DOWN, "pc": UP, **dict.fromkeys(CAMERAS, DOWN)}
    env.cycles(T0 + minutes(1), [cut] * 30)

    purposes = [m["purpose"] for m in env.webhook()]
    assert purposes == ["problem", "recovery"], "one page for the area, one recovery, no more"
    assert all(i["kind"] == "area_unreachable" for m in env.webhook() for i in m["items"])
    assert len(env.smtp.mails) == 2
    incidents = env.incidents()
    area = [i for i in incidents if i.kind == "area_unreachable"]
    assert len(area) == 1 and area[0].state == "resolved"
    assert area[0].resolved_at == T0 + minutes(31)
    late = [i for i in incidents if i.late]
    assert sorted(i.device_id or "" for i in late) == sorted(["fibre", *CAMERAS])
    for incident in late:  # the history is complete: true times, nobody paged
        assert incident.suppressed and incident.suppressed_by == "late"
        assert incident.opened_at == T0 + minutes(1), incident.device_id
        assert incident.resolved_at == T0 + minutes(31), incident.device_id
        assert incident.state == "resolved"
    assert env.service.engine.device_status(AREA, "cam-07") == "up"


def test_uplink_down_live_suppresses_the_cameras_behind_it(make_env: Any) -> None:
    env: Env = make_env()
    base = all_up(18)
    cut = {"fibre": DOWN, "pc": UP, **dict.fromkeys(CAMERAS, DOWN)}
    env.cycles(T0, [base, cut, cut, cut, cut, base, base])
    incidents = env.incidents()
    fibre = [i for i in incidents if i.device_id == "fibre"]
    cams = [i for i in incidents if i.device_kind == "camera"]
    assert len(fibre) == 1 and not fibre[0].suppressed
    assert len(cams) == 18 and all(c.suppressed_by == "uplink" for c in cams)
    assert all(c.state == "resolved" and c.resolved_at == T0 + minutes(5) for c in cams)
    items = [i for m in env.webhook() for i in m["items"]]
    assert {i["device_id"] for i in items} == {"fibre"}, "no camera message"
    assert [i["purpose"] for i in items] == ["problem", "recovery"]


def test_flapping_link_one_notice_and_the_final_state(make_env: Any) -> None:
    env: Env = make_env()
    base = all_up()
    flap = [with_(base, fibre=DOWN if i % 2 else UP) for i in range(14)]
    env.cycles(T0, flap)
    env.cycles(T0 + minutes(14), [base] * 20)
    incidents = env.incidents()
    assert [i.kind for i in incidents] == ["flapping"], (
        "alternating never makes 2 failures in a row"
    )
    assert incidents[0].state == "resolved"
    items = [i for m in env.webhook() for i in m["items"]]
    assert [i["purpose"] for i in items] == ["flapping", "flapping_end"]
    assert items[1]["final_status"] == "up"
    assert "hết chập chờn" in env.webhook()[-1]["text"]


def test_maintenance_window_mutes_the_message_but_not_the_incident(make_env: Any) -> None:
    env: Env = make_env()
    vn = T0.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).replace(tzinfo=None)
    with env.catalog.transaction() as session:
        session.add(
            MaintenanceWindow(
                area_id=AREA,
                device_id=None,
                starts_local=vn,
                ends_local=vn + timedelta(hours=1),
                reason="Thay camera cổng làng",
                created_by="ktv",
            )
        )
    base = all_up()
    env.cycles(T0, [base, *[with_(base, cam_01=DOWN)] * 5, base, base])
    [incident] = env.incidents()
    assert incident.suppressed_by == "maintenance" and incident.state == "resolved"
    assert env.webhook() == [] and env.smtp.mails == []


def test_silence_opens_one_area_incident(make_env: Any) -> None:
    env: Env = make_env()
    now = datetime.now(UTC)
    env.send(report(AREA, AGENT, 1, now, [result("pc", DeviceKind.PC, UP)], interval_s=0.2))
    wait_for(lambda: any(i.kind == "area_unreachable" for i in env.incidents()), "silence found")
    env.settle()
    [incident] = env.incidents()
    assert incident.reason == "silent"
    assert [m["purpose"] for m in env.webhook()] == ["problem"]


def test_acknowledgement_stops_escalation_and_retries_are_logged(
    make_env: Any, tmp_path: Path
) -> None:
    env: Env = make_env(fail_first=2, alerts_escalate_after_s=3.0)
    with env.catalog.transaction() as session:
        create_user(session, "admin", "ktv-son-vi", Role.TECHNICIAN, None, communes=["son-vi"])
        token = issue_token(session, "admin", "ktv-son-vi", "api", timedelta(hours=1))
    port = free_port()
    api = Child(
        "api",
        python_module("api"),
        tmp_path / "api.log",
        env=child_env({"SMARTAREA_DATABASE_URL": env.url, "SMARTAREA_API_PORT": str(port)}),
    )
    with api:
        api.wait_ready(lambda: port_open(port), timeout=30)
        base = all_up()
        env.cycles(T0, [base, *[with_(base, cam_01=DOWN, cam_02=DOWN)] * 3])
        first, second = env.incidents()
        assert len(env.webhook()) == 1, "two cameras of one area in one message"
        call = _caller(f"http://127.0.0.1:{port}", token)
        path = f"/areas/{AREA}/incidents/{first.id}"
        code, answer = call("POST", f"{path}/acknowledge", {"note": "Đang đến kiểm tra"})
        assert code == 200, answer
        assert answer["state"] == "acknowledged" and answer["acknowledged_by"] == "ktv-son-vi"
        assert call("POST", f"{path}/acknowledge", {})[0] == 409
        code, _ = call("POST", f"{path}/notes", {"note": "Dây nguồn bị chuột cắn"})
        assert code == 201
        wait_for(lambda: bool(env.http.at("/escalate")), "escalation sent")
        [escalation] = [r.json() for r in env.http.at("/escalate")]
        assert [i["incident_id"] for i in escalation["items"]] == [second.id]
        assert escalation["purpose"] == "escalation"

        detail = call("GET", path, None)[1]
        kinds = [e["kind"] for e in detail["events"]]
        assert kinds[:1] == ["opened"] and "acknowledged" in kinds and "note" in kinds
        assert "escalated" not in kinds
        assert any(e["note"] == "Dây nguồn bị chuột cắn" for e in detail["events"])
        listed = call("GET", "/incidents?state=open", None)[1]
        assert [i["id"] for i in listed] == [second.id]
        stats = call("GET", "/incidents/stats", None)[1]
        assert stats["incidents"] == 2 and stats["acknowledged"] == 1
        assert stats["mtta_s"] > 0

    with env.catalog.sessions() as session:
        rows = list(session.execute(select(Delivery).order_by(Delivery.id)).scalars())
    webhook = [(r.attempt, r.outcome) for r in rows if r.channel == "webhook"][:3]
    assert webhook == [(1, "failed"), (2, "failed"), (3, "sent")]
    assert all(r.error == "HTTP 500" for r in rows if r.outcome == "failed")
    assert SECRET not in json.dumps([r.recipient for r in rows])
