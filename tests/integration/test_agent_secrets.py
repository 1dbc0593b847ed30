"""The agent's broker password never appears in its log (even at DEBUG), its outbox or InfluxDB."""

from __future__ import annotations

import signal
from pathlib import Path

from devstack.processes import Child, child_env, python_module
from devstack.stack import Stack
from tests.integration.conftest import wait_for

PASSWORD = "Mật-khẩu-broker-7c1e"


def test_broker_password_stays_out_of_logs_outbox_and_database(
    stack: Stack, tmp_path: Path
) -> None:
    config = tmp_path / "agent.toml"
    config.write_text(
        f"""
area_id = "son-vi-khu-6"
agent_id = "nvh"
interval_s = 1
[broker]
host = "127.0.0.1"
port = {stack.mosquitto.port}
tls = false
auth = {{ username = "agent-son-vi-khu-6-nvh", password_env = "BROKER_PASSWORD" }}
[[devices]]
id = "pc"
type = "pc"
""",
        encoding="utf-8",
    )
    agent = Child(
        "agent",
        python_module("edge", "run", str(config), "--log-level", "DEBUG"),
        tmp_path / "agent.log",
        env=child_env({"BROKER_PASSWORD": PASSWORD}),
    ).start()

    def stored() -> int:
        return len(stack.influxdb.values('SELECT "cpu_pct" FROM "pc"'))

    try:
        wait_for(lambda: stored() >= 2, "two reports from the agent")
    finally:
        agent.signal(signal.SIGTERM)
        assert agent.stop() == 0, agent.log_tail()
    log = (tmp_path / "agent.log").read_text(errors="replace")
    assert "DEBUG" in log and "connected to the broker" in log
    assert PASSWORD not in log
    assert PASSWORD.encode() not in (tmp_path / "state" / "outbox.sqlite").read_bytes()
    assert PASSWORD not in str(stack.influxdb.query("SELECT * FROM /.*/"))
