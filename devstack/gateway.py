"""The production broker for local runs: ``python -m gateway``'s configuration, started for real.

``make run`` uses it so the demo shows the deployed security, not a shortcut: no anonymous
access, ingest and alerts with their own least-privilege accounts on the loopback listener, each
demo agent provisioned with its own account and reporting over TLS (the gateway's generated CA)
for its own area only. The tests of the gateway itself start it the same way.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from devstack.processes import Child, free_port, port_open, wait_until
from devstack.servers import MOSQUITTO_BIN, ChildServer, require_binary
from gateway import bundle, ops, settings
from gateway.settings import GatewaySettings

RELOADED = "Reloading config"  # Mosquitto's log line after SIGHUP


@dataclass
class GatewayBroker(ChildServer):
    folder: Path
    agent_port: int = field(default_factory=free_port)  # TLS, agents
    port: int = field(default_factory=free_port)  # loopback, the server-side services
    child: Child | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def agent_url(self) -> str:
        return f"mqtts://127.0.0.1:{self.agent_port}"

    @property
    def ca(self) -> Path:
        return self.folder / "tls" / "ca.crt"

    def start(self) -> Self:
        if not (self.folder / settings.SETTINGS_FILE).exists():
            config = GatewaySettings(
                hosts=["127.0.0.1"],
                agent_port=self.agent_port,
                agent_bind="127.0.0.1",
                local_port=self.port,
                user=getpass.getuser(),  # as root Mosquitto would drop to "mosquitto"
            )
            ops.init(self.folder, config)
        argv = [
            require_binary(MOSQUITTO_BIN, "mosquitto"),
            "-c",
            str(self.folder / "mosquitto.conf"),
        ]
        self.child = Child("mosquitto-gateway", argv, self.folder / "mosquitto.log").start()
        self.child.wait_ready(
            lambda: (
                " running" in self.log() and port_open(self.agent_port) and port_open(self.port)
            ),
            timeout=20,
        )
        return self

    def log(self) -> str:
        try:
            return (self.folder / "mosquitto.log").read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def service_env(self, role: str) -> dict[str, str]:
        """SMARTAREA_MQTT_* of a service account (``ingest``, ``api``, ``alerts``), as
        ``python -m gateway init`` wrote them for systemd or docker."""
        env = {}
        for line in (self.folder / "secrets" / f"{role}.env").read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                key, value = line.split("=", 1)
                env[key] = value
        return env

    def provision(self, area_id: str, agent_id: str, out: Path) -> Path:
        """An agent's account and bundle (agent.toml, ca.crt, broker-password) in ``out``; the
        running broker reloads its accounts, as ``python -m gateway provision-agent`` does."""
        issued = ops.provision_agent(self.folder, area_id, agent_id, rotate=True)
        bundle.write_agent_bundle(out, issued, self.folder, settings.load(self.folder))
        reloads = self.log().count(RELOADED)
        if ops.reload(self.folder):  # the agent may dial at once: wait until the broker knows it
            wait_until(lambda: self.log().count(RELOADED) > reloads, 10, "the broker to reload")
        return out
