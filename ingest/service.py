"""The ingest service: a persistent MQTT v5 session, acknowledging messages after their batch is
written.

Three threads, joined by bounded queues, so the MQTT network thread never waits for InfluxDB::

    paho network thread ──inbox──▶ batcher (decode, dead-letter, format) ──batches──▶ writer
          ▲                                                                           │
          └──────────────── PUBACK for every message of the batch, once stored ◀──────┘

- The broker may have at most ``mqtt_receive_maximum`` messages delivered and unacknowledged
  (MQTT v5 Receive Maximum): that is the back-pressure bound, and the inbox is sized for it.
- Batches close at ``batch_max_points`` points or ``batch_max_age_s`` seconds (one request each,
  over a keep-alive connection); the writer stores them through ``ingest.delivery``.
- While InfluxDB is unreachable nothing is acknowledged, so the broker keeps every message in the
  persistent session; if ingest stops or dies meanwhile, the broker redelivers them.
- Once a batch is stored, each agent gets a receipt (QoS 0) naming its reports now stored or
  refused for good: the agent keeps a report in its outbox until then, because the broker's
  PUBACK does not survive a broker crash. A report refused only for a time ahead of the server
  clock gets no receipt: sent again later, it may be accepted.
- Acknowledgements are numbered by connection (``epoch``): a message received on an earlier
  connection is never acked on a later one, where its packet id may belong to another message
  (the broker redelivers it on the new connection, and that copy is acked).
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
from collections import defaultdict
from datetime import timedelta

import paho.mqtt.client as mqtt

from contract import topics
from contract.decode import Limits, Reason
from contract.models import RECEIPT_SCHEMA
from ingest.batch import Batch, Batcher, Incoming
from ingest.clock import ClockOffsets
from ingest.deadletter import DeadLetters
from ingest.delivery import Delivery, Stopped
from ingest.devices import DeviceBound
from ingest.metrics import Metrics
from ingest.settings import IngestSettings
from servicekit.mqtt import Session, consumer_client
from tsdb.writer import Writer

logger = logging.getLogger(__name__)

POLL_S = 0.2
STOP_GRACE_S = 5.0


class IngestService:
    def __init__(
        self, settings: IngestSettings, writer: Writer, metrics: Metrics | None = None
    ) -> None:
        self.settings = settings
        self.writer = writer
        self.metrics = metrics or Metrics()
        self.dead_letters = DeadLetters(self.metrics, settings.dead_letter_file)
        self.clock = ClockOffsets(settings.clock_window_s)
        limits = Limits(
            max_payload_bytes=settings.max_payload_bytes,
            max_future=timedelta(seconds=settings.max_future_s),
            max_past=timedelta(seconds=settings.max_past_s),
        )
        self.devices = DeviceBound(settings.max_devices_per_agent)
        self.batcher = Batcher(limits, self.dead_letters, self.clock, self.devices)
        self._stopping = threading.Event()
        self.delivery = Delivery(
            writer, self.metrics, self.dead_letters, self._stopping, settings.retry_max_s
        )
        receive_max = settings.mqtt_receive_maximum
        self._inbox: queue.Queue[Incoming | None] = queue.Queue(maxsize=2 * receive_max + 16)
        self._batches: queue.Queue[Batch | None] = queue.Queue(maxsize=2)
        self._flush_messages = max(1, receive_max // 2)
        self._unacked = 0
        self._threads = [
            threading.Thread(target=self._batch_loop, name="ingest-batcher", daemon=True),
            threading.Thread(target=self._write_loop, name="ingest-writer", daemon=True),
        ]
        self.metrics.gauges.update(
            unacked_messages=lambda: self._unacked,
            inbox_depth=self._inbox.qsize,
            agents_tracked=lambda: len(self.clock),
            agents_clock_skewed=lambda: self.clock.beyond(settings.clock_skew_alert_s),
        )
        self.client = consumer_client(
            settings.mqtt_client_id, settings.mqtt_username, settings.mqtt_password, "ingest.paho"
        )
        self.client.on_message = self._on_message
        self.session = Session(
            "ingest",
            self.client,
            settings.mqtt_host,
            settings.mqtt_port,
            filters=self._filters(),
            session_expiry_s=settings.mqtt_session_expiry_s,
            receive_maximum=receive_max,
            on_connection=self._on_connection,
            on_reconnect=lambda: self.metrics.inc("mqtt_reconnects"),
        )
        self.subscribed = self.session.subscribed

    # --- MQTT network thread -------------------------------------------------------------------

    def _filters(self) -> list[str]:
        filters = [
            topics.subscription(topics.Channel.REPORT),
            topics.subscription(topics.Channel.STATUS),
        ]
        group = self.settings.mqtt_share_group
        return [topics.shared(f, group) for f in filters] if group else filters

    def _on_connection(self, connected: bool) -> None:
        """Called under the session's lock at each new connection epoch."""
        self._unacked = 0  # the broker redelivers what the last connection left unacked

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        self.metrics.inc("messages_received")
        with self.session.lock:
            self._unacked += 1
            epoch = self.session.epoch
        item = Incoming(
            epoch,
            message.mid,
            message.qos,
            message.topic,
            bytes(message.payload),
            time.time(),
            bool(message.retain),
        )
        try:
            self._inbox.put_nowait(item)
        except queue.Full:
            self.metrics.inc("inbox_full_waits")
            while not self._stopping.is_set():
                try:
                    self._inbox.put(item, timeout=POLL_S)
                    return
                except queue.Full:
                    continue
            # Stopping: the message stays unacknowledged and the broker redelivers it.

    # --- batcher thread ------------------------------------------------------------------------

    def _batch_loop(self) -> None:
        max_points, max_age = self.settings.batch_max_points, self.settings.batch_max_age_s
        batch: Batch | None = None
        while True:
            if batch is not None:
                remaining = batch.started + max_age - time.monotonic()
                if remaining <= 0:
                    self._hand_over(batch)
                    batch = None
                    continue
            timeout = POLL_S if batch is None else min(remaining, POLL_S)
            try:
                item = self._inbox.get(timeout=timeout)
            except queue.Empty:
                if self._stopping.is_set():
                    return
                continue
            if item is None:  # stop(): flush what we have, then tell the writer
                if batch is not None:
                    self._hand_over(batch)
                self._hand_over(None)
                return
            if batch is None:
                batch = Batch()
            self.batcher.add(batch, item)
            if len(batch.lines) >= max_points or len(batch.messages) >= self._flush_messages:
                self._hand_over(batch)
                batch = None

    def _hand_over(self, batch: Batch | None) -> None:
        while not self._stopping.is_set():
            try:
                self._batches.put(batch, timeout=POLL_S)
                return
            except queue.Full:
                continue

    # --- writer thread -------------------------------------------------------------------------

    def _write_loop(self) -> None:
        while True:
            try:
                batch = self._batches.get(timeout=POLL_S)
            except queue.Empty:
                if self._stopping.is_set():
                    return
                continue
            if batch is None:
                return
            try:
                self.delivery.deliver(batch)
            except Stopped:
                return
            self._ack(batch)
            self._send_receipts(batch)
            now = time.time()
            self.metrics.e2e_lag.observe_many(now - observed for observed in batch.observed)
            if batch.reports:
                self.metrics.inc("reports_stored", batch.reports)
            if batch.presence:
                self.metrics.inc("presence_stored", batch.presence)

    def _ack(self, batch: Batch) -> None:
        with self.session.lock:  # the network thread cannot start a new connection meanwhile
            if not self.session.connected.is_set():
                return
            current = [m for m in batch.messages if m.epoch == self.session.epoch]
            self._unacked -= len(current)
            self._send_pubacks([m.mid for m in current if m.qos == 1])

    def _send_receipts(self, batch: Batch) -> None:
        stored: dict[tuple[str, str], list[int]] = defaultdict(list)
        for report in batch.report_ids.values():
            stored[report.area_id, report.agent_id].append(report.seq)
        refused: dict[tuple[str, str], list[dict[str, object]]] = defaultdict(list)
        for item in batch.refused:
            if item.rejection.reason is Reason.FUTURE:
                continue
            refused[item.report.area_id, item.report.agent_id].append(
                {
                    "seq": item.report.seq,
                    "reason": item.rejection.reason.value,
                    "detail": item.rejection.detail[:300],
                }
            )
        for area_id, agent_id in stored.keys() | refused.keys():
            body: dict[str, object] = {"schema": RECEIPT_SCHEMA}
            if (area_id, agent_id) in stored:
                body["stored"] = stored[area_id, agent_id]
            if (area_id, agent_id) in refused:
                body["refused"] = refused[area_id, agent_id]
            payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
            self.client.publish(topics.receipt_topic(area_id, agent_id), payload, qos=0)
            self.metrics.inc("receipts_sent")

    def _send_pubacks(self, mids: list[int]) -> None:
        """PUBACK the messages, in order, with paho's public ``ack()``: one packet and one wake-up
        of the network thread each. Writing a batch's PUBACKs as one chunk into paho's private
        output queue saved about 10 us per message, 0.02 of a core at the national load
        (``benchmarks/ingest_throughput.py --variants``): not worth depending on paho's
        internals."""
        for mid in mids:
            self.client.ack(mid, 1)

    # --- life cycle ----------------------------------------------------------------------------

    def start(self) -> None:
        for thread in self._threads:
            thread.start()
        self.session.start()

    def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """Write and acknowledge what is already batched (for up to ``grace_s``), then leave.

        Whatever is not acknowledged by then stays with the broker for the next session."""
        deadline = time.monotonic() + grace_s
        started = [t for t in self._threads if t.ident is not None]
        if started:
            with contextlib.suppress(queue.Full):
                self._inbox.put(None, timeout=grace_s)
            for thread in started:
                thread.join(max(0.0, deadline - time.monotonic()))
        self._stopping.set()
        for thread in started:
            thread.join()
        self.session.stop()
        self.writer.close()
