"""Writing one batch until it is stored: retry, split, or dead-letter, by the writer's verdict.

- ``Retryable`` (down, 5xx, 429, timeout): wait with capped exponential backoff and jitter, or
  exactly ``Retry-After`` when the server says so, then write the same points again. Nothing is
  acknowledged meanwhile, so the broker keeps every message and its queue gives back-pressure.
- ``TooLarge`` (413): write the two halves separately (recursively, down to one point).
- ``Rejected`` (other 4xx): bisect, on message boundaries, to find the refused messages; the
  others are written (rewriting a point InfluxDB already accepted is harmless: same series, same
  time). A message is stored whole or refused whole: InfluxDB keeps the accepted lines of a
  refused write, so the points a refused report did leave are erased again, and the message is
  dead-lettered with reason ``db_rejected`` and InfluxDB's explanation.
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
import time
from dataclasses import dataclass, field

from contract.decode import Reason, Rejection
from ingest.batch import Batch, RefusedId
from ingest.deadletter import DeadLetters
from ingest.metrics import Metrics
from servicekit.backoff import backoff_s
from tsdb.schema import AGENT, AREA
from tsdb.writer import Misconfigured, Rejected, Retryable, TooLarge, Writer

logger = logging.getLogger(__name__)

BACKOFF_START_S = 0.5
# Every line ingest writes starts "<measurement>,agent=<slug>,area=<slug>" (tags in key order).
_AGENT_TAGS = re.compile(rf"^[a-z_]+,{AGENT}=([a-z0-9-]+),{AREA}=([a-z0-9-]+)[, ]")
RETRY_AFTER_CAP_S = 600.0


class Stopped(Exception):
    """The service is stopping: the batch was not (completely) stored and must not be acked."""


@dataclass
class _Refused:
    lines: int = 0
    errors: list[str] = field(default_factory=list)


def _message_boundary(owners: list[int]) -> int:
    """The index nearest the middle where one message's lines end and the next one's begin."""
    middle = len(owners) // 2
    for step in range(len(owners)):
        for index in (middle - step, middle + step):
            if 0 < index < len(owners) and owners[index] != owners[index - 1]:
                return index
    raise ValueError("the lines belong to one message")


class Delivery:
    def __init__(
        self,
        writer: Writer,
        metrics: Metrics,
        dead_letters: DeadLetters,
        stopping: threading.Event,
        retry_max_s: float = 30.0,
    ) -> None:
        self.writer = writer
        self.metrics = metrics
        self.dead_letters = dead_letters
        self.stopping = stopping
        self.retry_max_s = retry_max_s

    def deliver(self, batch: Batch) -> None:
        """Store the batch (raises ``Stopped`` if stopping first); dead-letter refused messages,
        and move their reports from ``batch.report_ids`` to ``batch.refused``."""
        refused: dict[int, _Refused] = {}
        if batch.lines:
            self._write(batch.lines, batch.owners, refused)
        for owner, what in refused.items():
            message = batch.messages[owner]
            lines = [line for line, o in zip(batch.lines, batch.owners, strict=True) if o == owner]
            self._erase(lines)
            detail = f"{what.lines} point(s) refused: {what.errors[0]}"[:300]
            rejection = Rejection(Reason.DB_REJECTED, detail)
            self.dead_letters.add(message.topic, message.payload, rejection)
            self.metrics.inc("points_rejected", what.lines)
            report = batch.report_ids.pop(owner, None)
            if report is not None:
                batch.reports -= 1
                batch.refused.append(RefusedId(report, rejection))

    def _erase(self, lines: list[str]) -> None:
        """Erase what one refused message's write may have left (same agent, same time)."""
        found = _AGENT_TAGS.match(lines[0])
        if found is None:  # pragma: no cover - every line ingest writes has these tags
            logger.error("cannot erase a line without agent tags: %.120s", lines[0])
            return
        tags = {AGENT: found[1], AREA: found[2]}
        measurements = {line.split(",", 1)[0] for line in lines}
        time_ns = int(lines[0].rsplit(" ", 1)[1])
        for attempt in itertools.count():
            try:
                self.writer.erase(measurements, tags, time_ns)
                self.metrics.inc("partial_writes_erased")
                return
            except Retryable as exc:
                logger.warning("could not erase a refused message's points (%s); retrying", exc)
                if self.stopping.wait(backoff_s(attempt, BACKOFF_START_S, self.retry_max_s)):
                    raise Stopped from None

    def _write(self, lines: list[str], owners: list[int], refused: dict[int, _Refused]) -> None:
        attempt = 0
        complained = False
        while True:
            if self.stopping.is_set():
                raise Stopped
            started = time.monotonic()
            try:
                self.writer.write(lines)
            except TooLarge as exc:
                if len(lines) == 1:
                    self._refused(refused, owners[0], len(lines), exc)
                    return
                self.metrics.inc("batch_splits")
                half = len(lines) // 2  # a message's lines may go in two requests: all stored
                self._write(lines[:half], owners[:half], refused)
                self._write(lines[half:], owners[half:], refused)
                return
            except Rejected as exc:
                if owners[0] == owners[-1]:  # one message: refused whole
                    self._refused(refused, owners[0], len(lines), exc)
                    return
                half = _message_boundary(owners)
                self._write(lines[:half], owners[:half], refused)
                self._write(lines[half:], owners[half:], refused)
                return
            except Retryable as exc:
                self.metrics.inc("write_retries")
                if exc.retry_after_s is not None:
                    wait = min(exc.retry_after_s, RETRY_AFTER_CAP_S)
                else:
                    wait = backoff_s(attempt, BACKOFF_START_S, self.retry_max_s)
                    attempt += 1
                if isinstance(exc, Misconfigured) and not complained:
                    complained = True
                    logger.error("InfluxDB refuses ingest (%s); holding messages, retrying", exc)
                else:
                    logger.warning("write failed (%s); retrying in %.1f s", exc, wait)
                if self.stopping.wait(wait):
                    raise Stopped from None
                continue
            self.metrics.write_latency.observe(time.monotonic() - started)
            self.metrics.inc("batches_written")
            self.metrics.inc("points_written", len(lines))
            return

    @staticmethod
    def _refused(refused: dict[int, _Refused], owner: int, lines: int, exc: Exception) -> None:
        entry = refused.setdefault(owner, _Refused())
        entry.lines += lines
        entry.errors.append(str(exc))
