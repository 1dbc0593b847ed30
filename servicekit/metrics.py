"""The small HTTP endpoint every server-side service exposes: ``/metrics`` (Prometheus text,
rendered on each scrape) and ``/readyz`` (200 once the service is subscribed, else 503).

The metrics themselves are ``prometheus_client``'s (thread-safe), one registry per service.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import prometheus_client
from prometheus_client import CollectorRegistry, generate_latest

# No ``*_created`` series: a scrape shows what happened, not when each counter was made.
prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]


def render(registry: CollectorRegistry) -> str:
    """The registry in the Prometheus text format."""
    return generate_latest(registry).decode()


def serve(
    render: Callable[[], str], ready: Callable[[], bool], host: str, port: int
) -> ThreadingHTTPServer:
    """Serve in a daemon thread; ``shutdown()`` the returned server to stop."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/readyz":
                code, body = (200, b"ready\n") if ready() else (503, b"not subscribed yet\n")
            elif self.path == "/metrics":
                code, body = 200, render().encode()
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
