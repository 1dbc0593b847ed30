"""Not one report lost: fibre cuts, broker restarts, a killed agent, a full outbox.

Every part is real: the agent runs as its own process with its SQLite outbox, the "fibre" is a
TCP relay the test cuts, and what counts is what reached InfluxDB through broker and ingest.
"""

from __future__ import annotations

import signal
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import pytest

from contract import topics
from contract.models import DeviceResult, Report
from devstack.processes import Child, child_env, python_module
from devstack.servers import InfluxDB, Mosquitto
from devstack.stack import Stack
from ingest.service import IngestService
from tests.integration.conftest import ingest_settings, publisher, wait_for
from tests.integration.cuttable import CuttableLink
from tsdb.writer import InfluxV1Writer

AREA = "phuc-khanh-thon-1"


@pytest.fixture
def fibre(stack: Stack) -> Iterator[CuttableLink]:
    link = CuttableLink(stack.mosquitto.port)
    link.restore()
    try:
        yield link
    finally:
        link.close()


def _config(
    tmp_path: Path, broker_port: int, uplink_port: int, outbox: str = "", lan_port: int = 0
) -> Path:
    path = tmp_path / "agent.toml"
    lan = lan_port or uplink_port
    path.write_text(
        f"""
area_id = "{AREA}"
agent_id = "nvh"
interval_s = 1

[broker]
host = "127.0.0.1"
port = {broker_port}
tls = false
keepalive_s = 5

[outbox]
flush_on_stop_s = 2
{outbox}

[[devices]]
id = "uplink"
type = "uplink"
timeout_s = 0.2
attempts = 2
spacing_ms = 0
targets = [
  {{ name = "ont", role = "gateway", method = "tcp", host = "127.0.0.1", port = {lan} }},
  {{ name = "web", role = "upstream", method = "tcp", host = "127.0.0.1", port = {uplink_port} }},
]
""",
        encoding="utf-8",
    )
    return path


def _agent(tmp_path: Path, config: Path) -> Child:
    return Child(
        "agent",
        python_module("edge", "run", str(config)),
        tmp_path / "agent.log",
        env=child_env({}),
    ).start()


def _stored(stack: Stack) -> list[tuple[int, int]]:
    """(observation time in ns, seq) of every report in InfluxDB, in time order."""
    rows = stack.influxdb.values(f'SELECT "seq" FROM "agent_report" WHERE "area" = \'{AREA}\'')
    return [(int(t), int(seq)) for t, seq in rows]


def _seqs(stack: Stack) -> list[int]:
    return [seq for _, seq in _stored(stack)]


def _outbox(tmp_path: Path, sql: str) -> list[tuple[int, ...]]:
    """Read the agent's outbox file as it is on disk (read-only; empty until the agent made it)."""
    path = tmp_path / "state" / "outbox.sqlite"
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute(sql).fetchall()
    except sqlite3.OperationalError:  # the agent has not created its tables yet
        return []
    finally:
        db.close()


def _outbox_depth(tmp_path: Path) -> int:
    return len(_outbox(tmp_path, "SELECT seq FROM reports"))


def _last_agent_metric(stack: Stack, field: str) -> float:
    rows = stack.influxdb.values(
        f'SELECT last("{field}") FROM "agent_report" WHERE "area" = \'{AREA}\''
    )
    return float(rows[0][1]) if rows else -1.0


def _stop(agent: Child) -> None:
    agent.signal(signal.SIGTERM)
    assert agent.stop() == 0, agent.log_tail()


def test_fibre_cut_is_recorded_and_every_report_arrives_in_order(
    stack: Stack, fibre: CuttableLink, tmp_path: Path
) -> None:
    # The agent reaches the broker through the fibre, and the uplink probe measures the same line;
    # the LAN gateway (here InfluxDB's port on the same host) keeps answering.
    config = _config(tmp_path, fibre.port, fibre.port, lan_port=stack.influxdb.port)
    agent = _agent(tmp_path, config)
    try:
        wait_for(lambda: len(_seqs(stack)) >= 3, "reports before the cut")
        cut_at = datetime.now(UTC)
        fibre.cut()
        wait_for(lambda: _outbox_depth(tmp_path) >= 5, "five reports held in the outbox")
        restored_at = datetime.now(UTC)
        fibre.restore()
        wait_for(lambda: _outbox_depth(tmp_path) == 0, "the outbox to drain", timeout=60)
    finally:
        _stop(agent)
    wait_for(lambda: _outbox_depth(tmp_path) == 0 and len(_seqs(stack)) >= 8, "all reports stored")
    stored = _stored(stack)
    seqs = [seq for _, seq in stored]
    assert seqs == list(range(1, len(seqs) + 1)), "missing or out-of-order reports"
    # Original observation times: one per interval, not bunched at the moment of reconnection.
    times = [t for t, _ in stored]
    assert max(b - a for a, b in pairwise(times)) < 3e9

    # The outage is in InfluxDB with its true start and end.
    query = f'SELECT "status", "reason" FROM "uplink" WHERE "area" = \'{AREA}\''
    values = stack.influxdb.values(query)
    rows = [(datetime.fromtimestamp(t / 1e9, UTC), s) for t, s, _ in values]
    # The LAN gateway kept answering: the fault is placed beyond it.
    assert {reason for _, s, reason in values if s == "down"} == {"uplink_fault"}
    down = [t for t, s in rows if s == "down"]
    assert len(down) >= 4, rows
    assert cut_at <= down[0] and (down[0] - cut_at).total_seconds() < 2.5
    assert down[-1] <= restored_at and (restored_at - down[-1]).total_seconds() < 2.5
    assert all(s == "up" for t, s in rows if t < cut_at or t > restored_at)


def test_broker_restart_loses_nothing(stack: Stack, tmp_path: Path) -> None:
    port = stack.mosquitto.port
    agent = _agent(tmp_path, _config(tmp_path, port, port))
    try:
        wait_for(lambda: len(_seqs(stack)) >= 2, "reports before the restart")
        stack.mosquitto.stop()
        wait_for(lambda: _outbox_depth(tmp_path) >= 3, "reports held while the broker is down")
        stack.mosquitto.start()
        wait_for(lambda: len(_seqs(stack)) >= 8 and _outbox_depth(tmp_path) == 0, "the backlog", 60)
        # A report made after the reconnection says so (the backlog's reports were made before).
        wait_for(lambda: _last_agent_metric(stack, "connects_total") >= 2, "a second connection")
    finally:
        _stop(agent)
    seqs = _seqs(stack)
    assert seqs == list(range(1, len(seqs) + 1))


def test_agent_killed_while_draining_loses_nothing_and_counts_resends(
    stack: Stack, fibre: CuttableLink, tmp_path: Path
) -> None:
    config = _config(tmp_path, fibre.port, stack.mosquitto.port, "send_rate_per_s = 3\nwindow = 4")
    fibre.cut()  # start with the line down: a backlog builds up
    agent = _agent(tmp_path, config)
    try:
        wait_for(lambda: _outbox_depth(tmp_path) >= 12, "a backlog of 12 reports", timeout=40)
        fibre.restore()
        wait_for(lambda: len(_seqs(stack)) >= 3, "the drain to start")
        agent.kill()  # SIGKILL in the middle of the drain
    finally:
        agent.stop()
    tried = len(_outbox(tmp_path, "SELECT seq FROM reports WHERE attempts > 0"))
    assert _outbox_depth(tmp_path) > 0, "the kill came too late to test anything"

    agent = _agent(tmp_path, config)
    try:
        wait_for(lambda: _outbox_depth(tmp_path) == 0, "the rest of the backlog", timeout=60)
        wait_for(lambda: _last_agent_metric(stack, "resent_total") == tried, "the resend count")
    finally:
        _stop(agent)
    seqs = _seqs(stack)
    assert seqs == list(range(1, len(seqs) + 1))


def test_full_outbox_drops_the_oldest_and_the_count_reaches_influxdb(
    stack: Stack, fibre: CuttableLink, tmp_path: Path
) -> None:
    config = _config(tmp_path, fibre.port, stack.mosquitto.port, "max_reports = 4")
    fibre.cut()
    agent = _agent(tmp_path, config)
    try:
        started = time.monotonic()
        wait_for(lambda: _seqs_in_outbox(tmp_path)[0] >= 4, "the outbox to overflow", timeout=40)
        assert time.monotonic() - started > 3  # it took real cycles, not a shortcut
        fibre.restore()
        wait_for(lambda: _outbox_depth(tmp_path) == 0, "the outbox to drain", timeout=60)
        seqs = _seqs(stack)
        assert seqs[0] >= 4, "the oldest reports were the ones dropped"
        assert len(seqs) == len(set(seqs)) >= 4
        lost = set(range(1, seqs[-1])) - set(seqs)  # the outbox is empty: not stored is lost
        # Exactly the reports that never arrived, in a report sent after the drain (one dropped
        # while already on its way, and stored after all, is not among them).
        wait_for(
            lambda: _last_agent_metric(stack, "outbox_dropped_total") == len(lost), "drop count"
        )
    finally:
        _stop(agent)


def _seqs_in_outbox(tmp_path: Path) -> list[int]:
    return [r[0] for r in _outbox(tmp_path, "SELECT seq FROM reports ORDER BY seq")] or [0]


def test_reports_a_broker_took_with_no_subscriber_stay_until_ingest_stores_them(
    mosquitto: Mosquitto, influxdb: InfluxDB, tmp_path: Path
) -> None:
    """A fresh broker that never saw ingest answers PUBACK 0x10 'no matching subscribers' and
    keeps nothing: the agent must keep those reports and send them again once ingest is there."""
    config = _config(tmp_path, mosquitto.port, mosquitto.port, "receipt_timeout_s = 1")
    agent = _agent(tmp_path, config)
    try:
        wait_for(
            lambda: len(_outbox(tmp_path, "SELECT seq FROM reports WHERE attempts > 0")) >= 4,
            "four reports sent to a broker nobody reads",
        )
        settings = ingest_settings(mosquitto, influxdb, tmp_path)
        ingest = IngestService(settings, InfluxV1Writer(influxdb.url, influxdb.database))
        ingest.start()
        try:
            wait_for(lambda: _reports_in(influxdb) >= 8, "the kept reports and new ones", 60)
        finally:
            ingest.stop()
    finally:
        _stop(agent)
    rows = influxdb.values(f'SELECT "seq" FROM "agent_report" WHERE "area" = \'{AREA}\'')
    seqs = [int(seq) for _, seq in rows]
    assert seqs == list(range(1, len(seqs) + 1)), "a report the broker took was lost"
    counted = influxdb.values(
        f'SELECT last("no_subscriber_acks_total") FROM "agent_report" WHERE "area" = \'{AREA}\''
    )
    assert counted and counted[0][1] >= 4


def _reports_in(influxdb: InfluxDB) -> int:
    return len(influxdb.values(f'SELECT "seq" FROM "agent_report" WHERE "area" = \'{AREA}\''))


def test_a_flood_that_fills_ingests_queue_makes_other_areas_late_not_lost(
    influxdb: InfluxDB, tmp_path: Path
) -> None:
    """Mosquitto has no per-client rate limit: one agent's flood while ingest is away fills
    ingest's queue at the broker, which then drops what others send (still acknowledging it).
    The other agent's reports come without receipts, so it sends them again: late, not lost."""
    mosquitto = Mosquitto(tmp_path / "mosquitto", max_queued=40).start()
    settings = ingest_settings(mosquitto, influxdb, tmp_path)
    try:
        ingest = IngestService(settings, InfluxV1Writer(influxdb.url, influxdb.database))
        ingest.start()  # its persistent session now exists
        assert ingest.subscribed.wait(10)
        ingest.stop()
        with publisher(mosquitto.port, "flooder") as publish:
            flood_topic = topics.report_topic("ke-lu-khu-2", "nvh")
            for seq in range(1, 201):
                publish(flood_topic, _flood_report(seq))
        config = _config(tmp_path, mosquitto.port, mosquitto.port, "receipt_timeout_s = 1")
        agent = _agent(tmp_path, config)
        try:
            wait_for(
                lambda: len(_outbox(tmp_path, "SELECT seq FROM reports WHERE attempts > 0")) >= 5,
                "five reports sent into the full queue",
            )
            ingest = IngestService(settings, InfluxV1Writer(influxdb.url, influxdb.database))
            ingest.start()
            try:
                wait_for(lambda: _reports_in(influxdb) >= 8, "the dropped reports again", 60)
            finally:
                ingest.stop()
        finally:
            _stop(agent)
    finally:
        mosquitto.stop()
    flooded = influxdb.values('SELECT "seq" FROM "agent_report" WHERE "area" = \'ke-lu-khu-2\'')
    assert len(flooded) == 40, "the queue was not full: the test proves nothing"
    rows = influxdb.values(f'SELECT "seq" FROM "agent_report" WHERE "area" = \'{AREA}\'')
    seqs = [int(seq) for _, seq in rows]
    assert seqs == list(range(1, len(seqs) + 1)), "a report dropped by the broker was lost"
    resent = influxdb.values(
        f'SELECT last("resent_unconfirmed_total") FROM "agent_report" WHERE "area" = \'{AREA}\''
    )
    assert resent and resent[0][1] >= 5


def _flood_report(seq: int) -> bytes:
    return Report(
        area_id="ke-lu-khu-2",
        agent_id="nvh",
        seq=seq,
        observed_at=datetime.now(UTC),
        interval_s=60,
        results=[DeviceResult(device_id="cam-01", kind="camera", status="up", duration_ms=1.0)],
    ).to_json()
