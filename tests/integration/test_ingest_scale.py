"""Scale-out: two ingest workers share one MQTT v5 shared subscription; each report is stored
once, by one of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from contract import topics
from contract.models import DeviceResult, Report
from devstack.servers import InfluxDB, Mosquitto
from ingest.service import IngestService
from tests.integration.conftest import Publish, count_points, ingest_settings, wait_for
from tsdb.writer import InfluxV1Writer

AREAS = [f"xa-{n}" for n in range(1, 6)]
REPORTS_PER_AREA = 40


def _report(area: str, seq: int) -> bytes:
    return Report(
        area_id=area,
        agent_id="nvh",
        seq=seq,
        observed_at=datetime.now(UTC) - timedelta(minutes=10, seconds=-seq),
        interval_s=60,
        results=[
            DeviceResult(device_id="uplink", kind="uplink", status="up", duration_ms=2.0),
            DeviceResult(device_id="cam-01", kind="camera", status="up", duration_ms=9.0),
        ],
    ).to_json()


def test_two_workers_share_the_load_and_store_each_report_once(
    mosquitto: Mosquitto, influxdb: InfluxDB, publish: Publish, tmp_path: Path
) -> None:
    workers = [
        IngestService(
            ingest_settings(
                mosquitto,
                influxdb,
                tmp_path / f"worker-{n}",
                mqtt_client_id=f"ingest-{n}",
                mqtt_share_group="ingest",
            ),
            InfluxV1Writer(influxdb.url, influxdb.database),
        )
        for n in (1, 2)
    ]
    for worker in workers:
        worker.start()
    try:
        for worker in workers:
            assert worker.subscribed.wait(10)
        total = len(AREAS) * REPORTS_PER_AREA
        for seq in range(REPORTS_PER_AREA):
            for area in AREAS:
                publish(topics.report_topic(area, "nvh"), _report(area, seq))
        wait_for(lambda: count_points(influxdb, "uplink") == total, "every report stored")
        wait_for(
            lambda: sum(w.metrics.get("reports_stored") for w in workers) >= total,
            "both workers to count what they stored",
        )
        stored = [w.metrics.get("reports_stored") for w in workers]
        assert sum(stored) == total, stored  # no report processed twice
        assert all(n > 0 for n in stored), stored  # and both did work
        assert count_points(influxdb, "camera") == total
        text = workers[0].metrics.render()
        for name in (
            "smartarea_ingest_messages_received_total",
            "smartarea_ingest_batches_written_total",
            "smartarea_ingest_unacked_messages 0.0",
            'smartarea_ingest_write_latency_seconds_bucket{le="+Inf"}',
            "smartarea_ingest_e2e_lag_seconds_count",
            "smartarea_ingest_agents_tracked",
        ):
            assert name in text, name
    finally:
        for worker in workers:
            worker.stop()
