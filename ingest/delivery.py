"""Writing one batch until it is stored: retry, split, or dead-letter, by the writer's verdict.

- ``Retryable`` (down, 5xx, 429, timeout): wait with capped exponential backoff and jitter, or
  exactly ``Retry-After`` when the server says so, then write the same points again. Nothing is
  acknowledged meanwhile, so the broker keeps every message and its queue gives back-pressure.
- ``TooLarge`` (413): write the two halves separately (recursively, down to one point).
- ``Rejected`` (other 4xx): bisect to find the refused points; the rest is written (rewriting a
  point InfluxDB already accepted is harmless: same series, same time). The refused points'
  messages are dead-lettered with reason ``db_rejected`` and InfluxDB's explanation.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass, field

from ingest.batch import Batch
from ingest.deadletter import DeadLetters
from ingest.decode import Reason, Rejection
from ingest.metrics import Metrics
from tsdb.writer import Misconfigured, Rejected, Retryable, TooLarge, Writer

logger = logging.getLogger(__name__)

BACKOFF_START_S = 0.5
RETRY_AFTER_CAP_S = 600.0


class Stopped(Exception):
    """The service is stopping: the batch was not (completely) stored and must not be acked."""


@dataclass
class _Refused:
    lines: int = 0
    errors: list[str] = field(default_factory=list)


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
        self._jitter = random.Random()  # noqa: S311 - jitter, not security

    def deliver(self, batch: Batch) -> None:
        """Store the batch (raises ``Stopped`` if stopping first); dead-letter refused points."""
        refused: dict[int, _Refused] = {}
        if batch.lines:
            self._write(batch.lines, batch.owners, refused)
        for owner, what in refused.items():
            message = batch.messages[owner]
            detail = f"{what.lines} point(s) refused: {what.errors[0]}"[:300]
            self.dead_letters.add(
                message.topic, message.payload, Rejection(Reason.DB_REJECTED, detail)
            )
            self.metrics.inc("points_rejected", what.lines)

    def _write(self, lines: list[str], owners: list[int], refused: dict[int, _Refused]) -> None:
        delay = BACKOFF_START_S
        complained = False
        while True:
            if self.stopping.is_set():
                raise Stopped
            started = time.monotonic()
            try:
                self.writer.write(lines)
            except (TooLarge, Rejected) as exc:
                if len(lines) == 1:
                    entry = refused.setdefault(owners[0], _Refused())
                    entry.lines += 1
                    entry.errors.append(str(exc))
                    return
                if isinstance(exc, TooLarge):
                    self.metrics.inc("batch_splits")
                half = len(lines) // 2
                self._write(lines[:half], owners[:half], refused)
                self._write(lines[half:], owners[half:], refused)
                return
            except Retryable as exc:
                self.metrics.inc("write_retries")
                if exc.retry_after_s is not None:
                    wait = min(exc.retry_after_s, RETRY_AFTER_CAP_S)
                else:
                    wait = delay * self._jitter.uniform(0.75, 1.25)
                    delay = min(delay * 2, self.retry_max_s)
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
