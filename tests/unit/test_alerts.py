"""The alerts engine, routing, messages and delivery without servers."""

from __future__ import annotations

import threading
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from alerts.delivery import Attempt, Dispatcher, Grouper
from alerts.engine import Closed, Engine, Opened, Rules, Thresholds, flap_percent
from alerts.messages import Item, Message, Names, render
from alerts.metrics import GAUGES, AlertMetrics
from alerts.routing import Contact, Routing, RoutingError, load
from alerts.senders import SendError, sign
from alerts.settings import AlertsSettings
from contract.fastreport import ReceivedReport, received
from contract.models import (
    DeviceKind,
    DeviceResult,
    Presence,
    PresenceState,
    Report,
    Status,
)
from devstack.processes import wait_until

T0 = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)


def res(device: str, kind: DeviceKind, status: Status) -> DeviceResult:
    reason = None if status is Status.UP else "timeout"
    return DeviceResult(device_id=device, kind=kind, status=status, reason=reason, duration_ms=1)


def rep(minute: float, *results: DeviceResult, agent: str = "pc") -> ReceivedReport:
    return received(
        Report(
            area_id="khu-6",
            agent_id=agent,
            seq=int(minute * 10),
            observed_at=T0 + timedelta(minutes=minute),
            interval_s=60,
            results=list(results),
        )
    )


def cam(status: Status, device: str = "cam-01") -> DeviceResult:
    return res(device, DeviceKind.CAMERA, status)


def fibre(status: Status) -> DeviceResult:
    return res("fibre", DeviceKind.UPLINK, status)


UP, DOWN = Status.UP, Status.DOWN


def run(engine: Engine, reports: list[ReceivedReport]) -> list[Opened | Closed]:
    return [e for r in reports for e in engine.report(r, r.observed_at)]


def test_n_failures_open_m_good_close_with_true_times() -> None:
    engine = Engine(Rules(thresholds={"camera": Thresholds(3, 2)}))
    effects = run(engine, [rep(i, cam(s)) for i, s in enumerate([UP, DOWN, DOWN, UP, DOWN])])
    assert effects == [], "two failures in a row are below the threshold of three"
    effects = run(engine, [rep(5 + i, cam(s)) for i, s in enumerate([DOWN, DOWN, UP, UP])])
    opened, closed = effects
    assert isinstance(opened, Opened) and isinstance(closed, Closed)
    assert opened.at == T0 + timedelta(minutes=4), "opened at the first failing result"
    assert opened.pages
    assert closed.at == T0 + timedelta(minutes=7), "closed at the first good result"


def test_default_thresholds_never_page_on_one_lost_result() -> None:
    engine = Engine()
    for kind in DeviceKind:
        reports = [rep(i, res("d", kind, s)) for i, s in enumerate([UP, DOWN, UP, DOWN, UP])]
        assert run(engine, reports) == [], kind


def test_uplink_down_suppresses_cameras_not_other_kinds() -> None:
    engine = Engine()
    speaker = res("loa-1", DeviceKind.SPEAKER, DOWN)
    effects = run(engine, [rep(i, cam(DOWN), speaker, fibre(DOWN)) for i in range(3)])
    by_device = {e.key[2]: e for e in effects if isinstance(e, Opened)}
    assert by_device["fibre"].pages
    assert by_device["cam-01"].suppressed_by == "uplink"
    assert by_device["loa-1"].pages, "a loudspeaker is not behind the fibre's suppression"
    # Suppression never hides a recovery: the closings come, the recorder pages those paged.
    closings = run(
        engine,
        [rep(3 + i, cam(UP), fibre(UP), res("loa-1", DeviceKind.SPEAKER, UP)) for i in range(2)],
    )
    assert {e.key[2] for e in closings if isinstance(e, Closed)} == {"fibre", "cam-01", "loa-1"}


def test_offline_presence_opens_one_area_incident_and_devices_become_unknown() -> None:
    engine = Engine()
    run(engine, [rep(0, cam(UP), fibre(UP))])
    offline = Presence(area_id="khu-6", agent_id="pc", state=PresenceState.OFFLINE)
    [opened] = engine.presence(offline, NOW)
    assert isinstance(opened, Opened) and opened.kind == "area_unreachable"
    assert opened.devices == ("cam-01", "fibre")
    assert engine.device_status("khu-6", "cam-01") == "unknown"
    assert engine.presence(offline, NOW) == [], "one incident, not one per Will"
    online = Presence(area_id="khu-6", agent_id="pc", state=PresenceState.ONLINE, at=NOW)
    [closed] = engine.presence(online, NOW)
    assert isinstance(closed, Closed) and closed.at == NOW


def test_silence_for_k_intervals_opens_area_unreachable() -> None:
    engine = Engine(Rules(silence_intervals=3))
    engine.report(rep(0, cam(UP)), T0)
    assert engine.tick(T0 + timedelta(seconds=179)) == []
    [opened] = engine.tick(T0 + timedelta(seconds=180))
    assert isinstance(opened, Opened) and opened.reason == "silent"
    assert opened.at == T0 + timedelta(seconds=60), "unreachable since the missed report"
    assert engine.tick(T0 + timedelta(seconds=500)) == []
    [closed] = engine.report(rep(9, cam(UP)), T0 + timedelta(seconds=540))
    assert isinstance(closed, Closed) and closed.at == T0 + timedelta(minutes=9)


def test_late_reports_make_past_incidents_and_leave_the_live_state_alone() -> None:
    engine = Engine()
    run(engine, [rep(0, cam(UP)), rep(31, cam(UP)), rep(32, cam(UP))])
    effects = run(engine, [rep(i, cam(DOWN)) for i in range(1, 31)])
    opened = [e for e in effects if isinstance(e, Opened)]
    assert len(opened) == 1 and opened[0].late and opened[0].suppressed_by == "late"
    assert opened[0].at == T0 + timedelta(minutes=1)
    assert {e.at for e in effects if isinstance(e, Closed)} == {T0 + timedelta(minutes=31)}
    assert engine.device_status("khu-6", "cam-01") == "up"
    assert engine.is_late(rep(33, cam(UP)), T0 + timedelta(minutes=33)) is False
    assert engine.is_late(rep(33, cam(UP)), T0 + timedelta(minutes=44)), "older than 10 min"


def test_flap_percent_weights_recent_changes_more() -> None:
    alternating = deque([i % 2 == 0 for i in range(21)], maxlen=21)
    assert flap_percent(alternating) == pytest.approx(100.0)
    steady = deque([True] * 21, maxlen=21)
    assert flap_percent(steady) == 0
    old = deque([True, False] + [False] * 19, maxlen=21)
    new = deque([True] * 20 + [False], maxlen=21)
    assert flap_percent(new) > flap_percent(old)


def test_flapping_is_reported_once_with_hysteresis_and_a_final_state() -> None:
    engine = Engine(Rules(flap_high=30, flap_low=25))
    flap = [rep(i, fibre(UP if i % 2 else DOWN)) for i in range(20)]
    effects = run(engine, flap)
    assert [(type(e).__name__, e.key[1]) for e in effects] == [("Opened", "flapping")]
    calm = run(engine, [rep(20 + i, fibre(DOWN)) for i in range(25)])
    flap_end = [e for e in calm if e.key[1] == "flapping"]
    assert len(flap_end) == 1 and isinstance(flap_end[0], Closed)
    assert flap_end[0].final_status == "down"
    down = [e for e in calm if e.key[1] == "device_down"]
    assert len(down) == 1 and isinstance(down[0], Opened)
    assert down[0].suppressed_by == "flapping", "the flapping notice already says it"


def test_maintenance_mutes_openings() -> None:
    muted_device = "cam-01"

    def muted(area: str, device: str | None, at: datetime) -> bool:
        return device == muted_device

    engine = Engine(muted=muted)
    effects = run(engine, [rep(i, cam(DOWN), cam(DOWN, "cam-02")) for i in range(3)])
    by_device = {e.key[2]: e for e in effects if isinstance(e, Opened)}
    assert by_device["cam-01"].suppressed_by == "maintenance"
    assert by_device["cam-02"].pages


def test_restore_reopens_what_a_previous_run_left_open() -> None:
    engine = Engine()
    assert engine.restore("khu-6", "pc", "device_down", "cam-01") == (
        "khu-6",
        "device_down",
        "cam-01",
    )
    [closed] = run(engine, [rep(0, cam(UP)), rep(1, cam(UP))])
    assert isinstance(closed, Closed) and closed.key[2] == "cam-01"


def _message(*items: Item, area_name: str | None = "Khu dân cư số 6") -> Message:
    return Message("m1", "khu-6", area_name, "son-vi", items, incident_ids=(7,))


def test_messages_in_vietnamese_with_english_fallback() -> None:
    item = Item("problem", 7, "device_down", T0, "cam-01", "camera", "down", "timeout")
    subject, body = render(_message(item), "vi")
    assert subject == "[Cảnh báo] Khu dân cư số 6: 1 sự cố"
    assert "08:00:00 ngày 28/11/2026" in body, "times in Vietnam time, with their date"
    assert "Camera cam-01: hỏng, thiết bị không trả lời, từ" in body and "#7" in body
    subject, body = render(_message(item), "en")
    assert subject.startswith("[Alert]") and "Camera cam-01: down" in body
    assert render(_message(item), "fr")[0].startswith("[Alert]")
    back = Item("recovery", 7, "area_unreachable", T0)
    assert render(_message(back, area_name=None), "vi")[0] == "[Đã khôi phục] khu-6"


NAMES = Names(
    area="Khu 6",
    commune="Xã Sơn Vi",
    province="Tỉnh Phú Thọ",
    devices={"cam-01": "Cổng chợ Sơn Vi"},
    link="http://127.0.0.1:8000/ui/areas/khu-6",
)


def test_messages_say_places_devices_and_faults_in_words_with_a_link() -> None:
    item = Item("problem", 7, "device_down", T0, "cam-01", "camera", "down", "black")
    subject, body = render(_message(item), "vi", NAMES)
    assert subject == "[Cảnh báo] Khu 6, Xã Sơn Vi, Tỉnh Phú Thọ: 1 sự cố"
    assert "Camera Cổng chợ Sơn Vi: hỏng, hình ảnh bị đen, từ 08:00:00 ngày 28/11/2026" in body
    assert "black" not in body and "cam-01" not in body, "no probe code, no device id"
    assert "Xem chi tiết: http://127.0.0.1:8000/ui/areas/khu-6" in body
    # A code without words is not shown raw either.
    odd = Item("problem", 8, "device_down", T0, "cam-01", "camera", "down", "weird_code_42")
    assert "weird_code_42" not in render(_message(odd), "vi", NAMES)[1]


def test_an_outage_over_within_the_window_is_told_as_over_not_as_an_alarm() -> None:
    lost = Item("problem", 9, "area_unreachable", T0, severity="unknown")
    back = Item("recovery", 9, "area_unreachable", T0 + timedelta(seconds=40))
    subject, body = render(_message(lost, back), "vi", NAMES)
    assert not subject.startswith("[Cảnh báo]"), subject
    assert (
        subject == "[Đã tự hết] Khu 6, Xã Sơn Vi, Tỉnh Phú Thọ: 1 sự cố ngắn, nay đã hoạt động lại"
    )
    assert "từ 08:00:00 ngày 28/11/2026 đến 08:00:40 ngày 28/11/2026 (40 giây)" in body
    assert body.count("•") == 1, "one line for the outage and its end"
    # One still going beside one over: still an alarm.
    cam = Item("problem", 10, "device_down", T0, "cam-01", "camera", "down", "frozen")
    assert render(_message(lost, back, cam), "vi", NAMES)[0].startswith("[Cảnh báo]")


def test_routing_by_commune_and_area(tmp_path: Path) -> None:
    routing = Routing.model_validate(
        {
            "channels": {"email": {"host": "smtp", "sender": "a@b.vn"}},
            "routes": [
                {"communes": ["son-vi"], "notify": [{"channel": "email", "to": "ktv@x.vn"}]},
                {"areas": ["khu-6"], "notify": [{"channel": "email", "to": "truong@x.vn"}]},
                {"notify": [{"channel": "email", "to": "trung-tam@x.vn"}]},
            ],
        }
    )
    assert [c.to for c in routing.contacts("khu-6", "son-vi", False)] == [
        "ktv@x.vn",
        "truong@x.vn",
        "trung-tam@x.vn",
    ]
    assert [c.to for c in routing.contacts("khu-9", "khac", False)] == ["trung-tam@x.vn"]
    assert routing.contacts("khu-6", "son-vi", True) == []


def test_routing_file_errors_name_the_field(tmp_path: Path) -> None:
    path = tmp_path / "routing.toml"
    path.write_text('[[routes]]\nnotify = [{channel = "zalo", to = "84123"}]\n', encoding="utf-8")
    with pytest.raises(RoutingError, match=r"\[channels.zalo\] is not configured"):
        load(path)
    path.write_text('[channels.webhook]\nsecret = "short"\n', encoding="utf-8")
    with pytest.raises(RoutingError, match=r"channels\.webhook\.secret"):
        load(path)
    path.write_text("[[routes]\n", encoding="utf-8")
    with pytest.raises(RoutingError, match="not valid TOML"):
        load(path)
    with pytest.raises(RoutingError, match="cannot read"):
        load(tmp_path / "missing.toml")


def test_settings_refuse_a_low_flap_threshold_above_the_high_one() -> None:
    with pytest.raises(ValidationError, match="SMARTAREA_ALERTS_FLAP_LOW"):
        AlertsSettings(alerts_flap_low=40, alerts_flap_high=30)
    with pytest.raises(ValidationError, match="both counts"):
        AlertsSettings(alerts_thresholds={DeviceKind.CAMERA: (0, 2)})


def test_signature_is_hmac_sha256_of_the_body() -> None:
    # The well-known HMAC-SHA256 example (key "key", the quick brown fox).
    body = b"The quick brown fox jumps over the lazy dog"
    assert sign(b"key", body) == (
        "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    )


def test_grouper_makes_one_message_per_area_per_window() -> None:
    grouper = Grouper(window_s=0)
    for i in range(18):
        grouper.add("khu-6", "Khu 6", "son-vi", Item("problem", i, "device_down", T0))
    grouper.add("khu-7", None, None, Item("problem", 99, "device_down", T0))
    messages = grouper.due()
    assert sorted(len(m.items) for m in messages) == [1, 18]
    assert grouper.due() == []


def test_dispatcher_retries_with_backoff_then_gives_up() -> None:
    routing = Routing.model_validate(
        {
            "channels": {"webhook": {"secret": "0123456789abcdef"}},
            "routes": [{"notify": [{"channel": "webhook", "to": "http://x"}]}],
        }
    )
    log: list[Attempt] = []
    lock = threading.Lock()

    def failing(message: Message, contact: Contact) -> None:
        raise SendError("HTTP 503")

    def record(attempt: Attempt) -> None:
        with lock:
            log.append(attempt)

    dispatcher = Dispatcher(routing, failing, record, attempts=3, base_s=0.01, max_s=0.02)
    dispatcher.start()
    try:
        assert dispatcher.submit(_message(Item("problem", 1, "device_down", T0))) == 1
        wait_until(lambda: len(log) == 3, 5, "three attempts")
    finally:
        dispatcher.stop()
    assert [(a.attempt, a.outcome) for a in log] == [(1, "failed"), (2, "failed"), (3, "gave_up")]
    assert dispatcher.gave_up == 1


def test_every_alerts_metric_is_documented_and_counts_from_many_threads() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "alerts.md").read_text(encoding="utf-8")
    stats = AlertMetrics({name: lambda: 0.0 for name in GAUGES})
    for family in stats.registry.collect():
        assert f"`_{family.name.removeprefix('smartarea_alerts_')}" in doc, family.name

    def count() -> None:
        for _ in range(20_000):
            stats.inc("deliveries", "sent")

    threads = [threading.Thread(target=count) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stats.get("deliveries", "sent") == 80_000  # a bare Counter[str] += lost some
