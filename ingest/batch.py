"""From received messages to batches of points: decode, dead-letter, format, group.

Runs on one thread (the batcher). A batch holds the lines to write in one request, which message
each line came from, and every message it covers (refused ones included), so that the writer can
acknowledge all of them, in the order they arrived, once the batch is stored. It also knows which
agent report each message is, so that each agent gets a receipt for what was stored or refused.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from contract import topics
from contract.decode import Limits, Reason, Rejection, decode
from contract.fastreport import ReceivedReport
from contract.models import PresenceState
from ingest.clock import ClockOffsets
from ingest.deadletter import DeadLetters
from ingest.devices import DeviceBound
from ingest.points import presence_lines, report_lines
from tsdb.lineprotocol import UnwritableValue

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Incoming:
    """One MQTT message as received; ``epoch`` numbers the connection it arrived on."""

    epoch: int
    mid: int
    qos: int
    topic: str
    payload: bytes
    received_at: float  # time.time()
    retained: bool = False


@dataclass(frozen=True, slots=True)
class ReportId:
    area_id: str
    agent_id: str
    seq: int


@dataclass(frozen=True, slots=True)
class RefusedId:
    report: ReportId
    rejection: Rejection


@dataclass(slots=True)
class Batch:
    started: float = field(default_factory=time.monotonic)
    lines: list[str] = field(default_factory=list)
    owners: list[int] = field(default_factory=list)  # index in ``messages`` of each line
    messages: list[Incoming] = field(default_factory=list)
    observed: list[float] = field(default_factory=list)  # observation times of stored reports
    reports: int = 0
    presence: int = 0
    # message index → (area, agent, seq) of each report with points in ``lines``
    report_ids: dict[int, ReportId] = field(default_factory=dict)
    refused: list[RefusedId] = field(default_factory=list)  # reports refused for good


def refused_report(message: Incoming) -> ReportId | None:
    """Which report a refused message was, when that can be told: the topic names the agent
    (the broker's ACL vouches for it) and the payload, if it is a JSON object, its ``seq``.
    Without a number no receipt can be sent: the agent re-sends such a message until its
    outbox's age limit drops it (counted)."""
    try:
        parts = topics.parse(message.topic)
        if parts.channel is not topics.Channel.REPORT:
            return None
        data = json.loads(message.payload)
    except (ValueError, RecursionError):
        return None
    seq = data.get("seq") if isinstance(data, dict) else None
    if type(seq) is not int or not 0 <= seq < 2**63:
        return None
    return ReportId(parts.area_id, parts.agent_id, seq)


class Batcher:
    def __init__(
        self,
        limits: Limits,
        dead_letters: DeadLetters,
        clock: ClockOffsets,
        devices: DeviceBound | None = None,
    ) -> None:
        self.limits = limits
        self.dead_letters = dead_letters
        self.clock = clock
        self.devices = devices if devices is not None else DeviceBound(limit=1000)

    def add(self, batch: Batch, message: Incoming) -> None:
        """Add one message: its points, or its dead letter (it is acknowledged with the batch).

        Never raises: a message that trips an unexpected error is dead-lettered (and the error
        logged), so one poison message can neither stop ingest nor come back forever."""
        index = len(batch.messages)
        batch.messages.append(message)
        try:
            self._add(batch, message, index)
        except Exception as exc:
            logger.exception("could not handle a message on %.120s", message.topic)
            del batch.lines[len(batch.owners) :]  # nothing half-added
            detail = f"unexpected {type(exc).__name__} in ingest: {str(exc)[:200]}"
            self._refuse(batch, message, Rejection(Reason.UNWRITABLE, detail))

    def _refuse(self, batch: Batch, message: Incoming, rejection: Rejection) -> None:
        self.dead_letters.add(message.topic, message.payload, rejection)
        report = refused_report(message)
        if report is not None:
            batch.refused.append(RefusedId(report, rejection))

    def _add(self, batch: Batch, message: Incoming, index: int) -> None:
        received_at = datetime.fromtimestamp(message.received_at, UTC)
        decoded = decode(message.topic, message.payload, received_at, self.limits)
        if isinstance(decoded, Rejection):
            self._refuse(batch, message, decoded)
            return
        agent = (decoded.area_id, decoded.agent_id)
        if isinstance(decoded, ReceivedReport):
            ids = (result.device_id for result in decoded.results)
            too_many = self.devices.admit(decoded.area_id, decoded.agent_id, ids)
            if too_many is not None:
                self._refuse(batch, message, Rejection(Reason.TOO_MANY_DEVICES, too_many))
                return
        try:
            if isinstance(decoded, ReceivedReport):
                # The report leaves once its probes are done: cycle_ms after observed_at.
                cycle_s = float(decoded.agent_metrics.get("cycle_ms", 0.0)) / 1000
                cycle_s = min(max(0.0, cycle_s), decoded.interval_s)
                sent = decoded.observed_at.timestamp() + cycle_s
                offset = self.clock.sample(agent, message.received_at - sent, message.received_at)
                lines = report_lines(decoded, received_at, offset)
            else:
                if (
                    decoded.at is not None
                    and not message.retained
                    and decoded.state is PresenceState.ONLINE
                ):
                    sample = message.received_at - decoded.at.timestamp()
                    self.clock.sample(agent, sample, message.received_at)
                lines = presence_lines(decoded, received_at)
        except UnwritableValue as exc:
            self._refuse(batch, message, Rejection(Reason.UNWRITABLE, str(exc)))
            return
        batch.lines += lines
        batch.owners += [index] * len(lines)
        if isinstance(decoded, ReceivedReport):
            batch.reports += 1
            batch.observed.append(decoded.observed_at.timestamp())
            batch.report_ids[index] = ReportId(decoded.area_id, decoded.agent_id, decoded.seq)
        else:
            batch.presence += 1
