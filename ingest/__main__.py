"""``python -m ingest``: settings from SMARTAREA_* variables, run until SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import signal
import sys
import threading

from pydantic import ValidationError

from ingest.metrics import serve
from ingest.service import IngestService
from ingest.settings import IngestSettings
from tsdb.writer import InfluxV1Writer


def main() -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = IngestSettings()
    except ValidationError as exc:
        for err in exc.errors():
            field = "_".join(str(p) for p in err["loc"]).upper()
            print(f"error: SMARTAREA_{field}: {err['msg']}", file=sys.stderr)
        return 2
    password = settings.influx_password.get_secret_value() if settings.influx_password else None
    token = settings.influx_token.get_secret_value() if settings.influx_token else None
    writer = InfluxV1Writer(
        settings.influx_url,
        settings.influx_database,
        settings.influx_retention_policy,
        settings.influx_username,
        password,
        token,
    )
    service = IngestService(settings, writer)
    metrics_server = None
    if settings.metrics_port is not None:
        metrics_server = serve(
            service.metrics, service.subscribed.is_set, settings.metrics_host, settings.metrics_port
        )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    service.start()
    stop.wait()
    service.stop()
    if metrics_server is not None:
        metrics_server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
