"""The alerts service's counters and gauges (``prometheus_client``: thread-safe, as the MQTT
thread, the ticker and the delivery workers all count), for ``/metrics``."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge

from servicekit.metrics import render

PREFIX = "smartarea_alerts_"

# name: (help, label); names are exposed as smartarea_alerts_<name>_total.
COUNTERS: dict[str, tuple[str, str | None]] = {
    "reports": ("reports handled", None),
    "presence": ("presence changes handled", None),
    "rejected": ("messages refused, by reason (the same rules as ingest)", "reason"),
    "record_errors": ("messages whose effects could not be recorded (redelivered)", None),
    "opened": ("incidents opened, by kind", "kind"),
    "suppressed": ("incidents that page nobody, by what suppressed them", "by"),
    "closed": ("incidents closed, by kind", "kind"),
    "deliveries": ("attempts to send a message to one recipient, by outcome", "outcome"),
    "escalations": ("incidents escalated (open and unacknowledged too long)", None),
}
GAUGES = {
    "open_incidents": "incidents open now",
    "delivery_queue": "messages waiting for delivery",
    "delivery_dropped": "messages dropped because the delivery queue was full (since start)",
}


class AlertMetrics:
    def __init__(self, gauges: dict[str, Callable[[], float]]) -> None:
        self.registry = CollectorRegistry()
        self._counters = {
            name: Counter(PREFIX + name, text, [label] if label else [], registry=self.registry)
            for name, (text, label) in COUNTERS.items()
        }
        for name, text in GAUGES.items():
            Gauge(PREFIX + name, text, registry=self.registry).set_function(gauges[name])

    def inc(self, name: str, label: str | None = None, amount: int = 1) -> None:
        counter = self._counters[name]
        (counter if label is None else counter.labels(label)).inc(amount)

    def get(self, name: str, label: str | None = None) -> int:
        key = COUNTERS[name][1]
        labels = {key: label} if key is not None and label is not None else {}
        return int(self.registry.get_sample_value(f"{PREFIX}{name}_total", labels) or 0)

    def render(self) -> str:
        return render(self.registry)
