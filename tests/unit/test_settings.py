"""SMARTAREA_* settings: the shared fields are described once, and a variable no service reads (a
typo) stops every service with its name and, when close, the name it most resembles."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from alerts.settings import AlertsSettings
from api.settings import ApiSettings
from catalog.settings import CatalogSettings
from devstack.processes import python_module
from ingest.settings import IngestSettings
from servicekit.settings import (
    OTHER_VARIABLES,
    SERVICE_FIELDS,
    known_variables,
    unknown_variables,
)

ROOT = Path(__file__).parents[2]
CLASSES: dict[str, type[BaseSettings]] = {
    "api": ApiSettings,
    "alerts": AlertsSettings,
    "ingest": IngestSettings,
    "catalog": CatalogSettings,
}
# Names nothing reads, on purpose: the examples of this test and of servicekit.settings.
EXAMPLES = {"SMARTAREA_INFLUX_URLL", "SMARTAREA_ALERTS_TICKS", "SMARTAREA_NOTHING_LIKE_IT"}


def test_servicekit_knows_the_fields_of_every_service() -> None:
    assert set(SERVICE_FIELDS) == set(CLASSES)
    for service, settings in CLASSES.items():
        fields = set(settings.model_fields)
        listed = SERVICE_FIELDS[service]
        assert fields == listed, (service, "missing:", fields - listed, "stale:", listed - fields)


def test_a_field_several_services_read_is_one_field() -> None:
    seen: dict[str, Any] = {}
    for settings in CLASSES.values():
        for name, field in settings.model_fields.items():
            described = (field.annotation, field.default, field.description, repr(field.metadata))
            assert seen.setdefault(name, described) == described, name


def test_unknown_variables_are_named_with_the_likely_intended_one() -> None:
    environ = {
        "SMARTAREA_INFLUX_URLL": "http://influxdb:8086",
        "smartarea_alerts_ticks": "1",  # read case-insensitively, so checked so
        "SMARTAREA_NOTHING_LIKE_IT": "1",
        "SMARTAREA_ALERTS_TICK_S": "1",  # alerts' own: fine beside the API
        "SMARTAREA_DEMO_CATALOG": "0",  # read outside the settings classes
        "INFLUX_TOKEN": "t",  # not ours
    }
    assert unknown_variables(environ) == [
        ("SMARTAREA_INFLUX_URLL", "SMARTAREA_INFLUX_URL"),
        ("SMARTAREA_NOTHING_LIKE_IT", None),
        ("smartarea_alerts_ticks", "SMARTAREA_ALERTS_TICK_S"),
    ]


def _refused(module: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        python_module(module),
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("module", "typo", "meant"),
    [
        ("api", "SMARTAREA_INFLUX_URLL", "SMARTAREA_INFLUX_URL"),
        ("alerts", "SMARTAREA_ALERTS_TICKS", "SMARTAREA_ALERTS_TICK_S"),
        ("ingest", "SMARTAREA_INFLUX_URLL", "SMARTAREA_INFLUX_URL"),
    ],
)
def test_a_misspelt_variable_stops_the_service_with_its_name(
    module: str, typo: str, meant: str, tmp_path: Path
) -> None:
    env = {
        typo: "1",
        # another service's variable is fine: they share one environment
        "SMARTAREA_API_PORT": "8000",
        # settings come first: the (unmigrated) catalog is never reached
        "SMARTAREA_DATABASE_URL": f"sqlite:///{tmp_path / 'catalog.sqlite'}",
    }
    done = _refused(module, env)
    assert done.returncode == 2, done.stderr
    assert f"error: {typo}: no smartarea service reads this variable" in done.stderr
    assert f"did you mean {meant}?" in done.stderr
    assert "SMARTAREA_API_PORT" not in done.stderr and "migrate" not in done.stderr


def test_every_variable_compose_sets_is_known() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    blocks = [v for k, v in compose.items() if k.startswith("x-") and isinstance(v, dict)]
    blocks += [s.get("environment", {}) for s in compose["services"].values()]
    names = {name for block in blocks for name in block if name.startswith("SMARTAREA_")}
    assert names and unknown_variables(dict.fromkeys(names, "")) == []


def test_every_variable_the_repository_mentions_is_known() -> None:
    """Docs, compose, Makefile, CI, deployment files and code: a name none of them may mention is
    one nothing reads (its docs would have drifted)."""
    patterns = ("*.md", "docs/*.md", "docker-compose.yml", "Makefile", "Dockerfile", ".ci/*")
    files = [p for pattern in patterns for p in ROOT.glob(pattern)]
    parts = ["api", "alerts", "catalog", "contract", "devstack", "edge", "gateway", "ingest"]
    parts += ["servicekit", "tsdb", "tests", "benchmarks"]
    files += [p for part in parts for p in (ROOT / part).rglob("*") if p.is_file()]
    mentioned: dict[str, Path] = {}
    for path in files:
        if path.suffix in {".pyc", ".png", ".jpg", ".mp4", ".sqlite", ".pdf", ".ico"}:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for name in re.findall(r"SMARTAREA_[A-Z0-9_]*[A-Z0-9](?![A-Z0-9_*])", text):
            mentioned.setdefault(name, path.relative_to(ROOT))
    unknown = {n: p for n, p in mentioned.items() if n not in known_variables() | EXAMPLES}
    assert len(mentioned) > 40 and not unknown, unknown
    assert set(OTHER_VARIABLES) <= set(mentioned)  # each one allowed is still read somewhere
