"""The server side started for real: Mosquitto, InfluxDB, ingest and the API, as child processes.

Used by the end-to-end tests and by ``make run`` (``python -m devstack``), so both use the
start-up path of production: ``python -m ingest`` and ``python -m api`` with SMARTAREA_* settings.
"""

from __future__ import annotations

import subprocess
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from devstack.gateway import GatewayBroker
from devstack.processes import Child, child_env, free_port, port_open, python_module
from devstack.servers import InfluxDB, Mosquitto


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:  # noqa: S310 - loopback URL we built
            return bool(resp.status == 200)
    except OSError:
        return False


@dataclass
class Stack:
    """``secure``: the broker is the gateway's (devstack.gateway: no anonymous access, each
    service with its own account, agents over TLS); otherwise a plain loopback Mosquitto, which
    most tests use to publish freely."""

    workdir: Path
    api_port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)
    api_token: str = ""  # an admin API token, issued when the API starts
    secure: bool = False
    mosquitto: Mosquitto | GatewayBroker = field(init=False)
    influxdb: InfluxDB = field(init=False)
    ingest: Child | None = None
    api: Child | None = None
    catalog_migrated: bool = False

    def __post_init__(self) -> None:
        if self.secure:
            self.mosquitto = GatewayBroker(self.workdir / "gateway")
        else:
            self.mosquitto = Mosquitto(self.workdir / "mosquitto")
        self.influxdb = InfluxDB(self.workdir / "influxdb")

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def env(self, service: str | None = None) -> dict[str, str]:
        """Settings of the server-side processes; ``service`` (``ingest``, ``api``, ``alerts``)
        adds that service's broker account when the broker is the gateway's."""
        account = {}
        if service is not None and isinstance(self.mosquitto, GatewayBroker):
            account = self.mosquitto.service_env(service)
        return child_env(
            {
                "SMARTAREA_MQTT_HOST": "127.0.0.1",
                "SMARTAREA_MQTT_PORT": str(self.mosquitto.port),
                "SMARTAREA_INFLUX_URL": self.influxdb.url,
                "SMARTAREA_INFLUX_DATABASE": self.influxdb.database,
                "SMARTAREA_DATABASE_URL": f"sqlite:///{self.workdir / 'catalog.sqlite'}",
                "SMARTAREA_API_PORT": str(self.api_port),
                "SMARTAREA_METRICS_PORT": str(self.metrics_port),
                "SMARTAREA_DEAD_LETTER_FILE": str(self.workdir / "ingest" / "dead-letters.jsonl"),
                **account,
            }
        )

    def start_ingest(self, wait: bool = True) -> Child:
        self.ingest = Child(
            "ingest", python_module("ingest"), self.workdir / "ingest.log", env=self.env("ingest")
        )
        self.ingest.start()
        if wait:
            self.wait_ingest()
        return self.ingest

    def wait_ingest(self) -> None:
        assert self.ingest is not None  # noqa: S101 - started first
        ready = self.metrics_url.replace("/metrics", "/readyz")
        self.ingest.wait_ready(lambda: _http_ok(ready), timeout=30)

    def migrate_catalog(self) -> None:
        """``python -m catalog migrate``, the deployment step, once before anything uses it."""
        if not self.catalog_migrated:
            self._run("catalog", "migrate")
            self.catalog_migrated = True

    def api_cli(self, *args: str, stdin: str = "") -> str:
        """Run ``python -m api ARGS`` against this stack's catalog; its standard output."""
        self.migrate_catalog()
        return self._run("api", *args, stdin=stdin)

    def _run(self, module: str, *args: str, stdin: str = "") -> str:
        done = subprocess.run(
            python_module(module, *args),
            env=self.env(),
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if done.returncode != 0:
            command = " ".join((module, *args))
            raise RuntimeError(f"python -m {command} failed: {done.stderr.strip()}")
        return done.stdout

    def load_catalog(self, yaml_text: str) -> str:
        """Import a catalog YAML document (as an admin would) and return the counts line."""
        path = self.workdir / "catalog-import.yaml"
        path.write_text(yaml_text, encoding="utf-8")
        return self.api_cli("import-catalog", str(path)).strip()

    def start_api(self) -> Child:
        self.migrate_catalog()
        if not self.api_token:
            output = self.api_cli(
                "create-user",
                "devstack-admin",
                "--role",
                "admin",
                "--name",
                "devstack",
                "--with-token",
                "devstack",
            )
            self.api_token = output.split("token:", 1)[1].strip()
        self.api = Child("api", python_module("api"), self.workdir / "api.log", env=self.env("api"))
        self.api.start()
        self.api.wait_ready(
            lambda: port_open(self.api_port) and _http_ok(f"{self.api_url}/healthz"), timeout=30
        )
        return self.api

    def start(self) -> Stack:
        self.mosquitto.start()
        self.influxdb.start()
        self.start_ingest(wait=False)  # ingest starts while the API's catalog is prepared
        self.start_api()
        self.wait_ingest()
        return self

    def stop(self) -> None:
        for child in (self.api, self.ingest):
            if child is not None:
                child.stop()
        self.influxdb.stop()
        self.mosquitto.stop()

    def __enter__(self) -> Stack:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()
