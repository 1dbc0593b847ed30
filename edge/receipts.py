"""Reports the broker took but ingest has not confirmed storing yet, and when to send them again.

The broker's PUBACK only means the broker holds the report in memory: a broker crash before its
next save, a queue over its limit or a topic nobody subscribes to (PUBACK reason 0x10) loses it.
So a report leaves the outbox only when ingest's receipt names it (``contract.models.Receipt``),
and an unconfirmed report is sent again when there is reason to think it was lost:

- **gap**: a report sent *later* has been confirmed, and this one, older than ``timeout_s``,
  still has not (ingest is storing, so this one went missing);
- **canary**: nothing at all has been confirmed for ``timeout_s`` since the oldest unconfirmed
  report was sent: send that one report again (not all of them: while ingest is away the broker
  queues them, and a copy of each would double its queue), waiting twice as long each time up to
  ``CANARY_MAX_S``. Once ingest confirms the canary, the gap rule finds any others that were lost;
- **dropped**: the connection dropped before the broker acknowledged it: send it again at once.

Re-sending is safe: a report rewrites the same points (same agent, same observation time).
"""

from __future__ import annotations

CANARY_MAX_S = 3600.0


class Unconfirmed:
    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._sent: dict[int, float] = {}  # seq → monotonic time of its last send, in send order
        self._again: dict[int, None] = {}  # to send again at once (ordered set)
        self._newest_confirmed_send = float("-inf")
        self._last_progress = float("-inf")  # when something was last confirmed (or first sent)
        self._canary_wait = timeout_s
        self.resent_total = 0

    def __len__(self) -> int:
        return len(self._sent) + len(self._again)

    def __contains__(self, seq: int) -> bool:
        return seq in self._sent or seq in self._again

    def sent(self, seq: int, now: float) -> None:
        if self._again.pop(seq, 0) is None or self._sent.pop(seq, None) is not None:
            self.resent_total += 1  # re-inserted below: the dict stays in send order
        if not self._sent:
            self._last_progress = max(self._last_progress, now)
        self._sent[seq] = now

    def not_acknowledged(self, seqs: list[int]) -> None:
        """The connection dropped before the broker acknowledged these: send them again."""
        for seq in seqs:
            self._sent.pop(seq, None)
            self._again[seq] = None

    def confirmed(self, seqs: list[int], now: float) -> None:
        """Ingest stored (or refused for good) these reports: forget them."""
        for seq in seqs:
            sent_at = self._sent.pop(seq, None)
            self._again.pop(seq, None)
            if sent_at is not None and sent_at > self._newest_confirmed_send:
                self._newest_confirmed_send = sent_at
        self._last_progress = now
        self._canary_wait = self.timeout_s

    def due(self, now: float, limit: int) -> list[int]:
        """Up to ``limit`` reports to send again now, oldest first."""
        out = list(self._again)[:limit]
        if len(out) < limit:
            for seq, sent_at in self._sent.items():
                if len(out) >= limit or now - sent_at < self.timeout_s:
                    break
                if sent_at >= self._newest_confirmed_send:
                    break  # nothing sent after it has been confirmed: no evidence of loss
                out.append(seq)
        if not out and self._sent and now - self._last_progress >= self._canary_wait:
            oldest = next(iter(self._sent))
            if now - self._sent[oldest] >= self._canary_wait:
                out.append(oldest)
                self._canary_wait = min(self._canary_wait * 2, CANARY_MAX_S)
                self._last_progress = now
        return out

    def forget(self, seq: int) -> None:
        """The outbox no longer holds it (dropped by its limits)."""
        self._sent.pop(seq, None)
        self._again.pop(seq, None)
