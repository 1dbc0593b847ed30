"""When the agent sends an unconfirmed report again (edge.receipts), on a clock the test drives."""

from __future__ import annotations

from edge.receipts import CANARY_MAX_S, Unconfirmed


def _sent(box: Unconfirmed, seqs: range, at: float) -> None:
    for seq in seqs:
        box.sent(seq, at)


def test_nothing_is_sent_again_while_receipts_keep_coming() -> None:
    box = Unconfirmed(timeout_s=10)
    _sent(box, range(1, 6), at=0)
    box.confirmed([1, 2, 3, 4, 5], now=1)
    assert len(box) == 0
    assert box.due(now=100, limit=16) == []


def test_a_report_older_than_a_confirmed_one_is_sent_again_after_the_timeout() -> None:
    box = Unconfirmed(timeout_s=10)
    _sent(box, range(1, 4), at=0)
    box.sent(4, 5)
    box.confirmed([2, 4], now=6)  # 1 and 3 went missing (a broker crash, a full queue)
    assert box.due(now=9, limit=16) == []  # not yet: they may still be on their way
    assert box.due(now=10, limit=16) == [1, 3]
    assert box.due(now=10, limit=1) == [1]
    box.sent(1, 10)
    box.sent(3, 10)
    assert box.resent_total == 2
    assert box.due(now=15, limit=16) == []  # sent again after the newest confirmed one


def test_while_nothing_is_confirmed_only_one_canary_goes_each_time_doubling() -> None:
    box = Unconfirmed(timeout_s=10)
    _sent(box, range(1, 101), at=0)  # ingest away: the broker queues them
    assert box.due(now=9, limit=16) == []
    assert box.due(now=10, limit=16) == [1]  # one report, not a hundred
    box.sent(1, 10)
    assert box.due(now=25, limit=16) == []  # now it waits 20 s
    assert box.due(now=30, limit=16) == [2]  # the oldest still waiting since 0
    waits = []
    now = 30.0
    for _ in range(12):
        box.sent(box.due(now=now + 10**6, limit=1)[0], now + 10**6)
        now += 10**6
        waits.append(box._canary_wait)
    assert max(waits) == CANARY_MAX_S


def test_a_receipt_after_the_canary_brings_back_the_normal_timeout() -> None:
    box = Unconfirmed(timeout_s=10)
    _sent(box, range(1, 4), at=0)
    assert box.due(now=10, limit=16) == [1]
    box.sent(1, 10)
    box.confirmed([1], now=11)  # ingest is back; 2 and 3 were sent before the canary
    assert box.due(now=20, limit=16) == [2, 3]


def test_reports_the_broker_never_acknowledged_go_again_at_once() -> None:
    box = Unconfirmed(timeout_s=10)
    _sent(box, range(1, 4), at=0)
    box.not_acknowledged([2, 3])  # the connection dropped before their PUBACK
    assert box.due(now=0.1, limit=16) == [2, 3]
    assert 2 in box and 1 in box
    box.forget(1)  # the outbox dropped it (over its limits)
    assert 1 not in box and len(box) == 2
