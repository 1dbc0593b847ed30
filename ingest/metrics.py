"""Counters, gauges and histograms, and their ``/metrics`` page (Prometheus text format)."""

from __future__ import annotations

import bisect
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import ClassVar

PREFIX = "smartarea_ingest_"


class Histogram:
    """Cumulative-bucket histogram (Prometheus ``le`` buckets), thread-safe."""

    def __init__(self, buckets: Iterable[float]) -> None:
        self.bounds = sorted(buckets)
        self._lock = threading.Lock()
        self._counts = [0] * (len(self.bounds) + 1)  # the last one is +Inf
        self._sum = 0.0

    def observe_many(self, values: Iterable[float]) -> None:
        with self._lock:
            for value in values:
                self._counts[bisect.bisect_left(self.bounds, value)] += 1
                self._sum += value

    def observe(self, value: float) -> None:
        self.observe_many((value,))

    def snapshot(self) -> tuple[list[tuple[float, int]], int, float]:
        """Cumulative (upper bound, count) pairs, total count, sum."""
        with self._lock:
            counts, total_sum = list(self._counts), self._sum
        cumulative, running = [], 0
        for bound, count in zip([*self.bounds, float("inf")], counts, strict=True):
            running += count
            cumulative.append((bound, running))
        return cumulative, running, total_sum


def _bound(value: float) -> str:
    return "+Inf" if value == float("inf") else repr(value)


class Metrics:
    """Counters labelled by one optional ``reason``; gauges read on scrape; two histograms."""

    HELP: ClassVar[dict[str, str]] = {
        "messages_received": "MQTT messages received",
        "reports_stored": "reports written to InfluxDB and acknowledged",
        "presence_stored": "presence changes written to InfluxDB and acknowledged",
        "points_written": "points written to InfluxDB",
        "batches_written": "write requests that InfluxDB accepted",
        "write_retries": "InfluxDB writes retried after a transient failure",
        "batch_splits": "batches split in two after InfluxDB refused their size (413)",
        "points_rejected": "points InfluxDB refused (dead-lettered with reason db_rejected)",
        "dead_letters": "messages refused, by reason",
        "inbox_full_waits": "times the MQTT thread waited for room in the bounded inbox",
        "partial_writes_erased": "refused messages whose points InfluxDB partly kept, erased",
        "receipts_sent": "receipts published to agents (each names stored and refused reports)",
    }
    GAUGE_HELP: ClassVar[dict[str, str]] = {
        "unacked_messages": "messages received from the broker and not yet acknowledged",
        "inbox_depth": "messages waiting to be batched",
        "agents_tracked": "agents with a clock offset estimate",
        "agents_clock_skewed": "agents whose clock offset is beyond SMARTAREA_CLOCK_SKEW_ALERT_S",
    }
    HISTOGRAM_HELP: ClassVar[dict[str, str]] = {
        "write_latency_seconds": "duration of one accepted InfluxDB write request",
        "e2e_lag_seconds": "written to InfluxDB minus the agent's observation time, per report",
    }

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()
        self.gauges: dict[str, Callable[[], float]] = {}
        self.write_latency = Histogram(
            (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
        )
        self.e2e_lag = Histogram(
            (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60, 300, 3600, 86400)
        )

    def inc(self, name: str, amount: int = 1, reason: str = "") -> None:
        with self._lock:
            self._counts[(name, reason)] += amount

    def get(self, name: str, reason: str = "") -> int:
        with self._lock:
            return self._counts[(name, reason)]

    def gauge(self, name: str) -> float:
        read = self.gauges.get(name)
        return read() if read is not None else 0.0

    def render(self) -> str:
        with self._lock:
            counts = dict(self._counts)
        out = []
        for name, help_text in self.HELP.items():
            out += [
                f"# HELP {PREFIX}{name}_total {help_text}",
                f"# TYPE {PREFIX}{name}_total counter",
            ]
            rows = sorted((reason, value) for (n, reason), value in counts.items() if n == name)
            for reason, value in rows or [("", 0)]:
                label = f'{{reason="{reason}"}}' if reason else ""
                out.append(f"{PREFIX}{name}_total{label} {value}")
        for name, help_text in self.GAUGE_HELP.items():
            out += [
                f"# HELP {PREFIX}{name} {help_text}",
                f"# TYPE {PREFIX}{name} gauge",
                f"{PREFIX}{name} {self.gauge(name):g}",
            ]
        for name, histogram in (
            ("write_latency_seconds", self.write_latency),
            ("e2e_lag_seconds", self.e2e_lag),
        ):
            cumulative, total, total_sum = histogram.snapshot()
            out += [
                f"# HELP {PREFIX}{name} {self.HISTOGRAM_HELP[name]}",
                f"# TYPE {PREFIX}{name} histogram",
            ]
            out += [f'{PREFIX}{name}_bucket{{le="{_bound(b)}"}} {c}' for b, c in cumulative]
            out += [f"{PREFIX}{name}_sum {total_sum:.6f}", f"{PREFIX}{name}_count {total}"]
        return "\n".join(out) + "\n"
