"""The durable outbox: numbering, order, bounds with counted drops, and survival of a crash."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edge.outbox import Limits, Outbox, Stats


def _fill(box: Outbox, count: int, size: int = 10) -> list[int]:
    seqs: list[int] = []

    def build(seq: int, stats: Stats) -> bytes:
        seqs.append(seq)
        return f"{seq:0{size}d}".encode()

    for _ in range(count):
        box.append(build)
    return seqs


def test_numbers_are_monotonic_and_survive_reopening(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite")
    assert _fill(box, 3) == [1, 2, 3]
    box.remove(1)
    box.remove(2)
    box.remove(3)
    box.close()
    again = Outbox(tmp_path / "o.sqlite")
    assert _fill(again, 2) == [4, 5]  # an empty outbox still remembers the last number
    assert [e.seq for e in again.peek(10)] == [4, 5]
    again.close()


def test_peek_is_in_order_and_resumes_after_a_number(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite")
    _fill(box, 5)
    assert [e.seq for e in box.peek(2)] == [1, 2]
    assert [e.seq for e in box.peek(10, after_seq=3)] == [4, 5]
    assert box.peek(1)[0].payload == b"0000000001"
    box.close()


def test_full_by_count_drops_the_oldest_and_counts_them(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite", Limits(max_reports=3))
    _fill(box, 5)
    assert [e.seq for e in box.peek(10)] == [3, 4, 5]
    stats = box.stats()
    assert (stats.depth, stats.dropped_total, stats.last_seq) == (3, 2, 5)
    box.close()
    assert Outbox(tmp_path / "o.sqlite").stats().dropped_total == 2  # the count is durable


def test_a_dropped_report_that_arrives_anyway_is_not_counted_lost(tmp_path: Path) -> None:
    """Sent, then pushed out by a newer report before its receipt came: if the receipt comes, it
    arrived, and the count (the gaps the server will see) must not include it."""
    box = Outbox(tmp_path / "o.sqlite", Limits(max_reports=2))
    _fill(box, 2)
    box.mark_sending(1)
    box.mark_sending(2)
    _fill(box, 2)  # 1 goes (all held were sent), then 3 (the oldest never sent)
    assert [e.seq for e in box.peek(10)] == [2, 4]
    assert box.stats().dropped_total == 2
    box.remove_many([1, 2])  # ingest's receipt: 1 arrived after all, and 2
    assert box.stats().dropped_total == 1
    box.remove_many([1])  # a receipt repeated does not take it out twice
    assert box.stats().dropped_total == 1
    box.close()
    assert Outbox(tmp_path / "o.sqlite").stats().dropped_total == 1


def test_a_full_outbox_keeps_reports_already_sent_and_drops_the_oldest_unsent(
    tmp_path: Path,
) -> None:
    """Sent just before the fibre was cut, their receipts lost with it: likely stored, so they
    stay to be confirmed, and the oldest never sent goes instead. Past the age limit the oldest
    of all goes, sent or not."""
    box = Outbox(tmp_path / "o.sqlite", Limits(max_reports=3))
    _fill(box, 3)
    box.mark_sending(1)
    _fill(box, 2)
    assert [e.seq for e in box.peek(10)] == [1, 4, 5]
    assert box.stats().dropped_total == 2
    box.close()
    aged = Outbox(tmp_path / "o.sqlite", Limits(max_reports=3, max_age_s=3600))
    db = sqlite3.connect(tmp_path / "o.sqlite")
    db.execute("UPDATE reports SET created = created - 7200 WHERE seq = 1")
    db.commit()
    db.close()
    _fill(aged, 1)
    assert [e.seq for e in aged.peek(10)] == [4, 5, 6]
    aged.close()


def test_each_report_carries_the_drops_made_for_it(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite", Limits(max_reports=2))
    seen: list[tuple[int, int, int]] = []

    def build(seq: int, stats: Stats) -> bytes:
        seen.append((seq, stats.depth, stats.dropped_total))
        return b"r"

    for _ in range(4):
        box.append(build)
    # Room is made before building: report 3 knows report 1 was dropped for it.
    assert seen == [(1, 0, 0), (2, 1, 0), (3, 1, 1), (4, 1, 2)]
    box.close()


def test_full_by_bytes_and_by_age(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite", Limits(max_bytes=35))
    _fill(box, 5)  # 10 bytes each: only 3 fit
    assert box.stats().depth == 3 and box.stats().bytes == 30
    box.close()
    aged = Outbox(tmp_path / "a.sqlite", Limits(max_age_s=0.2))
    _fill(aged, 2)
    time.sleep(0.3)  # the age limit is what is under test
    _fill(aged, 1)
    assert [e.seq for e in aged.peek(10)] == [3]
    assert aged.stats().dropped_total == 2
    aged.close()


def test_a_failed_build_stores_nothing_and_keeps_the_number(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite")

    def broken(seq: int, stats: Stats) -> bytes:
        raise ValueError("bad report")

    with pytest.raises(ValueError, match="bad report"):
        box.append(broken)
    assert _fill(box, 1) == [1]
    assert box.stats().depth == 1
    box.close()


def test_reports_tried_before_a_crash_count_as_possible_duplicates(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite")
    _fill(box, 3)
    box.mark_sending(1)
    box.mark_sending(2)
    box.close()
    again = Outbox(tmp_path / "o.sqlite")
    for entry in again.peek(10):
        again.mark_sending(entry.seq)
    assert again.stats().resent_total == 2
    again.close()


def test_kill_9_during_appends_loses_nothing_committed(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    script = f"""
import sys
from pathlib import Path
from edge.outbox import Outbox
box = Outbox(Path({str(path)!r}))
while True:
    box.append(lambda seq, _: print(seq, flush=True) or b"x" * 500)
"""
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    last_printed = 0
    for line in proc.stdout:
        last_printed = int(line)
        if last_printed >= 300:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    # Every number handed out before the kill (printed inside the transaction, so at most the
    # last one may not have committed) is in the file, in order, with no gap.
    rows = [r[0] for r in sqlite3.connect(path).execute("SELECT seq FROM reports ORDER BY seq")]
    assert rows == list(range(1, len(rows) + 1))
    assert len(rows) >= last_printed - 1
    reopened = Outbox(path)
    assert reopened.stats().last_seq == len(rows)
    reopened.close()
