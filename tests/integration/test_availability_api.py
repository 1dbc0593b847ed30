"""Availability through the API: maintenance planned in Vietnam time is excluded (a single
device's window from that device only), devices that never reported are named, scope applies, and
the figures match a hand computation."""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

import pytest

from contract import topics
from contract.models import DeviceResult, Report, Status
from devstack.stack import Stack
from tests.integration.conftest import api_get, catalog_yaml, publisher, wait_for
from tests.integration.test_api_access import _request, _user

AREA = "son-vi-khu-6"
VN = timedelta(hours=7)


def test_availability_with_maintenance_in_local_time(stack: Stack) -> None:
    cameras = [("cam-01", "camera"), ("cam-02", "camera"), ("cam-03", "camera")]
    stack.load_catalog(catalog_yaml(AREA, cameras))
    t0 = (datetime.now(UTC) - timedelta(hours=1)).replace(second=0, microsecond=0)
    statuses = [Status.UP] * 10 + [Status.DOWN] * 5 + [Status.UP] * 5  # one per minute
    with publisher(stack.mosquitto.port) as publish:
        for i, state in enumerate(statuses):
            results = [
                DeviceResult(
                    device_id=device,
                    kind="camera",
                    status=state,
                    duration_ms=5.0,
                    reason=None if state is Status.UP else "refused",
                )
                for device in ("cam-01", "cam-03")  # cam-02 never reports
            ]
            report = Report(
                area_id=AREA,
                agent_id="nvh",
                seq=i + 1,
                observed_at=t0 + timedelta(minutes=i),
                interval_s=60,
                results=results,
            )
            publish(topics.report_topic(AREA, "nvh"), report.to_json())
    # Two of the five down minutes fall in a maintenance window planned in Hà Nội time.
    local = (t0 + VN + timedelta(minutes=11)).replace(tzinfo=None)
    window = {
        "starts_local": local.isoformat(),
        "ends_local": (local + timedelta(minutes=2)).isoformat(),
        "reason": "Lau ống kính camera",
    }
    assert _request(stack, "POST", f"/areas/{AREA}/maintenance", stack.api_token, window)[0] == 201
    # cam-03 alone is also serviced for the two minutes after that, given as instants with an
    # offset (as availability takes them): stored as Vietnamese wall-clock time.
    own = {
        "starts_local": (t0 + timedelta(minutes=13)).isoformat(),
        "ends_local": (t0 + timedelta(minutes=15)).astimezone(timezone(-VN)).isoformat(),
        "device_id": "cam-03",
        "reason": "Thay nguồn camera cam-03",
    }
    status, stored_own = _request(stack, "POST", f"/areas/{AREA}/maintenance", stack.api_token, own)
    assert (
        status == 201 and stored_own["starts_local"] == (local + timedelta(minutes=2)).isoformat()
    )
    # A window for a device the catalog does not have is refused (it would silently do nothing).
    ghost = {**own, "device_id": "cam-99"}
    status, body = _request(stack, "POST", f"/areas/{AREA}/maintenance", stack.api_token, ghost)
    assert status == 422 and "cam-99" in str(body)

    query = urllib.parse.urlencode(
        {"from": t0.isoformat(), "to": (t0 + timedelta(minutes=20)).isoformat()}
    )

    def answer(extra: str = "") -> dict[str, object]:
        status, body = api_get(stack, f"/areas/{AREA}/availability?{query}{extra}")
        assert status == 200, body
        return dict(body)

    def stored() -> bool:
        devices = answer("&raw=true")["devices"]
        return bool(devices) and devices[0]["health"]["up_s"] == 900  # type: ignore[index]

    wait_for(stored, "all twenty reports to be stored")
    for extra in ("&raw=true", ""):
        body = answer(extra)
        devices = {d["device_id"]: d for d in body["devices"]}  # type: ignore[attr-defined]
        health = devices["cam-01"]["health"]
        assert (health["up_s"], health["down_s"], health["maintenance_s"]) == (900, 180, 120)
        assert health["availability"] == pytest.approx(100 * 900 / 1080, abs=0.01)
        assert health["coverage"] == pytest.approx(100.0, abs=0.01)
        assert devices["cam-01"]["maintenance"] == []
        # cam-03: down minutes 10–15, of which 11–15 are maintenance (the area's, then its own).
        health = devices["cam-03"]["health"]
        assert (health["up_s"], health["down_s"], health["maintenance_s"]) == (900, 60, 240)
        assert health["availability"] == pytest.approx(100 * 900 / 960, abs=0.01)
        assert len(devices["cam-03"]["maintenance"]) == 1
        # The camera kind adds up the catalog's cameras (cam-02, never heard from, too: all its
        # 20 minutes unknown but the area's 2 of maintenance), area-wide maintenance once each.
        kind = body["kinds"]["camera"]["health"]  # type: ignore[index]
        assert (kind["down_s"], kind["maintenance_s"]) == (180 + 60, 120 + 120 + 240)
        assert (kind["unknown_s"], kind["coverage"]) == (1080, pytest.approx(100 * 2040 / 3120))
        silent = devices["cam-02"]
        assert (silent["agent_id"], silent["health"]["unknown_s"]) == (None, 1080)
        assert body["never_reported"] == ["cam-02"]
        # Both windows were created after they began (they lie in the past): retroactive, with
        # who created them and when.
        assert (health["planned_maintenance_s"], health["retroactive_maintenance_s"]) == (0, 240)
        (listed,) = cast("list[dict[str, object]]", body["maintenance"])
        assert (listed["retroactive"], listed["created_by"]) == (True, "devstack-admin")
        assert listed["reason"] == "Lau ống kính camera" and listed["created_at"]
        assert "Asia/Ho_Chi_Minh" in str(body["rules"])

    assert (
        api_get(stack, f"/areas/{AREA}/availability?from=2026-01-01T00:00&to=2026-01-02T00:00")[0]
        == 422
    )
    leader = _user(stack, "truong-khu-khac", "leader", "--area", AREA)
    assert _request(stack, "GET", f"/areas/{AREA}/availability?{query}", leader)[0] == 200
    assert _request(stack, "GET", f"/areas/{AREA}/availability?{query}", None)[0] == 401


def test_rollup_job_builds_blocks_that_answer_like_raw_points(stack: Stack) -> None:
    stack.load_catalog(catalog_yaml(AREA, [("cam-01", "camera")]))
    now = datetime.now(UTC)
    t0 = (now - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    with publisher(stack.mosquitto.port) as publish:
        for i in range(36):  # three hours, one report every five minutes
            down = 10 <= i < 14
            result = DeviceResult(
                device_id="cam-01",
                kind="camera",
                status=Status.DOWN if down else Status.UP,
                reason="refused" if down else None,
                duration_ms=5.0,
            )
            report = Report(
                area_id=AREA,
                agent_id="nvh",
                seq=i + 1,
                interval_s=300,
                observed_at=t0 + timedelta(minutes=5 * i),
                results=[result],
            )
            publish(topics.report_topic(AREA, "nvh"), report.to_json())
    query = urllib.parse.urlencode(
        {"from": t0.isoformat(), "to": (t0 + timedelta(hours=3)).isoformat()}
    )

    def health(extra: str) -> dict[str, Any]:
        status, body = api_get(stack, f"/areas/{AREA}/availability?{query}{extra}")
        assert status == 200, body
        return dict(body)

    def stored() -> bool:
        devices = health("&raw=true")["devices"]
        return bool(devices) and devices[0]["health"]["up_s"] == 32 * 300

    wait_for(stored, "the three hours of reports")
    before = health("")
    assert before["sources"].get("rollup_rows", 0) == 0
    out = stack.api_cli("rollup-job", "--once", "--days", "1")
    assert out == ""  # the job logs to stderr; standard output stays clean
    after = health("")
    assert after["sources"]["rollup_rows"] > 0
    assert after["devices"][0]["health"] == health("&raw=true")["devices"][0]["health"]
    assert after["devices"][0]["health"]["outages"] == 1
