"""From received messages to batches of points: decode, dead-letter, format, group.

Runs on one thread (the batcher). A batch holds the lines to write in one request, which message
each line came from, and every message it covers (refused ones included), so that the writer can
acknowledge all of them, in the order they arrived, once the batch is stored.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from contract.models import PresenceState, Report
from ingest.clock import ClockOffsets
from ingest.deadletter import DeadLetters
from ingest.decode import Limits, Reason, Rejection, decode
from ingest.fastreport import FastReport
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


@dataclass(slots=True)
class Batch:
    started: float = field(default_factory=time.monotonic)
    lines: list[str] = field(default_factory=list)
    owners: list[int] = field(default_factory=list)  # index in ``messages`` of each line
    messages: list[Incoming] = field(default_factory=list)
    observed: list[float] = field(default_factory=list)  # observation times of stored reports
    reports: int = 0
    presence: int = 0


class Batcher:
    def __init__(self, limits: Limits, dead_letters: DeadLetters, clock: ClockOffsets) -> None:
        self.limits = limits
        self.dead_letters = dead_letters
        self.clock = clock

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
            self.dead_letters.add(
                message.topic, message.payload, Rejection(Reason.UNWRITABLE, detail)
            )

    def _add(self, batch: Batch, message: Incoming, index: int) -> None:
        received_at = datetime.fromtimestamp(message.received_at, UTC)
        decoded = decode(message.topic, message.payload, received_at, self.limits)
        if isinstance(decoded, Rejection):
            self.dead_letters.add(message.topic, message.payload, decoded)
            return
        agent = (decoded.area_id, decoded.agent_id)
        try:
            if isinstance(decoded, Report | FastReport):
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
            rejection = Rejection(Reason.UNWRITABLE, str(exc))
            self.dead_letters.add(message.topic, message.payload, rejection)
            return
        batch.lines += lines
        batch.owners += [index] * len(lines)
        if isinstance(decoded, Report | FastReport):
            batch.reports += 1
            batch.observed.append(decoded.observed_at.timestamp())
        else:
            batch.presence += 1
