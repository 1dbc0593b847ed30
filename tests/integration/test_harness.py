"""The harness starts real servers, and they never outlive the process that started them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from devstack.processes import port_open, wait_until
from devstack.servers import InfluxDB, Mosquitto


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_servers_answer_and_stop_cleanly(mosquitto: Mosquitto, influxdb: InfluxDB) -> None:
    assert port_open(mosquitto.port)
    databases = influxdb.query("SHOW DATABASES")
    assert ["smartarea"] in databases["results"][0]["series"][0]["values"]  # type: ignore[index]
    assert mosquitto.child is not None and influxdb.child is not None
    assert influxdb.child.stop() == 0
    assert not port_open(influxdb.port)


def test_no_orphans_when_the_parent_is_killed(tmp_path: Path) -> None:
    script = f"""
import json, pathlib, sys, time
from devstack.servers import InfluxDB, Mosquitto
m = Mosquitto(pathlib.Path({str(tmp_path)!r}) / "m").start()
i = InfluxDB(pathlib.Path({str(tmp_path)!r}) / "i").start()
print(json.dumps([m.child.proc.pid, i.child.proc.pid]), flush=True)
time.sleep(600)
"""
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        pids = json.loads(parent.stdout.readline())
        assert all(_alive(pid) for pid in pids)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        wait_until(
            lambda: not any(_alive(pid) for pid in pids), 10, "the servers to die with their parent"
        )
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()


def test_a_failed_start_reports_the_log(tmp_path: Path) -> None:
    blocker = Mosquitto(tmp_path / "first").start()
    try:
        clash = Mosquitto(tmp_path / "second", port=blocker.port)
        started = time.monotonic()
        try:
            clash.start()
        except RuntimeError as exc:
            assert "exited while starting" in str(exc)
            assert "Address already in use" in str(exc) or "Error" in str(exc)
        else:
            raise AssertionError("a second broker on the same port must not start")
        assert time.monotonic() - started < 15
    finally:
        blocker.stop()
