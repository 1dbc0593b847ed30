"""Grouping, routing and delivery with retries; every attempt goes to the delivery log.

- ``Grouper``: items for one area wait ``window_s`` (from the first one) and leave as one message.
- ``Dispatcher``: one thread; a message becomes one job per contact; a failed attempt is retried
  after ``base_s``·2ⁿ (capped at ``max_s``) up to ``attempts`` times. Jobs wait in a bounded heap,
  so a dead receiver never blocks the others; a full heap drops the job and counts it.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from alerts.messages import Item, Message
from alerts.routing import Contact, Routing
from alerts.senders import SendError
from servicekit.backoff import backoff_s

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Attempt:
    message: Message
    contact: Contact
    attempt: int
    outcome: str  # sent, failed (will retry), gave_up
    error: str | None


@dataclass
class _Pending:
    first: float
    area_name: str | None
    commune_id: str | None
    items: list[Item] = field(default_factory=list)


class Grouper:
    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()

    def add(self, area_id: str, area_name: str | None, commune_id: str | None, item: Item) -> None:
        with self._lock:
            pending = self._pending.get(area_id)
            if pending is None:
                pending = self._pending[area_id] = _Pending(time.monotonic(), area_name, commune_id)
            pending.items.append(item)

    def due(self, force: bool = False) -> list[Message]:
        now = time.monotonic()
        out: list[Message] = []
        with self._lock:
            for area_id, pending in list(self._pending.items()):
                if force or now - pending.first >= self.window_s:
                    del self._pending[area_id]
                    out.append(
                        Message(
                            uuid.uuid4().hex,
                            area_id,
                            pending.area_name,
                            pending.commune_id,
                            tuple(pending.items),
                            incident_ids=tuple(sorted({i.incident_id for i in pending.items})),
                        )
                    )
        return out


@dataclass(frozen=True, slots=True)
class _Job:
    message: Message
    contact: Contact
    attempt: int


class Dispatcher:
    def __init__(
        self,
        routing: Routing,
        send: Callable[[Message, Contact], None],
        log: Callable[[Attempt], None],
        attempts: int = 5,
        base_s: float = 2.0,
        max_s: float = 300.0,
        capacity: int = 10_000,
    ) -> None:
        self.routing = routing
        self._send = send
        self._log = log
        self.attempts = attempts
        self.base_s = base_s
        self.max_s = max_s
        self.capacity = capacity
        self.dropped = 0
        self.sent = 0
        self.gave_up = 0
        self._heap: list[tuple[float, int, _Job]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="alerts-delivery", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, message: Message) -> int:
        """Queue the message for every contact its area routes to; returns how many."""
        contacts = self.routing.contacts(message.area_id, message.commune_id, message.escalation)
        with self._cond:
            for contact in contacts:
                if len(self._heap) >= self.capacity:
                    self.dropped += 1
                    logger.warning("delivery queue full: dropped a message to %s", contact.channel)
                    continue
                job = _Job(message, contact, 1)
                heapq.heappush(self._heap, (time.monotonic(), next(self._order), job))
            self._cond.notify()
        return len(contacts)

    def depth(self) -> int:
        with self._cond:
            return len(self._heap)

    def idle(self) -> bool:
        with self._cond:
            return not self._heap and not self._busy

    _busy = False

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping:
                    if self._heap and self._heap[0][0] <= time.monotonic():
                        break
                    wait = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(timeout=min(wait, 0.5) if wait is not None else 0.5)
                if self._stopping:
                    return
                _, _, job = heapq.heappop(self._heap)
                self._busy = True
            try:
                self._attempt(job)
            finally:
                with self._cond:
                    self._busy = False

    def _attempt(self, job: _Job) -> None:
        try:
            self._send(job.message, job.contact)
        except Exception as exc:  # a sender's bug must not end deliveries: count it, retry
            error = str(exc)[:300] if isinstance(exc, SendError) else type(exc).__name__
            if job.attempt >= self.attempts:
                self.gave_up += 1
                logger.warning(
                    "gave up sending message %s by %s after %d attempts: %s",
                    job.message.id,
                    job.contact.channel,
                    job.attempt,
                    error,
                )
                self._log(Attempt(job.message, job.contact, job.attempt, "gave_up", error))
                return
            self._log(Attempt(job.message, job.contact, job.attempt, "failed", error))
            delay = backoff_s(job.attempt - 1, self.base_s, self.max_s)
            with self._cond:
                retry = _Job(job.message, job.contact, job.attempt + 1)
                heapq.heappush(self._heap, (time.monotonic() + delay, next(self._order), retry))
            return
        self.sent += 1
        self._log(Attempt(job.message, job.contact, job.attempt, "sent", None))

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread.ident is not None:
            self._thread.join()
