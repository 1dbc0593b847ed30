"""The API's rate limits, shared by all its workers through the catalog database.

**Login throttle.** Failed logins are counted per user name: the first ``free`` failures
within ``forget_s`` cost nothing; each further one locks the name for ``base_s``, doubling up to
``max_s`` (a lock, not a retry: deterministic, so the 429's ``Retry-After`` is exact). While
locked, a login is refused before the password is even checked, so guesses made then teach
nothing. A success clears the name. Unknown names are treated exactly like real ones (the answer
must not tell which exist). The table is bounded: past ``capacity`` names, the stalest unlocked
ones go first (a flood of new names cannot unlock a name under attack); ``evicted`` counts them.

**Command cooldown.** At most one command per agent every ``seconds``: a probe cycle costs the
cultural-house PC seconds of CPU (it decodes every camera), so the button must not keep its
cameras busy however often, or through however many workers, it is pressed. ``take`` reserves
the agent's turn, ``give_back`` returns it when the command could not be sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from catalog import limits
from catalog.db import Catalog

LOGIN = "login:"
COMMAND = "command:"


class LoginThrottle:
    def __init__(
        self,
        catalog: Catalog,
        free: int = 5,
        base_s: float = 30.0,
        max_s: float = 900.0,
        forget_s: float = 900.0,
        capacity: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.catalog = catalog
        self.free, self.base_s, self.max_s, self.forget_s = free, base_s, max_s, forget_s
        self.capacity = capacity
        self.evicted = 0
        self._clock = clock

    def retry_after(self, username: str) -> float:
        """Seconds until ``username`` may try again; 0 when it may now."""
        with self.catalog.transaction() as session:
            return limits.refused_for(session, LOGIN + username, self._clock())

    def failed(self, username: str) -> float:
        """Count a failure; returns the lock it starts (0 while failures are still free)."""
        now, key = self._clock(), LOGIN + username
        with self.catalog.transaction() as session:
            over = limits.count(session, key, now, self.forget_s) - self.free
            lock = min(self.max_s, self.base_s * 2 ** (over - 1)) if over > 0 else 0.0
            limits.refuse_until(session, key, now + lock)
            self.evicted += limits.bound(session, LOGIN, self.capacity, now)
            return lock

    def succeeded(self, username: str) -> None:
        with self.catalog.transaction() as session:
            limits.forget(session, LOGIN + username)


class Cooldown:
    def __init__(
        self, catalog: Catalog, seconds: float = 15.0, clock: Callable[[], float] = time.time
    ) -> None:
        self.catalog, self.seconds, self._clock = catalog, seconds, clock

    def take(self, agent: tuple[str, str]) -> float:
        """0 if the command may go now (the turn is taken), else the seconds left to wait."""
        with self.catalog.transaction() as session:
            return limits.take(session, self._key(agent), self._clock(), self.seconds)

    def give_back(self, agent: tuple[str, str]) -> None:
        with self.catalog.transaction() as session:
            limits.forget(session, self._key(agent))

    @staticmethod
    def _key(agent: tuple[str, str]) -> str:
        return f"{COMMAND}{agent[0]}/{agent[1]}"
