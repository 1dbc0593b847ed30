"""Ingest against the real broker and InfluxDB: bad input is refused with reasons, nothing is lost
while ingest or InfluxDB is down."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from contract import topics
from contract.decode import Reason
from contract.models import DeviceResult, Report
from devstack.servers import InfluxDB, Mosquitto
from ingest.service import IngestService
from tests.integration.conftest import Publish, count_points, ingest_settings, wait_for
from tsdb.writer import InfluxV1Writer

AREA, AGENT = "phuc-khanh-thon-1", "nvh"
TOPIC = topics.report_topic(AREA, AGENT)


def _report(seq: int, at: datetime | None = None) -> bytes:
    return Report(
        area_id=AREA,
        agent_id=AGENT,
        seq=seq,
        observed_at=at or datetime.now(UTC) - timedelta(seconds=60 - seq),
        interval_s=60,
        results=[
            DeviceResult(device_id="cam-01", kind="camera", status="up", duration_ms=3.0),
            DeviceResult(
                device_id="uplink",
                kind="uplink",
                status="down",
                reason="timeout",
                duration_ms=3000.0,
            ),
        ],
    ).to_json()


def test_every_bad_input_is_dead_lettered_with_its_reason(
    mosquitto: Mosquitto, publish: Publish, influxdb: InfluxDB, tmp_path: Path
) -> None:
    # Below the broker's own limit (256 KiB), so an oversized message reaches ingest's check.
    settings = ingest_settings(mosquitto, influxdb, tmp_path, max_payload_bytes=64 * 1024)
    ingest = IngestService(settings, InfluxV1Writer(influxdb.url, influxdb.database))
    ingest.start()
    try:
        assert ingest.subscribed.wait(10)
        _send_bad_inputs(ingest, publish, influxdb, tmp_path)
    finally:
        ingest.stop()


def _send_bad_inputs(
    ingest: IngestService, publish: Publish, influxdb: InfluxDB, tmp_path: Path
) -> None:
    good = json.loads(_report(1))
    bad = {
        Reason.BAD_JSON: (TOPIC, b"{oops"),
        Reason.UNKNOWN_SCHEMA: (
            TOPIC,
            json.dumps({**good, "schema": "smartarea.report/0"}).encode(),
        ),
        Reason.INVALID: (TOPIC, json.dumps({**good, "seq": -5}).encode()),
        Reason.TOPIC_MISMATCH: (topics.report_topic("son-vi-khu-6", AGENT), _report(2)),
        Reason.FUTURE: (TOPIC, _report(3, datetime.now(UTC) + timedelta(hours=2))),
        Reason.TOO_OLD: (TOPIC, _report(4, datetime.now(UTC) - timedelta(days=60))),
        Reason.TOO_LARGE: (TOPIC, b"x" * (100 * 1024)),
    }
    for topic, payload in bad.values():
        publish(topic, payload)
    publish(TOPIC, _report(5))
    wait_for(
        lambda: ingest.metrics.get("reports_stored") == 1, "the good report after the bad ones"
    )
    for reason in bad:
        assert ingest.metrics.get("dead_letters", reason=reason.value) == 1, reason
    records = [
        json.loads(line) for line in (tmp_path / "dead-letters.jsonl").read_text().splitlines()
    ]
    assert sorted(r["reason"] for r in records) == sorted(r.value for r in bad)
    assert all(r["detail"] for r in records)
    assert count_points(influxdb, "camera") == 1
    text = ingest.metrics.render()
    assert 'smartarea_ingest_dead_letters_total{reason="topic_mismatch"} 1.0' in text


def test_reports_sent_while_ingest_is_down_are_stored_when_it_returns(
    mosquitto: Mosquitto, influxdb: InfluxDB, publish: Publish, tmp_path: Path
) -> None:
    settings = ingest_settings(mosquitto, influxdb, tmp_path)
    first = IngestService(settings, InfluxV1Writer(influxdb.url, influxdb.database))
    first.start()
    assert first.subscribed.wait(10)
    first.stop()  # the broker keeps the persistent session and queues for it
    for seq in range(1, 51):
        publish(TOPIC, _report(seq))
    second = IngestService(settings, InfluxV1Writer(influxdb.url, influxdb.database))
    second.start()
    try:
        wait_for(lambda: count_points(influxdb, "uplink") == 50, "the 50 queued reports")
    finally:
        second.stop()
    assert second.metrics.get("reports_stored") == 50


def test_nothing_is_acknowledged_or_lost_while_influxdb_is_down(
    ingest: IngestService, influxdb: InfluxDB, publish: Publish
) -> None:
    influxdb.stop()
    for seq in range(1, 6):
        publish(TOPIC, _report(seq))
    wait_for(lambda: ingest.metrics.get("write_retries") >= 2, "ingest to retry the write")
    assert ingest.metrics.get("reports_stored") == 0
    influxdb.start()  # same folder, same port: the data survives the restart
    wait_for(lambda: count_points(influxdb, "camera") == 5, "the 5 held reports", timeout=60)
    assert ingest.metrics.get("dead_letters", reason=Reason.DB_REJECTED.value) == 0


def test_a_report_influxdb_refuses_in_part_is_refused_whole_and_the_rest_is_stored(
    ingest: IngestService, influxdb: InfluxDB, publish: Publish, tmp_path: Path
) -> None:
    # The contract fixes each metric's type by its name, so no valid report can conflict with
    # another; the conflict comes from points written before that rule (or by another writer).
    hour_ago = int((datetime.now(UTC) - timedelta(hours=1)).timestamp()) * 10**9
    legacy = f'uplink,agent=old,area={AREA},device=uplink rtt_p99_ms="n/a",status_code=2i'
    InfluxV1Writer(influxdb.url, influxdb.database).write([f"{legacy} {hour_ago}"])

    def report(seq: int, rtt: float, field: str = "rtt_ms") -> bytes:
        return Report(
            area_id=AREA,
            agent_id=AGENT,
            seq=seq,
            observed_at=datetime.now(UTC) - timedelta(seconds=30 - seq),
            interval_s=60,
            results=[
                DeviceResult(device_id="cam-01", kind="camera", status="up", duration_ms=3.0),
                DeviceResult(
                    device_id="uplink",
                    kind="uplink",
                    status="up",
                    duration_ms=5.0,
                    metrics={field: rtt},
                ),
            ],
        ).to_json()

    publish(TOPIC, report(1, 8.5))
    wait_for(lambda: count_points(influxdb, "uplink") == 1, "the first report")
    publish(TOPIC, report(2, 9.5, "rtt_p99_ms"))  # a string field in this shard: refused
    publish(TOPIC, report(3, 9.0))
    wait_for(lambda: ingest.metrics.get("reports_stored") == 2, "the two other reports")
    wait_for(lambda: ingest.metrics.get("dead_letters", reason="db_rejected") == 1, "the refusal")
    # Stored whole or refused whole: InfluxDB kept the refused report's other points, ingest
    # erased them, so the report is not half evidence.
    assert count_points(influxdb, "camera") == 2
    assert [seq for _, seq in influxdb.values('SELECT "seq" FROM "agent_report"')] == [1, 3]
    assert count_points(influxdb, "uplink", "WHERE agent != 'old'") == 2
    assert ingest.metrics.get("points_rejected") == 3  # the report's three points
    assert ingest.metrics.get("partial_writes_erased") == 1
    assert ingest.metrics.get("messages_received") == 3  # each message counted once
    assert ingest.metrics.get("dead_letters", reason=Reason.DB_REJECTED.value) == 1
    record = json.loads((tmp_path / "dead-letters.jsonl").read_text().splitlines()[-1])
    assert record["reason"] == "db_rejected"
    assert "field type conflict" in record["detail"]
    assert json.loads(record["payload"])["seq"] == 2  # the original message, to replay


def test_unacknowledged_messages_are_bounded_by_receive_maximum(
    mosquitto: Mosquitto, influxdb: InfluxDB, publish: Publish, tmp_path: Path
) -> None:
    settings = ingest_settings(
        mosquitto, influxdb, tmp_path, mqtt_receive_maximum=10, retry_max_s=0.5
    )
    ingest = IngestService(settings, InfluxV1Writer(influxdb.url, influxdb.database))
    ingest.start()
    try:
        assert ingest.subscribed.wait(10)
        influxdb.stop()
        for seq in range(1, 41):
            publish(TOPIC, _report(seq))  # the broker takes them all, and holds them
        wait_for(lambda: ingest.metrics.get("write_retries") >= 2, "ingest to retry")
        assert ingest.metrics.get("messages_received") == 10  # the rest waits at the broker
        assert ingest.metrics.gauge("unacked_messages") == 10
        influxdb.start()
        wait_for(lambda: count_points(influxdb, "camera") == 40, "all 40 reports", timeout=60)
        wait_for(lambda: ingest.metrics.gauge("unacked_messages") == 0, "every ack")
    finally:
        ingest.stop()


def test_one_areas_text_metric_cannot_stop_other_areas_numbers_being_stored(
    ingest: IngestService, influxdb: InfluxDB, publish: Publish, tmp_path: Path
) -> None:
    """Were area A's text stored first, it would fix ``rtt_ms`` as a string field for the week's
    shard and InfluxDB would refuse every other area's uplink points: the contract refuses it."""

    def report(area: str, rtt: object) -> bytes:
        good = json.loads(_report(1))
        good["area_id"] = area
        good["results"][1]["metrics"] = {"rtt_ms": rtt}
        return json.dumps(good).encode()

    publish(topics.report_topic("area-a", AGENT), report("area-a", "n/a"))
    publish(topics.report_topic("area-a", AGENT), report("area-a", True))
    publish(topics.report_topic("area-b", AGENT), report("area-b", 8))
    wait_for(lambda: ingest.metrics.get("reports_stored") == 1, "area B's report")
    assert ingest.metrics.get("dead_letters", reason=Reason.INVALID.value) == 2
    details = [
        json.loads(line)["detail"]
        for line in (tmp_path / "dead-letters.jsonl").read_text().splitlines()
    ]
    assert "metric 'rtt_ms' must be a number, not text" in details[0]
    assert "metric 'rtt_ms' must be a number, not true/false" in details[1]
    assert count_points(influxdb, "uplink", "WHERE area = 'area-b'") == 1
    assert count_points(influxdb, "uplink", "WHERE area = 'area-a'") == 0  # refused whole
    assert count_points(influxdb, "camera", "WHERE area = 'area-a'") == 0
    stored = influxdb.query('SELECT "rtt_ms" FROM "uplink"')["results"][0]["series"][0]  # type: ignore[index]
    assert stored["values"][0][1] == 8.0


def test_an_agent_past_its_device_bound_is_refused_whole_and_others_still_add_devices(
    mosquitto: Mosquitto, influxdb: InfluxDB, publish: Publish, tmp_path: Path
) -> None:
    """One agent inventing device ids would grow InfluxDB's index for everyone: past its bound
    its report is refused whole, with a receipt that says why, and other areas keep adding."""
    settings = ingest_settings(mosquitto, influxdb, tmp_path, max_devices_per_agent=3)
    ingest = IngestService(settings, InfluxV1Writer(influxdb.url, influxdb.database))
    receipts: list[dict[str, object]] = []
    listener = mqtt.Client(CallbackAPIVersion.VERSION2, "receipts", protocol=mqtt.MQTTv5)
    listener.on_message = lambda _c, _u, message: receipts.append(json.loads(message.payload))
    listener.connect("127.0.0.1", mosquitto.port)
    listener.subscribe(topics.receipt_topic("area-a", AGENT), qos=0)
    listener.loop_start()
    ingest.start()
    try:
        assert ingest.subscribed.wait(10)

        def report(area: str, seq: int, devices: list[str]) -> bytes:
            good = json.loads(_report(seq))
            good["area_id"] = area
            good["results"] = [
                {"device_id": d, "kind": "camera", "status": "up", "duration_ms": 1.0}
                for d in devices
            ]
            return json.dumps(good).encode()

        publish(topics.report_topic("area-a", AGENT), report("area-a", 1, ["c1", "c2"]))
        publish(topics.report_topic("area-a", AGENT), report("area-a", 2, ["c1", "x1", "x2"]))
        publish(topics.report_topic("area-b", AGENT), report("area-b", 1, ["c1", "c2", "c3"]))
        publish(topics.report_topic("area-a", AGENT), report("area-a", 3, ["c1", "c2"]))
        wait_for(lambda: ingest.metrics.get("reports_stored") == 3, "the three reports in bound")
        wait_for(lambda: len(_named(receipts)) == 3, "area A's receipts (one per batch)")
    finally:
        ingest.stop()
        listener.disconnect()
        listener.loop_stop()
    assert ingest.metrics.get("dead_letters", reason=Reason.TOO_MANY_DEVICES.value) == 1
    assert count_points(influxdb, "camera", "WHERE area = 'area-a'") == 4  # seq 1 and 3 only
    seqs = influxdb.values('SELECT "seq" FROM "agent_report" WHERE "area" = \'area-a\'')
    assert [seq for _, seq in seqs] == [1, 3]
    assert count_points(influxdb, "camera", "WHERE area = 'area-b'") == 3
    refused = [item for r in receipts for item in r.get("refused", [])]  # type: ignore[attr-defined]
    assert [(item["seq"], item["reason"]) for item in refused] == [(2, "too_many_devices")]
    assert sorted(s for r in receipts for s in r.get("stored", [])) == [1, 3]  # type: ignore[attr-defined]


def _named(receipts: list[dict[str, object]]) -> list[object]:
    """Every seq the receipts name, stored or refused."""
    named: list[object] = []
    for receipt in receipts:
        named += receipt.get("stored", [])  # type: ignore[arg-type]
        named += [item["seq"] for item in receipt.get("refused", [])]  # type: ignore[attr-defined]
    return named
