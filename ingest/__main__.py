"""``python -m ingest``: settings from SMARTAREA_* variables, run until SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import sys

from ingest.service import IngestService
from ingest.settings import IngestSettings
from servicekit.metrics import serve
from servicekit.mqtt import serve_until_stopped, stop_on_signals
from servicekit.settings import load_or_explain
from tsdb.writer import InfluxV1Writer, Writer
from tsdb.writer_v2 import InfluxV2Writer


def build_writer(settings: IngestSettings) -> Writer:
    """The writer for ``SMARTAREA_INFLUX_API``: v1 ``/write`` or the v2 WriteApi."""
    password = settings.influx_password.get_secret_value() if settings.influx_password else None
    token = settings.influx_token.get_secret_value() if settings.influx_token else None
    if settings.influx_api == "v2":
        return InfluxV2Writer(
            settings.influx_url,
            settings.influx_org or "",  # both required by the settings for v2
            settings.influx_database,
            token or "",
            timeout_s=settings.write_timeout_s,
        )
    return InfluxV1Writer(
        settings.influx_url,
        settings.influx_database,
        settings.influx_retention_policy,
        settings.influx_username,
        password,
        token,
        timeout_s=settings.write_timeout_s,
    )


def main() -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = load_or_explain(IngestSettings)
    if settings is None:
        return 2
    writer = build_writer(settings)
    service = IngestService(settings, writer)
    metrics_server = None
    if settings.metrics_port is not None:
        metrics_server = serve(
            service.metrics.render,
            service.subscribed.is_set,
            settings.metrics_host,
            settings.metrics_port,
        )
    stop = stop_on_signals()
    service.start()
    code = serve_until_stopped(
        stop,
        service.session,
        "SMARTAREA_MQTT_USERNAME, SMARTAREA_MQTT_PASSWORD, SMARTAREA_MQTT_CLIENT_ID",
    )
    service.stop()
    if metrics_server is not None:
        metrics_server.shutdown()
    return code


if __name__ == "__main__":
    sys.exit(main())
