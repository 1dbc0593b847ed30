"""What the agent does with a message on its command topic: act, or ignore with a reason."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from contract.models import Command, CommandName, Report
from edge.agent import _sleep_until
from edge.commands import CommandInbox, Ignored, read_command

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
AREA, AGENT = "son-vi-khu-6", "nvh"


def _command(**overrides: object) -> bytes:
    base: dict[str, object] = {
        "schema": "smartarea.command/1",
        "area_id": AREA,
        "agent_id": AGENT,
        "command": "probe_now",
        "id": "k3J9x_Qa2mZ",
        "issued_at": "2026-11-28T16:00:00+07:00",  # NOW, written in Vietnam's time zone
        "issued_by": "kỹ-thuật-sơn-vi",
    }
    base.update(overrides)
    return json.dumps(base).encode()


def test_a_fresh_probe_now_for_this_agent_is_accepted() -> None:
    outcome = read_command(_command(), AREA, AGENT, NOW)
    assert isinstance(outcome, Command)
    assert outcome.command is CommandName.PROBE_NOW
    assert outcome.issued_at == NOW
    assert outcome.issued_by == "kỹ-thuật-sơn-vi"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", Ignored.BAD_JSON),
        (b"\xff\xfe", Ignored.BAD_JSON),
        (b"[1, 2]", Ignored.UNKNOWN_SCHEMA),
        (_command(schema="smartarea.command/2"), Ignored.UNKNOWN_SCHEMA),
        (_command(schema="smartarea.report/1"), Ignored.UNKNOWN_SCHEMA),
        (_command(command="reboot"), Ignored.INVALID_PAYLOAD),
        (_command(issued_at="2026-11-28T09:00:00"), Ignored.INVALID_PAYLOAD),  # no zone
        (_command(id="has space"), Ignored.INVALID_PAYLOAD),
        (_command(extra="x"), Ignored.INVALID_PAYLOAD),
        (_command(agent_id="other"), Ignored.WRONG_AGENT),
        (_command(area_id="son-vi-khu-7"), Ignored.WRONG_AGENT),
        (_command(issued_by="x" * 5000), Ignored.TOO_LARGE),
    ],
)
def test_invalid_commands_are_ignored_with_a_reason(payload: bytes, reason: Ignored) -> None:
    assert read_command(payload, AREA, AGENT, NOW) is reason


@pytest.mark.parametrize(
    ("issued_at", "expected"),
    [
        (NOW - timedelta(minutes=4, seconds=59), None),
        (NOW - timedelta(minutes=5, seconds=1), Ignored.TOO_OLD),
        (NOW - timedelta(hours=3), Ignored.TOO_OLD),  # delivered late after a reconnect
        (NOW + timedelta(minutes=4), None),  # the server's clock is a little ahead
        (NOW + timedelta(minutes=6), Ignored.IN_FUTURE),
    ],
)
def test_commands_age(issued_at: datetime, expected: Ignored | None) -> None:
    outcome = read_command(_command(issued_at=issued_at.isoformat()), AREA, AGENT, NOW)
    if expected is None:
        assert isinstance(outcome, Command)
    else:
        assert outcome is expected


def test_inbox_wakes_on_probe_now_and_counts(caplog: pytest.LogCaptureFixture) -> None:
    inbox = CommandInbox(AREA, AGENT)
    assert not inbox.wake.is_set()
    with caplog.at_level(logging.WARNING, logger="edge.commands"):
        for _ in range(3):
            inbox.receive(b"garbage", now=NOW)
        inbox.receive(_command(agent_id="other"), now=NOW)
    assert not inbox.wake.is_set()
    # Once per reason in the log, every one in the metrics.
    assert [r.getMessage().split("(")[1].split(")")[0] for r in caplog.records] == [
        "bad_json",
        "wrong_agent",
    ]
    inbox.receive(_command(), now=NOW)
    inbox.receive(_command(), now=NOW)
    assert inbox.wake.is_set()
    assert inbox.metrics() == {
        "commands_total": 2,
        "commands_ignored_total": 4,
        "commands_ignored_bad_json": 3,
        "commands_ignored_wrong_agent": 1,
    }


def test_metric_names_fit_the_report_contract() -> None:
    inbox = CommandInbox(AREA, AGENT)
    for reason in Ignored:
        inbox._ignored[reason] += 1
    Report(
        area_id=AREA,
        agent_id=AGENT,
        seq=1,
        observed_at=NOW,
        interval_s=60,
        results=[],
        agent_metrics=inbox.metrics(),
    )


def test_wake_ends_the_wait_between_cycles() -> None:
    stop, wake = threading.Event(), threading.Event()
    timer = threading.Timer(0.1, wake.set)
    started = time.monotonic()
    timer.start()
    _sleep_until(started + 60, stop, wake)
    timer.join()
    assert time.monotonic() - started < 30  # not the whole interval
