"""Criteria verdicts, reports and their verification through the real stack.

Measured figures come through broker, ingest and InfluxDB; declarations and a document are entered
through the API; the PDF is rendered and its text extracted with poppler."""

from __future__ import annotations

import json
import subprocess
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from contract import topics
from contract.models import DeviceResult, Report, Status
from devstack.stack import Stack
from tests.integration.conftest import catalog_yaml, publisher, wait_for
from tests.integration.test_api_access import _request, _user

AREA = "son-vi-khu-6"
SET = """
id: thu-nghiem
version: {version}
title: {{vi: Bộ tiêu chí thử nghiệm, en: Test criteria set}}
source: {{document: Kế hoạch 160-KH/TU, date: 2025-05-08}}
criteria:
  - id: camera-hoat-dong
    title: {{vi: Camera hoạt động, en: Cameras working}}
    source: {{document: Báo Phú Thọ 2025, date: 2025-06-01}}
    rule: {{kind: measured, device_kind: camera, min_devices: {cameras}, min_availability_pct: 95,
           min_coverage_pct: 90}}
  - id: ho-cap-quang
    title: {{vi: Hộ có cáp quang ≥ 98%, en: Households with fibre ≥ 98%}}
    source: {{document: Báo Phú Thọ 2025, date: 2025-06-01}}
    rule: {{kind: declared, numerator: households_fibre, denominator: households,
           min_ratio_pct: 98}}
  - id: to-cong-nghe-so
    title: {{vi: Có Tổ công nghệ số cộng đồng, en: Community digital team}}
    source: {{document: CV 793/BTTTT-THH, date: 2022-03-05}}
    rule: {{kind: documentary, document_kind: digital_team_decision}}
"""


def _post_yaml(stack: Stack, path: str, text: str) -> tuple[int, Any]:
    return _request(stack, "POST", path, stack.api_token, text.encode(), "application/yaml")


def _upload(stack: Stack, token: str, content: bytes) -> tuple[int, Any]:
    boundary = uuid.uuid4().hex
    fields = {
        "kind": "digital_team_decision",
        "title": "Quyết định thành lập Tổ công nghệ số",
        "document_date": "2025-03-01",
        "filename": "quyet-dinh.pdf",
    }
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="qd.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return _request(
        stack,
        "POST",
        f"/areas/{AREA}/documents",
        token,
        body,
        f"multipart/form-data; boundary={boundary}",
    )


def test_verdicts_report_and_verification(stack: Stack, tmp_path: Path) -> None:
    stack.load_catalog(
        catalog_yaml(AREA, [("cam-01", "camera"), ("cam-02", "camera"), ("cam-03", "camera")])
    )
    assert _post_yaml(stack, "/criteria-sets", SET.format(version=1, cameras=2))[0] == 201
    # Ten reports over a day (a certificate covers at least one): one every 144 minutes.
    t0 = (datetime.now(UTC) - timedelta(days=1, hours=1)).replace(second=0, microsecond=0)
    step = timedelta(days=1) / 10
    with publisher(stack.mosquitto.port) as publish:
        for minute in range(10):
            results = [
                DeviceResult(device_id="cam-01", kind="camera", status="up", duration_ms=5.0),
                DeviceResult(
                    device_id="cam-02",
                    kind="camera",
                    status=Status.DOWN if minute >= 5 else Status.UP,
                    reason="refused" if minute >= 5 else None,
                    duration_ms=5.0,
                ),
            ]
            report = Report(
                area_id=AREA,
                agent_id="nvh",
                seq=minute + 1,
                interval_s=step.total_seconds(),
                observed_at=t0 + minute * step,
                results=results,
            )
            publish(topics.report_topic(AREA, "nvh"), report.to_json())
    window = urllib.parse.urlencode(
        {"from": t0.isoformat(), "to": (t0 + timedelta(days=1)).isoformat()}
    )

    def verdicts() -> dict[str, Any]:
        status, body = _request(
            stack, "GET", f"/areas/{AREA}/criteria?set=thu-nghiem&{window}", stack.api_token
        )
        assert status == 200, body
        return {c["id"]: c for c in body["criteria"]} | {"overall": body["overall"]}

    wait_for(
        lambda: verdicts()["camera-hoat-dong"]["evidence"][1]["coverage_pct"] == 100,
        "the ten minutes of reports",
    )
    first = verdicts()
    cameras = first["camera-hoat-dong"]
    # cam-01 passes, cam-02 is down half the window, cam-03 never reported (too little data).
    assert [d["verdict"] for d in cameras["evidence"]] == ["pass", "fail", "insufficient_data"]
    assert cameras["verdict"] == "insufficient_data"  # cam-03 could still make two
    assert first["ho-cap-quang"]["verdict"] == "insufficient_data"
    assert first["to-cong-nghe-so"]["verdict"] == "insufficient_data"

    tech = _user(stack, "ktv-son-vi", "technician", "--area", AREA)
    leader = _user(stack, "truong-khu-6", "leader", "--area", AREA)
    auditor = _user(stack, "kiem-dinh", "auditor")
    figure = {
        "source_document": "Biên bản rà soát hộ gia đình quý II/2025",
        "document_date": "2025-06-30",
        "valid_from": "2025-01-01",
        "valid_to": "2027-12-31",
    }
    assert (
        _request(
            stack,
            "POST",
            f"/areas/{AREA}/declarations",
            leader,
            {"figure": "households", "value": 412, **figure},
        )[0]
        == 403
    )
    for name, value in (("households", 412), ("households_fibre", 405)):
        status, _ = _request(
            stack,
            "POST",
            f"/areas/{AREA}/declarations",
            tech,
            {"figure": name, "value": value, **figure},
        )
        assert status == 201
    assert _upload(stack, leader, b"%PDF-1.4 quyet dinh")[0] == 403
    status, document = _upload(stack, tech, b"%PDF-1.4 quyet dinh")
    assert status == 201 and len(document["sha256"]) == 64

    second = verdicts()
    assert second["ho-cap-quang"]["verdict"] == "pass"
    assert second["ho-cap-quang"]["value"] == round(100 * 405 / 412, 2)
    assert second["to-cong-nghe-so"]["verdict"] == "pass"
    assert second["camera-hoat-dong"]["verdict"] == "insufficient_data"

    # Version 2 asks one camera: the latest version is used, and everything passes.
    assert _post_yaml(stack, "/criteria-sets", SET.format(version=2, cameras=1))[0] == 201
    assert _post_yaml(stack, "/criteria-sets", SET.format(version=2, cameras=3))[0] == 409
    assert verdicts()["overall"] == "pass"

    assert (
        _request(stack, "POST", f"/areas/{AREA}/reports?set=thu-nghiem&{window}", leader)[0] == 403
    )
    # A certificate over 13 minutes says nothing about a service: at least a day (issue 15).
    short = urllib.parse.urlencode(
        {"from": t0.isoformat(), "to": (t0 + timedelta(minutes=13)).isoformat()}
    )
    status, refused = _request(
        stack, "POST", f"/areas/{AREA}/reports?set=thu-nghiem&{short}", auditor
    )
    assert status == 422 and "1 day" in str(refused), refused
    status, issued = _request(
        stack, "POST", f"/areas/{AREA}/reports?set=thu-nghiem&{window}", auditor
    )
    assert status == 201 and issued["overall"] == "pass" and issued["criteria_set_version"] == 2
    base = f"/areas/{AREA}/reports/{issued['id']}"

    status, body = _request(stack, "GET", base, leader)
    assert status == 200 and body["evidence_sha256"] == issued["evidence_sha256"]
    status, csv_text = _request(stack, "GET", base + "?format=csv", leader)
    assert status == 200 and "Xã Sơn Vi" in csv_text.decode("utf-8")

    pdf = tmp_path / "report.pdf"
    request = urllib.request.Request(
        stack.api_url + base + "?format=pdf", headers={"Authorization": f"Bearer {auditor}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        pdf.write_bytes(response.read())
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True)
    assert "Xã Sơn Vi" in text.stdout and "Khu 6" in text.stdout
    assert issued["evidence_sha256"] in text.stdout.replace("\n", "")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    assert (tmp_path / "page-1.png").stat().st_size > 5000

    status, check = _request(stack, "GET", base + "/verify", auditor)
    assert status == 200 and check["matches"] is True, check
    # A later declaration changes the figure the report rested on: verification now fails.
    status, _ = _request(
        stack,
        "POST",
        f"/areas/{AREA}/declarations",
        tech,
        {"figure": "households", "value": 430, **figure},
    )
    assert status == 201
    status, check = _request(stack, "GET", base + "/verify", auditor)
    assert check["matches"] is False and check["changed"] == ["ho-cap-quang", "overall"]
    assert json.dumps(check)


def test_builtin_criteria_sets_load_and_cite_their_sources(stack: Stack) -> None:
    out = stack.api_cli("load-criteria")
    assert "khu6-son-vi-2025 v1" in out and "qd318-tieu-chi-8 v1" in out
    status, sets = _request(stack, "GET", "/criteria-sets", stack.api_token)
    assert status == 200 and {s["set_id"] for s in sets} == {"khu6-son-vi-2025", "qd318-tieu-chi-8"}
    assert any("Sơn Vi" in s["title_vi"] for s in sets)
    assert "khu6-son-vi-2025 v1" in stack.api_cli("load-criteria")  # loading again changes nothing
