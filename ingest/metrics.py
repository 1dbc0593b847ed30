"""Counters and their ``/metrics`` page (Prometheus text format)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar


class Metrics:
    """Thread-safe counters, labelled by one optional ``reason``."""

    HELP: ClassVar[dict[str, str]] = {
        "messages_received": "MQTT messages received",
        "reports_stored": "reports written to InfluxDB and acknowledged",
        "presence_stored": "presence changes written to InfluxDB and acknowledged",
        "points_written": "points written to InfluxDB",
        "write_retries": "InfluxDB writes retried after a transient failure",
        "dead_letters": "messages refused, by reason",
    }

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()

    def inc(self, name: str, amount: int = 1, reason: str = "") -> None:
        with self._lock:
            self._counts[(name, reason)] += amount

    def get(self, name: str, reason: str = "") -> int:
        with self._lock:
            return self._counts[(name, reason)]

    def render(self) -> str:
        with self._lock:
            counts = dict(self._counts)
        out = []
        for name, help_text in self.HELP.items():
            out += [
                f"# HELP smartarea_ingest_{name}_total {help_text}",
                f"# TYPE smartarea_ingest_{name}_total counter",
            ]
            rows = sorted((reason, value) for (n, reason), value in counts.items() if n == name)
            for reason, value in rows or [("", 0)]:
                label = f'{{reason="{reason}"}}' if reason else ""
                out.append(f"smartarea_ingest_{name}_total{label} {value}")
        return "\n".join(out) + "\n"


def serve(metrics: Metrics, ready: Callable[[], bool], host: str, port: int) -> ThreadingHTTPServer:
    """``/metrics`` (Prometheus text) and ``/readyz`` (200 once subscribed, else 503)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/readyz":
                code, body = (200, b"ready\n") if ready() else (503, b"not subscribed yet\n")
            elif self.path == "/metrics":
                code, body = 200, metrics.render().encode()
            else:
                self.send_error(404)
                return
            self.send_response(code)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
