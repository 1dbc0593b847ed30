"""``make run`` (``python -m devstack``) shows data flowing: within two probe cycles every demo
device has a fresh state in the API, through the gateway's broker that admits no anonymous
client, and Ctrl-C stops everything."""

from __future__ import annotations

import json
import re
import signal
import socket
import urllib.request
from pathlib import Path

from devstack.demo import load_fleet
from devstack.processes import Child, python_module, wait_until


def test_make_run_demo_reports_every_device_within_two_cycles(tmp_path: Path) -> None:
    demo = Child(
        "demo", python_module("devstack", "--workdir", str(tmp_path / "run")), tmp_path / "demo.log"
    )
    demo.start()
    try:
        demo.wait_ready(lambda: "Ctrl-C" in demo.log_tail(100), timeout=60)
        text = demo.log_tail(100)
        url = re.search(r"API:\s+(http://\S+)", text).group(1)  # type: ignore[union-attr]
        token = re.search(r"API token:\s+(\S+)", text).group(1)  # type: ignore[union-attr]
        interval_s, areas = load_fleet()
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
                    "up": area.cameras + 1,
                    "degraded": 0,
                    "down": 0,
                    "unknown": 0,
                }:
                    return False
            return True

        wait_until(all_fresh, 2 * interval_s + 5, "every demo device to be up within two cycles")
        # The agents got there with their own accounts: the broker refuses anonymous clients.
        port = int(re.search(r"MQTT broker:\s+mqtt://127.0.0.1:(\d+)", text).group(1))  # type: ignore[union-attr]
        assert _anonymous_connack(port) == 5  # MQTT 3.1.1: not authorized
    finally:
        demo.signal(signal.SIGINT)
        code = demo.stop(grace=20)
    assert code == 0, demo.log_tail()
    assert "stopped" in demo.log_tail(5)


def _anonymous_connack(port: int) -> int:
    """The return code a broker gives an MQTT 3.1.1 CONNECT without user name or password."""
    body = b"\x00\x04MQTT\x04\x02\x00\x3c\x00\x09anonymous"
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"\x10" + bytes([len(body)]) + body)
        connack = sock.recv(4)
    assert connack[:2] == b"\x20\x02", connack
    return connack[3]
