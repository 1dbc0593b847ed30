"""``make run`` (``python -m devstack``) shows data flowing: within two probe cycles every demo
device has a fresh state in the API, through the gateway's broker that admits no anonymous
client; a camera switched off from the demo inbox's page becomes a message in plain Vietnamese
that the local inbox receives (the whole alert path: agent, broker, alerts, signed webhook); and
Ctrl-C stops everything. The agents probe every 2 s here (``--interval-s``) to keep it short."""

from __future__ import annotations

import json
import re
import signal
import socket
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from devstack.demo import load_fleet
from devstack.inbox import Inbox
from devstack.processes import Child, python_module, wait_until


def test_make_run_demo_reports_every_device_within_two_cycles(tmp_path: Path) -> None:
    argv = python_module("devstack", "--workdir", str(tmp_path / "run"), "--interval-s", "2")
    demo = Child("demo", argv, tmp_path / "demo.log")
    demo.start()
    try:
        demo.wait_ready(lambda: "Ctrl-C" in demo.log_tail(100), timeout=60)
        text = demo.log_tail(100)
        url = re.search(r"API:\s+(http://\S+)", text).group(1)  # type: ignore[union-attr]
        token = re.search(r"API token:\s+(\S+)", text).group(1)  # type: ignore[union-attr]
        inbox = re.search(r"Alert inbox:\s+(http://\S+)", text).group(1)  # type: ignore[union-attr]
        interval_s, areas = 2.0, load_fleet()[1]
        assert "Sơn Vi" in text and "Phúc Khánh" in text

        def status(area_id: str) -> dict[str, object] | None:
            request = urllib.request.Request(
                f"{url}/areas/{area_id}/status", headers={"Authorization": f"Bearer {token}"}
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    body: dict[str, object] = json.loads(response.read())
                    return body
            except OSError:
                return None

        def all_fresh() -> bool:
            for area in areas:
                body = status(area.id)
                if body is None or body["counts"] != {
                    "up": area.devices(),  # the cameras, the uplink and the PC
                    "degraded": 0,
                    "down": 0,
                    "unknown": 0,
                }:
                    return False
            return True

        wait_until(all_fresh, 2 * interval_s + 10, "every demo device to be up within two cycles")
        # The agents got there with their own accounts: the broker refuses anonymous clients.
        port = int(re.search(r"MQTT broker:\s+mqtt://127.0.0.1:(\d+)", text).group(1))  # type: ignore[union-attr]
        assert _anonymous_connack(port) == 5  # MQTT 3.1.1: not authorized

        # The inbox's fault switch turns a camera off; the technician's message arrives.
        _post_form(inbox + "fault", {"camera": "son-vi-khu-6/cam-03", "fault": "offline"})
        messages: list[dict[str, Any]] = []

        def message_arrived() -> bool:
            with urllib.request.urlopen(inbox + "messages.json", timeout=5) as response:
                messages[:] = json.loads(response.read())
            return any(m["purpose"] == "problem" for m in messages)

        wait_until(message_arrived, 40, "the camera's message in the demo inbox")
        problem = next(m for m in messages if m["purpose"] == "problem")
        assert problem["subject"] == "[Cảnh báo] Khu 6, Xã Sơn Vi, Tỉnh Phú Thọ: 1 sự cố"
        assert "Camera Ngã ba chợ Sơn Vi: hỏng, thiết bị từ chối kết nối" in problem["text"]
        assert f"Xem chi tiết: {url}/ui/areas/son-vi-khu-6" in problem["text"]
        assert "cam-03" not in problem["text"] and "refused" not in problem["text"]
        assert re.search(r"từ \d\d:\d\d:\d\d ngày \d\d/\d\d/20\d\d", problem["text"])
        with urllib.request.urlopen(inbox, timeout=5) as response:
            page = response.read().decode()
        assert "Ngã ba chợ Sơn Vi" in page and f'href="{url}/ui/areas/son-vi-khu-6"' in page
        (tmp_path / "inbox.html").write_text(page, encoding="utf-8")
    finally:
        demo.signal(signal.SIGINT)
        code = demo.stop(grace=20)
    assert code == 0, demo.log_tail()
    assert "stopped" in demo.log_tail(5)


def _post_form(url: str, fields: dict[str, str]) -> None:
    body = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(url, data=body, method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:  # follows the 303 to the page
        assert response.status == 200


def test_the_inbox_takes_only_signed_messages() -> None:
    inbox = Inbox("a-long-secret-for-the-demo").start()
    try:
        request = urllib.request.Request(inbox.hook_url, data=b"{}", method="POST")
        try:
            urllib.request.urlopen(request, timeout=5)
            raise AssertionError("an unsigned message was taken")
        except urllib.error.HTTPError as exc:
            assert exc.code == 401
        assert inbox.received() == [] and inbox.refused == 1
    finally:
        inbox.stop()


def _anonymous_connack(port: int) -> int:
    """The return code a broker gives an MQTT 3.1.1 CONNECT without user name or password."""
    body = b"\x00\x04MQTT\x04\x02\x00\x3c\x00\x09anonymous"
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"\x10" + bytes([len(body)]) + body)
        connack = sock.recv(4)
    assert connack[:2] == b"\x20\x02", connack
    return connack[3]
