"""Shared fixtures and guards.

Guards, applied to every test: a test that leaves threads or child processes behind fails, and so
does one during which anything logged an ERROR that the test did not expect (``expect_errors``).
Warnings are errors (pyproject). Servers are real: Mosquitto and InfluxDB from the harness.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from devstack.processes import live_children
from devstack.servers import InfluxDB, Mosquitto

# The machine is shared and noisy: no per-example deadline.
settings.register_profile("smartarea", deadline=None)
settings.load_profile("smartarea")

_IGNORED_THREADS = ("pydevd", "asyncio_", "Dummy-")


class _ErrorCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self.expected = False

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def expect_errors(request: pytest.FixtureRequest) -> None:
    """Request this fixture in a test whose scenario logs errors on purpose."""
    request.node.stash[_EXPECT_ERRORS] = True


_EXPECT_ERRORS = pytest.StashKey[bool]()


@pytest.fixture(autouse=True)
def _guards(request: pytest.FixtureRequest) -> Iterator[None]:
    before = set(threading.enumerate())
    collector = _ErrorCollector()
    logging.getLogger().addHandler(collector)
    try:
        yield
    finally:
        logging.getLogger().removeHandler(collector)
    # Threads finish asynchronously after their owner stopped them: allow a short grace.
    deadline = time.monotonic() + 5
    leaked: list[threading.Thread] = []
    while time.monotonic() < deadline:
        leaked = [
            t
            for t in threading.enumerate()
            if t not in before and t.is_alive() and not t.name.startswith(_IGNORED_THREADS)
        ]
        if not leaked:
            break
        time.sleep(0.05)
    children = live_children()
    for child in children:
        child.stop()
    problems = []
    if leaked:
        problems.append(f"leaked threads: {[t.name for t in leaked]}")
    if children:
        problems.append(f"left child processes running: {[c.name for c in children]}")
    if collector.records and not request.node.stash.get(_EXPECT_ERRORS, False):
        problems.append(
            "unexpected errors logged: "
            + "; ".join(r.getMessage()[:200] for r in collector.records)
        )
    if problems:
        pytest.fail("; ".join(problems))


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path / "mosquitto").start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def influxdb(tmp_path: Path) -> Iterator[InfluxDB]:
    server = InfluxDB(tmp_path / "influxdb").start()
    try:
        yield server
    finally:
        server.stop()
