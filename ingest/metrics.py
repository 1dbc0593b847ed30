"""Ingest's counters, gauges and histograms, kept by ``prometheus_client`` (thread-safe), and
its ``/metrics`` page.

Counters take an optional ``reason`` label only where it is declared (``LABELLED``); gauges are
read on each scrape from the callables in ``gauges``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import ClassVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from servicekit.metrics import render

PREFIX = "smartarea_ingest_"
LABELLED = {"dead_letters"}  # by reason
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
# from a live report (well under a second) to one replayed after a day-long fibre cut
LAG_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60, 300, 3600, 86400)


class _Histogram:
    """A prometheus histogram that also takes a batch of observations."""

    def __init__(self, histogram: Histogram) -> None:
        self._histogram = histogram

    def observe(self, value: float) -> None:
        self._histogram.observe(value)

    def observe_many(self, values: Iterable[float]) -> None:
        for value in values:
            self._histogram.observe(value)


class Metrics:
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
        "mqtt_reconnects": "broker connections lost or attempts failed (each then waits)",
    }
    GAUGE_HELP: ClassVar[dict[str, str]] = {
        "unacked_messages": "messages received from the broker and not yet acknowledged",
        "inbox_depth": "messages waiting to be batched",
        "agents_tracked": "agents with a clock offset estimate",
        "agents_clock_skewed": "agents whose clock offset is beyond SMARTAREA_CLOCK_SKEW_ALERT_S",
    }

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._counters = {
            name: Counter(
                PREFIX + name,
                text,
                ["reason"] if name in LABELLED else [],
                registry=self.registry,
            )
            for name, text in self.HELP.items()
        }
        self.gauges: dict[str, Callable[[], float]] = {}
        for name, text in self.GAUGE_HELP.items():
            gauge = Gauge(PREFIX + name, text, registry=self.registry)
            gauge.set_function(lambda name=name: self.gauge(name))  # type: ignore[misc]
        self.write_latency = _Histogram(
            Histogram(
                PREFIX + "write_latency_seconds",
                "duration of one accepted InfluxDB write request",
                buckets=LATENCY_BUCKETS,
                registry=self.registry,
            )
        )
        self.e2e_lag = _Histogram(
            Histogram(
                PREFIX + "e2e_lag_seconds",
                "written to InfluxDB minus the agent's observation time, per report",
                buckets=LAG_BUCKETS,
                registry=self.registry,
            )
        )

    def inc(self, name: str, amount: int = 1, reason: str = "") -> None:
        counter = self._counters[name]
        (counter.labels(reason) if name in LABELLED else counter).inc(amount)

    def get(self, name: str, reason: str = "") -> int:
        labels = {"reason": reason} if name in LABELLED else {}
        return int(self.registry.get_sample_value(f"{PREFIX}{name}_total", labels) or 0)

    def gauge(self, name: str) -> float:
        read = self.gauges.get(name)
        return read() if read is not None else 0.0

    def render(self) -> str:
        return render(self.registry)
