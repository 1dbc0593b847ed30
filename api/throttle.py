"""Slowing down password guessing: failed logins per user name, in this API process.

The first ``free`` failures within ``forget_s`` cost nothing; each further one locks the name for
``base_s``, doubling up to ``max_s``. While locked, a login is refused before the password is
even checked, so guesses made then teach nothing. A success clears the name. Unknown names are
treated exactly like real ones (the answer must not tell which exist). Several API processes
count separately. The table is bounded: the stalest name goes first, and ``evicted`` counts them.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Record:
    failures: int
    last_failure: float
    locked_until: float


class LoginThrottle:
    def __init__(
        self,
        free: int = 5,
        base_s: float = 30.0,
        max_s: float = 900.0,
        forget_s: float = 900.0,
        capacity: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free, self.base_s, self.max_s, self.forget_s = free, base_s, max_s, forget_s
        self.capacity = capacity
        self.evicted = 0
        self._clock = clock
        self._records: OrderedDict[str, _Record] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, username: str) -> float:
        """Seconds until ``username`` may try again; 0 when it may now."""
        with self._lock:
            record = self._current(username)
            return max(0.0, record.locked_until - self._clock()) if record else 0.0

    def failed(self, username: str) -> float:
        """Count a failure; returns the lock it starts (0 while failures are still free)."""
        now = self._clock()
        with self._lock:
            record = self._current(username) or _Record(0, now, 0.0)
            record.failures += 1
            record.last_failure = now
            over = record.failures - self.free
            lock = min(self.max_s, self.base_s * 2 ** (over - 1)) if over > 0 else 0.0
            record.locked_until = now + lock
            self._records[username] = record
            self._records.move_to_end(username)
            while len(self._records) > self.capacity:
                self._records.popitem(last=False)
                self.evicted += 1
            return lock

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._records.pop(username, None)

    def _current(self, username: str) -> _Record | None:
        record = self._records.get(username)
        now = self._clock()
        if record and now - record.last_failure > self.forget_s and now >= record.locked_until:
            del self._records[username]
            return None
        return record
