"""The durable outbox: every report is written here first and leaves only on ingest's receipt.

(Ingest's receipt, not the broker's PUBACK, says a report is stored: see ``edge.receipts``.)
One SQLite file in WAL mode on the agent's disk. It also owns the per-agent sequence number, so a
report's number and its row are written in one transaction: a crash can never reuse a number or
lose a numbered report. Bounded by count, bytes and age. When full, the oldest report never sent
goes first: the few sent just before a cut, their receipts not back yet, are likely stored and are
kept to be confirmed (past the age limit, the oldest of all goes). Every drop is counted in the
file itself, so the count survives restarts and reaches the server in the next report. A dropped
report that had been sent may still arrive: its number is kept (``sent_then_dropped``, the newest
``KEEP_SENT_DROPS``) and ingest's receipt for it takes it back out of the count. So
``dropped_total`` is the reports that never reached the server, but for one case: an outbox full
of sent reports whose receipts never come (ingest away for long) drops them counted, stored or not.

Delivery is at-least-once: a report sent but not yet deleted when the agent dies is sent again
after the restart. Those re-sends are counted as possible duplicates (the server rewrites the same
points, so they do no harm).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    seq INTEGER PRIMARY KEY,
    created REAL NOT NULL,
    payload BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sent_then_dropped (seq INTEGER PRIMARY KEY);
"""
KEEP_SENT_DROPS = 10_000


class _Row(NamedTuple):
    seq: int
    size: int
    attempts: int
    created: float


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    payload: bytes
    attempts: int


@dataclass(frozen=True, slots=True)
class Limits:
    max_reports: int = 200_000
    max_bytes: int = 200 * 1024 * 1024
    max_age_s: float = 30 * 86400


@dataclass(frozen=True, slots=True)
class Stats:
    depth: int
    bytes: int
    oldest_age_s: float
    last_seq: int
    dropped_total: int
    resent_total: int


class Outbox:
    def __init__(self, path: Path, limits: Limits | None = None, durable: bool = True) -> None:
        """``durable``: fsync every append (survives power cuts); off only for throwaway tests."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.limits = limits or Limits()
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'OFF'}")
        self._db.executescript(_SCHEMA)
        row = self._db.execute("SELECT count(*), coalesce(sum(length(payload)), 0) FROM reports")
        self._depth, self._bytes = row.fetchone()
        # Rows already tried before this process started may have reached the broker: count them
        # as possible duplicates when they are sent again.
        self._tried_before_start = {
            seq for (seq,) in self._db.execute("SELECT seq FROM reports WHERE attempts > 0")
        }

    def _counter(self, name: str) -> int:
        row = self._db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row else 0

    def _add(self, name: str, amount: int) -> None:
        self._db.execute(
            "INSERT INTO counters(name, value) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
            (name, amount),
        )

    def append(self, build: Callable[[int, Stats], bytes]) -> int:
        """Number the next report, build it, and store it, in one transaction.

        ``build(seq, stats)`` gets the number and the outbox's state *after* room was made for
        this report, so the report itself carries the drops made for it. Returns how many old
        reports were dropped (usually 0).
        """
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                seq = self._counter("last_seq") + 1
                dropped = self._make_room()
                payload = build(seq, self._stats())
                self._db.execute(
                    "INSERT INTO reports(seq, created, payload) VALUES (?, ?, ?)",
                    (seq, time.time(), payload),
                )
                self._add("last_seq", 1)
                self._depth += 1
                self._bytes += len(payload)
                dropped += self._make_room(keep_newest=True)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                self._reload_totals()
                raise
            return dropped

    def _reload_totals(self) -> None:
        row = self._db.execute("SELECT count(*), coalesce(sum(length(payload)), 0) FROM reports")
        self._depth, self._bytes = row.fetchone()

    def _make_room(self, keep_newest: bool = False) -> int:
        """Drop the oldest rows until one more report fits (or, after inserting, until the limits
        hold again, never dropping the newest). Called inside the append transaction."""
        dropped = 0
        spare = 0 if keep_newest else 1
        cutoff = time.time() - self.limits.max_age_s
        while self._depth > (1 if keep_newest else 0) and (oldest := self._first()) is not None:
            if oldest.created < cutoff:
                victim = oldest
            elif (
                self._depth + spare > self.limits.max_reports or self._bytes > self.limits.max_bytes
            ):
                # Not the newest row when it must be kept: it is numbered ``last_seq`` by then.
                below = self._counter("last_seq") + (0 if keep_newest else 1)
                victim = self._first("attempts = 0 AND seq < ?", below) or oldest
            else:
                break
            seq, size, attempts, _created = victim
            self._db.execute("DELETE FROM reports WHERE seq = ?", (seq,))
            if attempts:  # on its way, perhaps: a receipt for it takes it back out of the count
                self._db.execute("INSERT OR IGNORE INTO sent_then_dropped(seq) VALUES (?)", (seq,))
            self._depth -= 1
            self._bytes -= size
            dropped += 1
        if dropped:
            self._add("dropped_total", dropped)
            self._db.execute(
                "DELETE FROM sent_then_dropped WHERE seq < (SELECT seq FROM sent_then_dropped "
                "ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                (KEEP_SENT_DROPS - 1,),
            )
        return dropped

    def _first(self, where: str = "1", *params: object) -> _Row | None:
        """The first row in ``seq`` order (the oldest) matching ``where``, a fixed text of this
        module. Never sent (``attempts = 0``): the scan passes over the few sent ahead only."""
        row = self._db.execute(
            f"SELECT seq, length(payload), attempts, created FROM reports WHERE {where} "  # noqa: S608
            "ORDER BY seq LIMIT 1",
            params,
        ).fetchone()
        return None if row is None else _Row(int(row[0]), int(row[1]), int(row[2]), float(row[3]))

    def _oldest_created(self) -> float:
        # Rows are appended in seq order, so the first by seq (primary key) is the oldest.
        oldest = self._first()
        return oldest.created if oldest is not None else time.time()

    def peek(self, limit: int, after_seq: int = 0) -> list[Entry]:
        """The oldest pending reports with a number above ``after_seq``, in order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, payload, attempts FROM reports WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit),
            ).fetchall()
        return [Entry(seq, bytes(payload), attempts) for seq, payload, attempts in rows]

    def get(self, seqs: list[int]) -> list[Entry]:
        """These reports, in the given order, leaving out those no longer held."""
        if not seqs:
            return []
        with self._lock:
            marks = ",".join("?" * len(seqs))  # placeholders only: no value enters the text
            query = f"SELECT seq, payload, attempts FROM reports WHERE seq IN ({marks})"  # noqa: S608
            rows = self._db.execute(query, seqs).fetchall()
        found = {seq: Entry(seq, bytes(payload), attempts) for seq, payload, attempts in rows}
        return [found[seq] for seq in seqs if seq in found]

    def mark_sending(self, seq: int) -> None:
        """Record an attempt before the bytes leave, so a crash after sending is known."""
        with self._lock:
            self._db.execute("UPDATE reports SET attempts = attempts + 1 WHERE seq = ?", (seq,))
            if seq in self._tried_before_start:
                self._tried_before_start.discard(seq)
                self._add("resent_total", 1)

    def remove(self, seq: int) -> None:
        """Ingest stored ``seq`` (or refused it for good): it leaves the outbox."""
        self.remove_many([seq])

    def remove_many(self, seqs: list[int]) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            for seq in seqs:
                row = self._db.execute(
                    "DELETE FROM reports WHERE seq = ? RETURNING length(payload)", (seq,)
                ).fetchone()
                if row is not None:
                    self._depth -= 1
                    self._bytes -= int(row[0])
                elif self._db.execute(
                    "DELETE FROM sent_then_dropped WHERE seq = ? RETURNING seq", (seq,)
                ).fetchone():
                    self._add("dropped_total", -1)  # dropped here, yet it arrived
            self._db.execute("COMMIT")

    def stats(self) -> Stats:
        with self._lock:
            return self._stats()

    def _stats(self) -> Stats:
        oldest_age = time.time() - self._oldest_created() if self._depth else 0.0
        return Stats(
            depth=self._depth,
            bytes=self._bytes,
            oldest_age_s=round(oldest_age, 3),
            last_seq=self._counter("last_seq"),
            dropped_total=self._counter("dropped_total"),
            resent_total=self._counter("resent_total"),
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()
