"""``python -m alerts``: settings from SMARTAREA_* variables, run until SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import sys

from alerts.routing import Routing, RoutingError, load
from alerts.service import AlertService
from alerts.settings import AlertsSettings
from catalog.db import SchemaNotCurrent
from servicekit.metrics import serve
from servicekit.mqtt import serve_until_stopped, stop_on_signals
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
    stop = stop_on_signals()
    server = None
    if settings.alerts_metrics_port is not None:
        server = serve(
            service.metrics,
            service.subscribed.is_set,
            settings.alerts_metrics_host,
            settings.alerts_metrics_port,
        )
    service.start()
    code = serve_until_stopped(
        stop,
        service.session,
        "SMARTAREA_MQTT_USERNAME, SMARTAREA_MQTT_PASSWORD, SMARTAREA_ALERTS_CLIENT_ID",
    )
    service.stop()
    if server is not None:
        server.shutdown()
    return code


if __name__ == "__main__":
    sys.exit(main())
