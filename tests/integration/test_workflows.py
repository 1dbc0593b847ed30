"""What a technician, a village leader and an auditor do, walked in a real Chromium at phone size
against the real stack, with a screenshot of every step in test-artifacts/workflows/.

The area's recent history is published as an agent would (reports for the last 20 minutes: a
camera black since 12 minutes ago, another that failed and came back), and the incidents the
alerts service would have opened are in the catalog. One stack serves the three roles in turn.
"""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from selenium.webdriver.common.by import By

from catalog.db import Catalog
from catalog.incidents import Incident, IncidentEvent
from contract import topics
from contract.models import DeviceKind, DeviceResult, Presence, PresenceState, Report, Status
from devstack.stack import Stack
from tests.integration.conftest import api_get, publisher, wait_for
from tests.integration.test_dashboard import (  # noqa: F401 - fixtures
    AREA_A,
    AREA_C,
    PHONE,
    Browser,
    assert_local_and_clean,
    browser,
    fleet,
)
from tests.integration.test_dashboard import pytestmark as dashboard_mark

pytestmark = dashboard_mark
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "workflows"
SET = "khu6-son-vi-2025"
# Words that must never reach a Vietnamese page: English leaks, code names, empty values.
LEAKS = ("null", "undefined", "NaN", "percent", "devices", "silent", "nhà văn hoá", "device_id")


def shot(chrome: Browser, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = chrome.screenshot(name)
    path.replace(SHOTS / path.name)


def history(stack: Stack, now: datetime) -> None:
    """Reports every minute for the last 20 minutes: cam-01 black since -12 min; cam-02 not
    answering from -12 to -5 min; the uplink up throughout; the agent online."""
    with publisher(stack.mosquitto.port) as publish:
        presence = Presence(area_id=AREA_A, agent_id="nvh", state=PresenceState.ONLINE, at=now)
        publish(topics.status_topic(AREA_A, "nvh"), presence.to_json())
        for seq, minutes in enumerate(range(20, -1, -1), start=1):
            at = now - timedelta(minutes=minutes)
            cam1 = ("down", "black") if minutes <= 12 else ("up", None)
            cam2 = ("down", "timeout") if 5 < minutes <= 12 else ("up", None)
            results = [
                DeviceResult(
                    device_id="cam-01",
                    kind=DeviceKind.CAMERA,
                    status=Status(cam1[0]),
                    reason=cam1[1],
                    duration_ms=40.0,
                ),
                DeviceResult(
                    device_id="cam-02",
                    kind=DeviceKind.CAMERA,
                    status=Status(cam2[0]),
                    reason=cam2[1],
                    duration_ms=40.0,
                ),
                DeviceResult(
                    device_id="uplink", kind=DeviceKind.UPLINK, status=Status.UP, duration_ms=3.0
                ),
            ]
            report = Report(
                area_id=AREA_A,
                agent_id="nvh",
                seq=seq,
                observed_at=at,
                interval_s=60,
                results=results,
            )
            publish(topics.report_topic(AREA_A, "nvh"), report.to_json())

    def stored() -> bool:
        agents = api_get(stack, f"/areas/{AREA_A}/status")[1]["agents"]
        return bool(agents) and agents[0]["seq"] == 21

    wait_for(stored, "the last report stored")


def incidents(stack: Stack, now: datetime) -> None:
    """What the alerts service opened: cam-01 black, cam-02 not answering, area C silent."""
    catalog = Catalog(f"sqlite:///{stack.workdir / 'catalog.sqlite'}")
    try:
        with catalog.transaction() as session:
            for area, kind, device, reason in (
                (AREA_A, "device_down", "cam-01", "black"),
                (AREA_A, "device_down", "cam-02", "timeout"),
                (AREA_C, "area_unreachable", None, None),
            ):
                incident = Incident(
                    area_id=area,
                    agent_id="nvh",
                    kind=kind,
                    device_id=device,
                    device_kind="camera" if device else None,
                    severity="down",
                    reason=reason,
                    state="open",
                    opened_at=now - timedelta(minutes=12),
                )
                incident.events.append(
                    IncidentEvent(at=incident.opened_at, kind="opened", actor="alerts")
                )
                session.add(incident)
    finally:
        catalog.close()


def page_text(chrome: Browser) -> str:
    text: str = chrome.js("return document.body.innerText")
    return text


def assert_no_leaks(chrome: Browser, where: str) -> None:
    text = page_text(chrome)
    found = [word for word in LEAKS if re.search(rf"\b{re.escape(word)}\b", text)]
    assert not found, f"{where}: {found} on the page"


def summary(chrome: Browser, device_name: str) -> Any:
    for element in chrome.driver.find_elements(By.CSS_SELECTOR, "#board details"):
        if device_name in element.find_element(By.CSS_SELECTOR, "summary").text:
            return element
    raise AssertionError(f"no incident of {device_name} on the board")


def test_technician_leader_and_auditor_workflows_on_a_phone(
    fleet: Stack,  # noqa: F811
    browser: Browser,  # noqa: F811
    tmp_path: Path,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    history(fleet, now)
    incidents(fleet, now)
    fleet.api_cli("load-criteria")
    browser.size(PHONE)
    _technician(fleet, browser)
    _leader(fleet, browser)
    _auditor(fleet, browser, now, tmp_path)


def _technician(stack: Stack, chrome: Browser) -> None:
    chrome.login("ky-thuat-son-vi")
    chrome.open("/ui/incidents")
    chrome.wait(lambda: len(chrome.text("#board details")) > 0, "the board")
    # The default board: everything not yet fixed, named by place and device, with since-when.
    assert chrome.js("return document.getElementById('state').value") == "unresolved"
    black = summary(chrome, "Cổng chợ Sơn Vi")
    text = black.find_element(By.CSS_SELECTOR, "summary").text
    assert "Khu 6 — Đồng Trà (Xã Sơn Vi)" in text and "Hình ảnh đen" in text, text
    assert re.search(r"Từ \d\d:\d\d \d\d/\d\d/20\d\d · đã 1[2-4] phút", text), text
    shot(chrome, "technician-1-board-phone")

    # Taking it on keeps it on the default board, with who took it.
    black.find_element(By.CSS_SELECTOR, "summary").click()
    chrome.wait(lambda: "Hệ thống" in chrome.text("#board .timeline"), "the timeline")
    black.find_element(By.CSS_SELECTOR, "textarea").send_keys("Đang đến lau ống kính")
    black.find_element(By.CSS_SELECTOR, "[data-action='acknowledge']").click()
    chrome.wait(lambda: "Đang đến lau ống kính" in black.text, "the note in the timeline")
    chrome.open("/ui/incidents")
    chrome.wait(lambda: len(chrome.text("#board details")) > 0, "the board again")
    black = summary(chrome, "Cổng chợ Sơn Vi")
    assert chrome.chips(f"[data-incident='{black.get_attribute('data-incident')}'] summary") == [
        "Đã nhận xử lý"
    ]
    assert "ky-thuat-son-vi đã nhận lúc" in black.text
    shot(chrome, "technician-2-acknowledged-stays-phone")

    # Closing it while the camera is still black is refused, and says why.
    black.find_element(By.CSS_SELECTOR, "summary").click()
    chrome.wait(lambda: bool(black.find_elements(By.CSS_SELECTOR, "[data-action='resolve']")), "")
    black.find_element(By.CSS_SELECTOR, "[data-action='resolve']").click()
    chrome.wait(lambda: "Thiết bị vẫn đang hỏng" in black.text, "the refusal")
    shot(chrome, "technician-3-resolve-refused-phone")
    # cam-02 answers again: closing it is accepted and shows how long it lasted.
    black.find_element(By.CSS_SELECTOR, "summary").click()
    other = summary(chrome, "Ngã ba đường Đồi Thông")
    other.find_element(By.CSS_SELECTOR, "summary").click()
    chrome.wait(lambda: bool(other.find_elements(By.CSS_SELECTOR, "[data-action='resolve']")), "")
    other.find_element(By.CSS_SELECTOR, "[data-action='resolve']").click()
    chrome.wait(lambda: "Đã khắc phục" in other.find_element(By.TAG_NAME, "summary").text, "")
    assert "kéo dài" in other.text and "ky-thuat-son-vi đóng" in other.text
    shot(chrome, "technician-4-resolved-phone")

    # "Check now" twice: the second is refused with the wait, not "server not answering".
    chrome.open(f"/ui/areas/{AREA_A}")
    probe = "#agents button[data-action='probe']"
    chrome.wait(lambda: bool(chrome.driver.find_elements(By.CSS_SELECTOR, probe)), "probe")
    chrome.driver.find_element(By.CSS_SELECTOR, probe).click()
    chrome.wait(lambda: "Đã gửi lệnh kiểm tra" in chrome.text("#agents"), "the first check")
    chrome.driver.find_element(By.CSS_SELECTOR, probe).click()
    chrome.wait(lambda: "thử lại sau" in chrome.text("#agents"), "the wait")
    assert re.search(r"thử lại sau 1?\d giây", chrome.text("#agents")), chrome.text("#agents")
    assert "Máy chủ tạm thời không trả lời" not in chrome.text("#agents")
    shot(chrome, "technician-5-check-now-too-soon-phone")
    assert_local_and_clean(chrome, allowed_errors=("/resolve ", "/probe "))
    chrome.console.clear()  # the two refusals above were expected
    chrome.logout()


def _leader(stack: Stack, chrome: Browser) -> None:
    chrome.login("truong-khu-6")
    chrome.wait(lambda: bool(chrome.text("[data-device='cam-01'] .since")), "since when")
    # Broken first: the camera section leads, and in it the black camera, with since when.
    first_kind = chrome.js("return document.querySelector('#kinds section').dataset.kind")
    first_device = chrome.js("return document.querySelector('#kinds .device').dataset.device")
    assert (first_kind, first_device) == ("camera", "cam-01")
    since = chrome.text("[data-device='cam-01'] .since")
    assert re.fullmatch(r"Hỏng từ \d\d:\d\d \d\d/\d\d/20\d\d · đã 1[2-4] phút", since), since
    assert "Hình ảnh đen" in chrome.text("[data-device='cam-01']")
    # 20 minutes in 30 days: not "100 %", but "not enough data"; plain words, term in a hint.
    chrome.wait(lambda: "chưa đủ dữ liệu" in chrome.text("#availability"), "the 30 days")
    figures = chrome.text("#availability .figures")
    assert "Thời gian hoạt động tốt" in figures and "độ sẵn sàng" in figures
    assert "100 %" not in figures and "." not in chrome.text("#availability .figures dd")
    assert chrome.text("#availability .axis-labels"), "a date axis under the daily chart"
    assert_no_leaks(chrome, "the leader's area page")
    shot(chrome, "leader-1-area-phone")
    chrome.logout()

    # The overview: no "null" after commune names; a silent area is a problem with its start.
    chrome.login("quan-tri")
    chrome.open("/ui/overview")
    chrome.visible_areas()
    chrome.wait(lambda: "Mất liên lạc" in chrome.text(f"li[data-area='{AREA_C}']"), "C silent")
    chip = chrome.driver.find_element(By.CSS_SELECTOR, f"li[data-area='{AREA_C}'] .chip")
    assert chip.get_attribute("data-state") == "down"
    assert re.search(r"từ \d\d:\d\d \d\d/\d\d/20\d\d", chip.text), chip.text
    for heading in chrome.driver.find_elements(By.CSS_SELECTOR, ".commune h3"):
        assert "null" not in heading.text, heading.text
    assert_no_leaks(chrome, "the overview")
    shot(chrome, "leader-2-overview-phone")
    assert_local_and_clean(chrome)
    chrome.logout()


def _auditor(stack: Stack, chrome: Browser, now: datetime, tmp_path: Path) -> None:
    admin = {"Authorization": f"Bearer {stack.api_token}"}
    vn = timedelta(hours=7)
    window = {
        "starts_local": (now + vn - timedelta(minutes=18)).strftime("%Y-%m-%dT%H:%M"),
        "ends_local": (now + vn - timedelta(minutes=16)).strftime("%Y-%m-%dT%H:%M"),
        "reason": "Thay nguồn camera cổng chợ",
    }
    answer = requests.post(
        f"{stack.api_url}/areas/{AREA_A}/maintenance", json=window, headers=admin, timeout=10
    )
    assert answer.status_code == 201, answer.text

    chrome.login("kiem-dinh")
    chrome.open(f"/ui/areas/{AREA_A}/certification")
    chrome.wait(lambda: bool(chrome.text("#criteria tbody tr")), "the criteria table")
    table = chrome.text("#criteria")
    assert "thiết bị" in table and "devices" not in table
    assert "households" not in table and "digital_team_decision" not in table
    chrome.driver.find_element(By.ID, "issue").click()
    chrome.wait(lambda: "Đã lập báo cáo số" in chrome.text("#report-out"), "the issued report")
    chrome.driver.find_element(By.ID, "verify").click()
    chrome.wait(lambda: "Khớp" in chrome.text("#verify-out"), "the report verified")
    shot(chrome, "auditor-1-issued-phone")
    # A figure declared after the issue: verify says what changed, when and by whom.
    declared: dict[str, Any] = {
        "figure": "households",
        "value": 300,
        "source_document": "Biên bản rà soát tháng 12",
        "document_date": "2026-12-01",
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
    }
    answer = requests.post(
        f"{stack.api_url}/areas/{AREA_A}/declarations", json=declared, headers=admin, timeout=10
    )
    assert answer.status_code == 201, answer.text
    chrome.driver.find_element(By.ID, "verify").click()
    chrome.wait(lambda: "Khác với bản đã lập" in chrome.text("#verify-out"), "the difference")
    changes = chrome.text("#verify-out")
    assert "kê khai số hộ gia đình = 300" in changes and "bởi devstack-admin" in changes
    assert_no_leaks(chrome, "the certification page")
    shot(chrome, "auditor-2-verify-changed-phone")
    assert_local_and_clean(chrome)

    # The PDF of a report on the last day (the history above is in it), read back as text.
    query = {
        "set": SET,
        "from": (now - timedelta(days=1)).isoformat(),  # a certificate covers a day at least
        "to": now.isoformat(),
    }
    issued = requests.post(
        f"{stack.api_url}/areas/{AREA_A}/reports", params=query, headers=admin, timeout=30
    )
    assert issued.status_code == 201, issued.text
    report_id = issued.json()["id"]
    pdf = requests.get(
        f"{stack.api_url}/areas/{AREA_A}/reports/{report_id}",
        params={"format": "pdf"},
        headers=admin,
        timeout=30,
    )
    assert pdf.status_code == 200
    (tmp_path / "report.pdf").write_bytes(pdf.content)
    text = subprocess.run(
        ["/usr/bin/pdftotext", "-layout", str(tmp_path / "report.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "auditor-report.txt").write_text(text, encoding="utf-8")
    flat = " ".join(text.split())
    for element, expected in (
        ("issuer", "Người lập / issued by: devstack"),
        ("issue date", "Ngày lập / issued on:"),
        ("legal basis", "Căn cứ / legal basis: Báo Phú Thọ"),
        ("set title", "Mô hình khu dân cư thông minh — Khu 6, xã Sơn Vi"),
        ("policy note", "là chính sách do bộ tiêu chí quy định"),
        ("outages", "Các lần hỏng trong kỳ / outages"),
        ("an outage of a named camera", "Ngã ba đường Đồi Thông"),
        ("maintenance", "Khung bảo trì / maintenance windows"),
        ("its reason", "Thay nguồn camera cổng chợ"),
        ("signature", "NGƯỜI LẬP BÁO CÁO"),
        ("commune's seal", "XÁC NHẬN CỦA UBND XÃ SƠN VI"),
        ("verify line", f"{stack.api_url}/areas/{AREA_A}/reports/{report_id}/verify"),
    ):
        assert expected in flat, f"the PDF lacks its {element}: {expected!r}"
    # Criterion texts in words: no criterion id, no figure code, no English verdict code.
    for code in ("camera-duong-chinh", "households_fibre", "insufficient_data", "(fail)"):
        assert code not in flat, code
    assert re.search(r"\d\d:\d\d \d\d/\d\d/20\d\d", flat), "times with their date"
    chrome.logout()
