"""The alerts service: its own persistent MQTT v5 session, the engine, the catalog, the senders.

Threads: paho's network thread decodes each message, runs the engine and records the effects in
the catalog, then acknowledges it (QoS 1, manual ack: a message whose incident could not be
written is redelivered with the next session); a ticker finds silent agents, sends grouped
messages when their window closes and escalates unacknowledged incidents; the dispatcher sends.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
from sqlalchemy import select

from alerts.delivery import Attempt, Dispatcher, Grouper
from alerts.engine import DEFAULT_THRESHOLDS, Closed, Effect, Engine, Key, Opened, Rules, Thresholds
from alerts.messages import Item, Message, Purpose
from alerts.metrics import AlertMetrics
from alerts.names import CatalogNames
from alerts.routing import Routing
from alerts.senders import Senders
from alerts.settings import AlertsSettings
from catalog.db import Catalog, require_current
from catalog.incidents import (
    Delivery,
    Incident,
    IncidentDevice,
    IncidentEvent,
    IncidentState,
    resolve,
)
from catalog.maintenance import occurrences
from catalog.models import Area, MaintenanceWindow
from contract import topics
from contract.decode import Limits, Rejection, decode
from contract.fastreport import ReceivedReport
from contract.models import Presence
from servicekit.mqtt import Session, consumer_client

logger = logging.getLogger(__name__)

ACTOR = "alerts"
AREA_CACHE_S = 60.0


def utcnow() -> datetime:
    return datetime.now(UTC)


def rules_from(settings: AlertsSettings) -> Rules:
    thresholds = dict(DEFAULT_THRESHOLDS)
    thresholds.update({k: Thresholds(f, o) for k, (f, o) in settings.alerts_thresholds.items()})
    return Rules(
        thresholds=thresholds,
        silence_intervals=settings.alerts_silence_intervals,
        late_after_s=settings.alerts_late_after_s,
        flap_high=settings.alerts_flap_high,
        flap_low=settings.alerts_flap_low,
    )


class AlertService:
    def __init__(self, settings: AlertsSettings, routing: Routing | None = None) -> None:
        self.settings = settings
        self.routing = routing or Routing()
        self.catalog = Catalog(settings.database_url)
        try:
            require_current(self.catalog.engine)
        except BaseException:
            self.catalog.close()
            raise
        self.engine = Engine(rules_from(settings), muted=self._muted)
        self.grouper = Grouper(settings.alerts_group_window_s)
        self.dispatcher = Dispatcher(
            self.routing,
            Senders(
                self.routing.channels, CatalogNames(self.catalog, self.routing.dashboard_url)
            ).send,
            self._log_attempt,
            attempts=settings.alerts_retry_attempts,
            base_s=settings.alerts_retry_base_s,
            max_s=settings.alerts_retry_max_s,
        )
        self._lock = threading.Lock()  # the engine and the incident keys
        self._open: dict[Key, int] = {}  # live incidents the engine holds open -> incident id
        self._late: dict[Key, int] = {}  # the latest late incident per key
        self._areas: dict[str, tuple[float, str | None, str | None]] = {}
        self._windows: dict[str, tuple[float, list[MaintenanceWindow]]] = {}
        self.stats = AlertMetrics(
            {
                "open_incidents": self._open_count,
                "delivery_queue": lambda: float(self.dispatcher.depth()),
                "delivery_dropped": lambda: float(self.dispatcher.dropped),
            }
        )
        self._limits = Limits()
        self._stopping = threading.Event()
        self._ticker = threading.Thread(target=self._tick_loop, name="alerts-ticker", daemon=True)
        self._restore()
        self.client = consumer_client(
            settings.alerts_client_id, settings.mqtt_username, settings.mqtt_password, "alerts.paho"
        )
        self.client.on_message = self._on_message
        self.session = Session(
            "alerts",
            self.client,
            settings.mqtt_host,
            settings.mqtt_port,
            filters=self._filters(),
            session_expiry_s=settings.alerts_session_expiry_s,
        )
        self.subscribed = self.session.subscribed

    def metrics(self) -> str:
        """The counters, and what is open or waiting right now, as Prometheus text."""
        return self.stats.render()

    def _open_count(self) -> float:
        with self._lock:
            return float(len(self._open))

    # --- catalog look-ups ----------------------------------------------------------------------

    def _area(self, area_id: str) -> tuple[str | None, str | None]:
        cached = self._areas.get(area_id)
        if cached is not None and time.monotonic() - cached[0] < AREA_CACHE_S:
            return cached[1], cached[2]
        with self.catalog.sessions() as session:
            area = session.get(Area, area_id)
            name, commune = (area.name, area.commune_id) if area else (None, None)
        self._areas[area_id] = (time.monotonic(), name, commune)
        return name, commune

    def _muted(self, area_id: str, device_id: str | None, at: datetime) -> bool:
        cached = self._windows.get(area_id)
        if (
            cached is None
            or time.monotonic() - cached[0] >= self.settings.alerts_maintenance_refresh_s
        ):
            with self.catalog.sessions() as session:
                rows = list(
                    session.execute(
                        select(MaintenanceWindow).where(MaintenanceWindow.area_id == area_id)
                    ).scalars()
                )
            cached = self._windows[area_id] = (time.monotonic(), rows)
        for window in cached[1]:
            if window.device_id is not None and window.device_id != device_id:
                continue
            if occurrences(window, at, at + timedelta(seconds=1)):
                return True
        return False

    def _restore(self) -> None:
        """Incidents left open by a previous run stay open, and close when the data says so."""
        with self.catalog.sessions() as session:
            rows = session.execute(
                select(Incident).where(
                    Incident.state != IncidentState.RESOLVED, Incident.late.is_(False)
                )
            ).scalars()
            for row in rows:
                key = self.engine.restore(row.area_id, row.agent_id, row.kind, row.device_id)
                if key is not None:
                    self._open[key] = row.id

    # --- MQTT ----------------------------------------------------------------------------------

    def _filters(self) -> list[str]:
        areas: list[str | None] = list(self.settings.alerts_areas) or [None]
        filters = [
            topics.subscription(channel, area)
            for area in areas
            for channel in (topics.Channel.REPORT, topics.Channel.STATUS)
        ]
        group = self.settings.alerts_share_group
        return [topics.shared(f, group) for f in filters] if group else filters

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        now = utcnow()
        decoded = decode(message.topic, bytes(message.payload), now, self._limits)
        if isinstance(decoded, Rejection):
            self.stats.inc("rejected", decoded.reason.value)
        else:
            try:
                self.handle(decoded, now)
            except Exception:
                # Not acknowledged: the broker redelivers it with the next session.
                logger.exception("could not record the effects of a message; it will come again")
                self.stats.inc("record_errors")
                return
        if message.qos:
            client.ack(message.mid, message.qos)

    def handle(self, message: ReceivedReport | Presence, now: datetime) -> None:
        """Run one decoded message through the engine and record what it found."""
        with self._lock:
            if isinstance(message, Presence):
                effects = self.engine.presence(message, now)
            else:
                effects = self.engine.report(message, now)
            self._record(effects)
        self.stats.inc("presence" if isinstance(message, Presence) else "reports")

    # --- recording -----------------------------------------------------------------------------

    def _record(self, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, Opened):
                self._opened(effect)
            else:
                self._closed(effect)

    def _opened(self, effect: Opened) -> None:
        with self.catalog.transaction() as session:
            row = Incident(
                area_id=effect.area_id,
                agent_id=effect.agent_id,
                kind=effect.kind,
                device_id=effect.device_id,
                device_kind=effect.device_kind,
                severity=effect.severity,
                reason=effect.reason,
                detail=effect.detail,
                state=IncidentState.OPEN,
                opened_at=effect.at,
                suppressed=effect.suppressed_by is not None,
                suppressed_by=effect.suppressed_by,
                late=effect.late,
                devices=[IncidentDevice(device_id=d) for d in effect.devices],
            )
            session.add(row)
            session.flush()
            row.events.append(
                IncidentEvent(
                    at=effect.at,
                    kind="opened",
                    actor=ACTOR,
                    detail={"late": effect.late, "suppressed_by": effect.suppressed_by},
                )
            )
            incident_id = row.id
        (self._late if effect.late else self._open)[effect.key] = incident_id
        self.stats.inc("opened", effect.kind)
        if effect.pages:
            purpose: Purpose = "flapping" if effect.kind == "flapping" else "problem"
            self._queue(effect.area_id, self._item(purpose, incident_id, effect))
        else:
            self.stats.inc("suppressed", effect.suppressed_by)

    def _closed(self, effect: Closed) -> None:
        incident_id = (self._late if effect.late else self._open).get(effect.key)
        if incident_id is None:
            return
        if not effect.late:
            del self._open[effect.key]
        with self.catalog.transaction() as session:
            row = session.get(Incident, incident_id)
            if row is None:
                return
            if row.state != IncidentState.RESOLVED:
                resolve(row, effect.at, ACTOR, by_data=True)
            elif effect.late and row.resolved_by is None:
                row.resolved_at = effect.at  # later late failures moved the end
            else:
                row.events.append(IncidentEvent(at=effect.at, kind="recovered", actor=ACTOR))
            pages = not row.suppressed and not row.late
            item = Item(
                "flapping_end" if row.kind == "flapping" else "recovery",
                row.id,
                row.kind,
                effect.at,
                row.device_id,
                row.device_kind,
                row.severity,
                row.reason,
                effect.final_status,
            )
        self.stats.inc("closed", effect.key[1])
        if pages:  # a recovery is never suppressed when its problem was paged
            self._queue(effect.area_id, item)

    def _item(self, purpose: Purpose, incident_id: int, effect: Opened) -> Item:
        return Item(
            purpose,
            incident_id,
            effect.kind,
            effect.at,
            effect.device_id,
            effect.device_kind,
            effect.severity,
            effect.reason,
        )

    def _queue(self, area_id: str, item: Item) -> None:
        name, commune = self._area(area_id)
        self.grouper.add(area_id, name, commune, item)

    def _log_attempt(self, attempt: Attempt) -> None:
        message = attempt.message
        with self.catalog.transaction() as session:
            session.add(
                Delivery(
                    message_id=message.id,
                    area_id=message.area_id,
                    incident_ids=list(message.incident_ids),
                    purpose=message.purpose,
                    channel=attempt.contact.channel,
                    recipient=attempt.contact.to,
                    attempt=attempt.attempt,
                    outcome=attempt.outcome,
                    error=attempt.error,
                )
            )
            if attempt.outcome != "failed":
                for incident_id in message.incident_ids:
                    session.add(
                        IncidentEvent(
                            incident_id=incident_id,
                            kind="notified" if attempt.outcome == "sent" else "not_delivered",
                            actor=ACTOR,
                            detail={
                                "message_id": message.id,
                                "purpose": message.purpose,
                                "channel": attempt.contact.channel,
                                "to": attempt.contact.to,
                                "attempts": attempt.attempt,
                            },
                        )
                    )
        self.stats.inc("deliveries", attempt.outcome)

    # --- ticker --------------------------------------------------------------------------------

    def tick(self) -> None:
        now = utcnow()
        with self._lock:
            self._record(self.engine.tick(now))
        for message in self.grouper.due():
            self.dispatcher.submit(message)
        self._escalate(now)

    def _escalate(self, now: datetime) -> None:
        due = now - timedelta(seconds=self.settings.alerts_escalate_after_s)
        by_area: dict[str, list[Item]] = {}
        with self.catalog.transaction() as session:
            rows = session.execute(
                select(Incident).where(
                    Incident.state == IncidentState.OPEN,
                    Incident.suppressed.is_(False),
                    Incident.escalated_at.is_(None),
                    Incident.created_at <= due,
                )
            ).scalars()
            for row in rows:
                row.escalated_at = now
                row.events.append(IncidentEvent(at=now, kind="escalated", actor=ACTOR))
                by_area.setdefault(row.area_id, []).append(
                    Item(
                        "escalation",
                        row.id,
                        row.kind,
                        row.opened_at,
                        row.device_id,
                        row.device_kind,
                        row.severity,
                        row.reason,
                    )
                )
        for area_id, items in by_area.items():
            name, commune = self._area(area_id)
            ids = tuple(sorted(i.incident_id for i in items))
            message = Message(
                f"esc-{area_id}-{ids[0]}"[:40], area_id, name, commune, tuple(items), True, ids
            )
            self.stats.inc("escalations", amount=len(items))
            self.dispatcher.submit(message)

    def _tick_loop(self) -> None:
        while not self._stopping.wait(self.settings.alerts_tick_s):
            try:
                self.tick()
            except Exception:
                logger.exception("alerts tick failed; trying again next tick")

    # --- life cycle ----------------------------------------------------------------------------

    def start(self) -> None:
        self.dispatcher.start()
        self._ticker.start()
        self.session.start()

    def stop(self, grace_s: float = 5.0) -> None:
        """Leave the broker, send what is grouped, give deliveries ``grace_s`` to finish."""
        self._stopping.set()
        self.session.stop()
        if self._ticker.ident is not None:
            self._ticker.join()
        for message in self.grouper.due(force=True):
            self.dispatcher.submit(message)
        deadline = time.monotonic() + grace_s
        while not self.dispatcher.idle() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.dispatcher.stop()
        self.catalog.close()
