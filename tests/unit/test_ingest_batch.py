"""Batching: arrival order, refused messages kept for the ack, a poison message contained."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import ingest.batch
from contract import topics
from contract.decode import Limits, Reason
from contract.models import DeviceResult, Report
from ingest.batch import Batch, Batcher, Incoming
from ingest.clock import ClockOffsets
from ingest.deadletter import DeadLetters
from ingest.devices import DeviceBound
from ingest.metrics import Metrics

TOPIC = topics.report_topic("son-vi-khu-6", "nvh")


def _payload(seq: int, cycle_ms: float = 400.0) -> bytes:
    return Report(
        area_id="son-vi-khu-6",
        agent_id="nvh",
        seq=seq,
        observed_at=datetime.now(UTC) - timedelta(seconds=3),
        interval_s=60,
        results=[DeviceResult(device_id="cam-01", kind="camera", status="up", duration_ms=2.0)],
        agent_metrics={"cycle_ms": cycle_ms},
    ).to_json()


def _batcher(tmp_path: Path) -> tuple[Batcher, Metrics]:
    metrics = Metrics()
    return Batcher(Limits(), DeadLetters(metrics, tmp_path / "dead.jsonl"), ClockOffsets()), metrics


def test_good_and_refused_messages_are_all_kept_for_the_ack_in_order(tmp_path: Path) -> None:
    batcher, metrics = _batcher(tmp_path)
    batch = Batch()
    for mid, payload in enumerate([_payload(1), b"{oops", _payload(2)], start=1):
        batcher.add(batch, Incoming(1, mid, 1, TOPIC, payload, time.time()))
    assert [m.mid for m in batch.messages] == [1, 2, 3]
    assert batch.reports == 2
    assert len(batch.lines) == 4  # camera + agent_report, twice
    assert batch.owners == [0, 0, 2, 2]
    assert metrics.get("dead_letters", reason="bad_json") == 1


def test_the_clock_offset_is_stored_with_the_report(tmp_path: Path) -> None:
    batcher, _ = _batcher(tmp_path)
    batch = Batch()
    batcher.add(batch, Incoming(1, 1, 1, TOPIC, _payload(1, cycle_ms=1000), time.time()))
    summary = batch.lines[-1]
    offset = float(summary.split("clock_offset_s=")[1].split(",")[0])
    assert 1.9 < offset < 2.1  # sent 3 s ago minus the 1 s cycle: offset ≈ 2 s (same clock)


def test_a_poison_message_is_dead_lettered_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, expect_errors: None
) -> None:
    batcher, metrics = _batcher(tmp_path)

    def broken(*_: object, **__: object) -> list[str]:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(ingest.batch, "report_lines", broken)
    batch = Batch()
    batcher.add(batch, Incoming(1, 1, 1, TOPIC, _payload(1), time.time()))
    assert batch.lines == []
    assert [m.mid for m in batch.messages] == [1]  # acknowledged with the batch: no loop
    assert metrics.get("dead_letters", reason="unwritable_value") == 1
    assert "ZeroDivisionError" in (tmp_path / "dead.jsonl").read_text()


def test_a_fresh_device_bound_given_to_the_batcher_is_the_one_enforced(tmp_path: Path) -> None:
    # An empty bound has length 0: it must not be mistaken for "none given" (it once was, and
    # every agent silently got the default of 1000 devices).
    metrics = Metrics()
    bound = DeviceBound(limit=1)
    batcher = Batcher(
        Limits(), DeadLetters(metrics, tmp_path / "dead.jsonl"), ClockOffsets(), bound
    )
    assert batcher.devices is bound
    other = Report.model_validate_json(_payload(2)).model_copy(
        update={
            "results": [
                DeviceResult(device_id="cam-02", kind="camera", status="up", duration_ms=1.0)
            ]
        }
    )
    batch = Batch()
    batcher.add(batch, Incoming(1, 1, 1, TOPIC, _payload(1), time.time()))
    batcher.add(batch, Incoming(1, 2, 1, TOPIC, other.to_json(), time.time()))
    assert [r.report.seq for r in batch.refused] == [2]
    assert [r.rejection.reason for r in batch.refused] == [Reason.TOO_MANY_DEVICES]
    assert "the limit is 1" in batch.refused[0].rejection.detail


def test_the_device_bound_counts_each_id_once_per_agent() -> None:
    bound = DeviceBound(limit=2)
    assert bound.admit("a", "nvh", ["c1", "c2"]) is None
    assert bound.admit("a", "nvh", ["c2", "c1"]) is None  # known ids cost nothing
    assert bound.admit("a", "nvh", ["c3"]) is not None
    assert bound.admit("a", "nvh", ["c1"]) is None  # a refusal records nothing
    assert bound.admit("b", "nvh", ["c3", "c4"]) is None  # another area has its own bound
