"""``/metrics`` (Prometheus text) and ``/readyz`` for the alerts service."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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


def serve(
    metrics: Callable[[], str], ready: Callable[[], bool], host: str, port: int
) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/readyz":
                code, body = (200, b"ready\n") if ready() else (503, b"not subscribed yet\n")
            elif self.path == "/metrics":
                code, body = 200, metrics().encode()
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
    threading.Thread(target=server.serve_forever, name="alerts-metrics", daemon=True).start()
    return server
