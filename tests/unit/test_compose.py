"""docker-compose.yml is checked by parsing (no Docker engine here): services, ports, and every
SMARTAREA_* variable a service sets must be a real setting of that service; one init step
migrates and seeds the catalog before the services that use it; every long-running service has a
healthcheck that its dependants wait for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from alerts.settings import AlertsSettings
from api.settings import ApiSettings
from devstack import compose_init
from ingest.settings import IngestSettings

ROOT = Path(__file__).parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]


def _env(service: str) -> dict[str, str]:
    env: dict[str, str] = SERVICES[service].get("environment", {})
    return env


def test_the_whole_stack_is_there() -> None:
    assert set(SERVICES) == {
        "mosquitto",
        "influxdb",
        "init",
        "ingest",
        "api",
        "alerts",
        "rollups",
        "demo",
    }
    assert SERVICES["mosquitto"]["image"] == "eclipse-mosquitto:2"
    assert SERVICES["influxdb"]["image"] == "influxdb:2.7"
    for service in ("init", "ingest", "api", "alerts", "rollups", "demo"):
        assert SERVICES[service]["build"] == "."


def test_ports_are_published_on_loopback_only() -> None:
    published = {s: SERVICES[s].get("ports", []) for s in SERVICES}
    assert published["mosquitto"] == ["127.0.0.1:1883:1883"]
    assert published["influxdb"] == ["127.0.0.1:8086:8086"]
    assert published["api"] == ["127.0.0.1:8000:8000"]
    assert all(p.startswith("127.0.0.1:") for ports in published.values() for p in ports)


def test_influxdb_is_initialised_with_org_bucket_and_token() -> None:
    env = _env("influxdb")
    assert env["DOCKER_INFLUXDB_INIT_MODE"] == "setup"
    assert env["DOCKER_INFLUXDB_INIT_BUCKET"] == _env("ingest")["SMARTAREA_INFLUX_DATABASE"]
    assert env["DOCKER_INFLUXDB_INIT_ORG"]
    token = env["DOCKER_INFLUXDB_INIT_ADMIN_TOKEN"]
    assert (
        token == _env("ingest")["SMARTAREA_INFLUX_TOKEN"] == _env("api")["SMARTAREA_INFLUX_TOKEN"]
    )
    assert token.startswith("${INFLUX_TOKEN:?")  # required from the operator, never a default


def test_every_variable_is_a_real_setting_of_its_service() -> None:
    for service, settings in (
        ("ingest", IngestSettings),
        ("api", ApiSettings),
        ("rollups", ApiSettings),
        ("init", ApiSettings),
        ("alerts", AlertsSettings),
    ):
        fields = {f"SMARTAREA_{name.upper()}" for name in settings.model_fields}
        env = _env(service)
        unknown = {key for key in env if key.startswith("SMARTAREA_")} - fields
        assert not unknown, (service, unknown)
    assert _env("ingest")["SMARTAREA_MQTT_HOST"] == "mosquitto"
    assert _env("ingest")["SMARTAREA_INFLUX_API"] == "v2"
    assert _env("ingest")["SMARTAREA_INFLUX_ORG"] == _env("influxdb")["DOCKER_INFLUXDB_INIT_ORG"]
    catalog = _env("api")["SMARTAREA_DATABASE_URL"]
    assert catalog.startswith("sqlite:////var/lib/smartarea/")
    assert any(v.endswith(":/var/lib/smartarea") for v in SERVICES["api"]["volumes"])


def test_mosquitto_config_sets_queue_limits_deliberately() -> None:
    volume = SERVICES["mosquitto"]["volumes"][0]
    conf = (ROOT / volume.split(":")[0]).read_text()
    assert "max_queued_messages 1000000" in conf
    assert "persistence true" in conf


def test_demo_fleet_reports_to_the_compose_broker() -> None:
    command = SERVICES["demo"]["command"]
    assert command[command.index("--fleet-only") + 1] == "mosquitto:1883"


def test_the_image_holds_every_package_the_project_declares() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    include = pyproject.split("include = [", 1)[1].split("]", 1)[0]
    packages = {name.strip().strip('"').rstrip("*") for name in include.split(",") if name.strip()}
    copied = {
        line.split()[1]
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.startswith("COPY ") and len(line.split()) == 3
    }
    assert packages <= copied, packages - copied


CATALOG_USERS = ("api", "alerts", "rollups")


def test_one_init_step_migrates_and_seeds_before_the_catalog_users_start() -> None:
    init = SERVICES["init"]
    assert init["command"] == ["python", "-m", "devstack.compose_init"]
    assert init["restart"] == "no"
    catalog = _env("init")["SMARTAREA_DATABASE_URL"]
    for service in CATALOG_USERS:
        assert _env(service)["SMARTAREA_DATABASE_URL"] == catalog, service
        assert SERVICES[service]["depends_on"]["init"] == {
            "condition": "service_completed_successfully"
        }, service
    # The step's module exists and seeds what the demo and the certification page need.
    assert compose_init.BUILTIN_SETS.is_dir() and list(compose_init.BUILTIN_SETS.glob("*.yaml"))


def test_init_is_idempotent_and_creates_one_first_admin(tmp_path: Path) -> None:
    settings = ApiSettings(database_url=f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    first = compose_init.run(settings)
    again = compose_init.run(settings)
    assert any(line.startswith("first administrator: admin, password: ") for line in first)
    assert "administrator: present" in again
    assert any("khu6-son-vi-2025" in line for line in again)
    assert any(line.startswith("demo catalog: created=0") for line in again)


def test_the_api_can_reach_the_broker_for_probe_now() -> None:
    env = _env("api")
    assert env["SMARTAREA_MQTT_HOST"] == "mosquitto"
    assert env["SMARTAREA_MQTT_PORT"] == _env("ingest")["SMARTAREA_MQTT_PORT"]


def test_long_running_services_have_healthchecks_their_dependants_wait_for() -> None:
    for service in ("mosquitto", "influxdb", "ingest", "api", "alerts"):
        check = SERVICES[service]["healthcheck"]
        assert check["test"][0] == "CMD" and check["retries"] >= 3, service
    for service, spec in SERVICES.items():
        depends = spec.get("depends_on", {})
        assert isinstance(depends, dict), f"{service}: depends_on needs conditions"
        for name, condition in depends.items():
            wanted = "service_completed_successfully" if name == "init" else "service_healthy"
            assert condition == {"condition": wanted}, (service, name)
    # The alerts healthcheck asks the port the service is told to serve /readyz on.
    port = _env("alerts")["SMARTAREA_ALERTS_METRICS_PORT"]
    assert f":{port}/readyz" in " ".join(SERVICES["alerts"]["healthcheck"]["test"])
