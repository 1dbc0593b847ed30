"""``/metrics`` (Prometheus text) and ``/readyz`` for the alerts service."""

from __future__ import annotations

import re

_NAME = re.compile(r"[^a-z0-9_]")


def render(counters: dict[str, int], gauges: dict[str, float]) -> str:
    """Counters as ``smartarea_alerts_<name>_total``, gauges as ``smartarea_alerts_<name>``."""
    lines: list[str] = []
    for name, value in sorted(counters.items()):
        metric = f"smartarea_alerts_{_NAME.sub('_', name)}_total"
        lines += [f"# TYPE {metric} counter", f"{metric} {value}"]
    for name, gauge in sorted(gauges.items()):
        metric = f"smartarea_alerts_{_NAME.sub('_', name)}"
        lines += [f"# TYPE {metric} gauge", f"{metric} {gauge:g}"]
    return "\n".join(lines) + "\n"
