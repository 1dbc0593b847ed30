"""``python -m alerts``: settings from SMARTAREA_* variables, run until SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import signal
import sys
import threading

from alerts.routing import Routing, RoutingError, load
from alerts.service import AlertService
from alerts.settings import AlertsSettings
from catalog.db import SchemaNotCurrent
from servicekit.metrics import serve
from servicekit.settings import load_or_explain


def main() -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = load_or_explain(AlertsSettings)
    if settings is None:
        return 2
    routing = Routing()
    if settings.alerts_routing_file is not None:
        try:
            routing = load(settings.alerts_routing_file)
        except RoutingError as exc:
            print(f"error: SMARTAREA_ALERTS_ROUTING_FILE: {exc}", file=sys.stderr)
            return 2
    else:
        logging.getLogger("alerts").warning(
            "no SMARTAREA_ALERTS_ROUTING_FILE: incidents are recorded, nobody is notified"
        )
    try:
        service = AlertService(settings, routing)
    except SchemaNotCurrent as exc:
        print(f"error: SMARTAREA_DATABASE_URL: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server = None
    if settings.alerts_metrics_port is not None:
        server = serve(
            service.metrics,
            service.subscribed.is_set,
            settings.alerts_metrics_host,
            settings.alerts_metrics_port,
        )
    service.start()
    while not stop.wait(0.2):
        pass
    service.stop()
    if server is not None:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
