"""The detection state machine: reports and presence in, incident openings and closings out.

Pure and single-threaded: no clock of its own (every call is given ``now``), no I/O. The service
feeds it and records what it returns. State is per area, so workers can split areas between them.

- A device's incident opens after N consecutive failing results (not ``up``) and closes after M
  good ones, N and M per device kind; both carry the *true* times (first failing result, first
  good one), taken from the reports' observation times.
- An agent silent for K intervals, or whose presence says ``offline``, opens one
  ``area_unreachable`` incident; its devices become ``unknown``.
- Flapping (Icinga's weighted state-change ratio over the last 21 results, with a high and a low
  threshold) opens one ``flapping`` incident; its closing carries the final state.
- Suppression only decides whether an opening pages anyone (``suppressed_by``); the incident is
  recorded regardless, and a closing is paged whenever its opening was.
- Late data (an outbox draining after a fibre cut) goes through a separate track per device, so
  it creates past incidents with their true times without disturbing the live state, and pages
  nobody.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from contract.fastreport import ReceivedReport, ReceivedResult
from contract.models import DeviceKind, Presence, PresenceState, Status

FLAP_WINDOW = 21  # results; 20 transitions, as Icinga
LIVE_MEMORY = 512  # live results kept per device, to close late incidents at their true time


@dataclass(frozen=True, slots=True)
class Thresholds:
    fail: int  # consecutive failing results that open an incident
    ok: int  # consecutive good results that close it


# No kind pages on a single lost result; the uplink (one fibre) is judged a little faster.
DEFAULT_THRESHOLDS: dict[str, Thresholds] = {
    DeviceKind.CAMERA: Thresholds(3, 2),
    DeviceKind.UPLINK: Thresholds(2, 2),
    DeviceKind.WIFI: Thresholds(3, 2),
    DeviceKind.SPEAKER: Thresholds(3, 2),
    DeviceKind.PC: Thresholds(2, 2),
}


@dataclass(frozen=True)
class Rules:
    thresholds: dict[str, Thresholds] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    silence_intervals: float = 3.0  # K: no report for this many intervals = area unreachable
    late_after_s: float = 600.0  # older than this behind ``now`` = late
    flap_high: float = 30.0  # percent: flapping starts above
    flap_low: float = 25.0  # percent: flapping stops below

    def for_kind(self, kind: str) -> Thresholds:
        return self.thresholds.get(kind, Thresholds(3, 2))


# (area_id, device_id or None, at) -> True while a maintenance window mutes it
Muted = Callable[[str, str | None, datetime], bool]


def _never_muted(area_id: str, device_id: str | None, at: datetime) -> bool:
    return False


Key = tuple[str, str, str]  # (area_id, kind, device_id or agent_id)


@dataclass(frozen=True, slots=True)
class Opened:
    key: Key
    area_id: str
    agent_id: str
    kind: str  # device_down, area_unreachable, flapping
    at: datetime
    device_id: str | None = None
    device_kind: str | None = None
    severity: str = "down"
    reason: str | None = None
    detail: str | None = None
    devices: tuple[str, ...] = ()
    late: bool = False
    suppressed_by: str | None = None  # None: page

    @property
    def pages(self) -> bool:
        return self.suppressed_by is None


@dataclass(frozen=True, slots=True)
class Closed:
    key: Key
    area_id: str
    at: datetime
    late: bool = False
    final_status: str | None = None  # for flapping: the state it settled in


Effect = Opened | Closed


def flap_percent(history: deque[bool]) -> float:
    """Icinga's weighted share of state changes: recent changes weigh 1.2, old ones 0.8."""
    states = list(history)
    changes = 0.0
    for i in range(1, len(states)):
        if states[i] != states[i - 1]:
            changes += 0.8 + (i - 1) * (0.4 / (FLAP_WINDOW - 2))
    return 100.0 * changes / (FLAP_WINDOW - 1)


@dataclass
class _Track:
    """One device's run of results (live, or late)."""

    fails: int = 0
    oks: int = 0
    fail_start: datetime | None = None
    ok_start: datetime | None = None
    last_fail_at: datetime | None = None
    open: bool = False
    status: str = "unknown"
    history: deque[bool] = field(default_factory=lambda: deque(maxlen=FLAP_WINDOW))
    flapping: bool = False
    seen: list[tuple[datetime, bool]] = field(default_factory=list)  # live results, by time


@dataclass
class _Agent:
    area_id: str
    agent_id: str
    interval_s: float = 60.0
    newest: datetime | None = None
    last_heard: datetime | None = None  # ``now`` when its last live report arrived
    unreachable: bool = False
    devices: dict[str, str] = field(default_factory=dict)  # device id -> kind


class Engine:
    def __init__(self, rules: Rules | None = None, muted: Muted = _never_muted) -> None:
        self.rules = rules or Rules()
        self.muted = muted
        self._agents: dict[tuple[str, str], _Agent] = {}
        self._live: dict[tuple[str, str], _Track] = {}
        self._late: dict[tuple[str, str], _Track] = {}

    # --- queries -------------------------------------------------------------------------------

    def device_status(self, area_id: str, device_id: str) -> str:
        """up, degraded, down, or unknown (never seen, or its agent is unreachable)."""
        for agent in self._agents.values():
            if agent.area_id == area_id and device_id in agent.devices and agent.unreachable:
                return "unknown"
        track = self._live.get((area_id, device_id))
        return track.status if track else "unknown"

    def restore(
        self, area_id: str, agent_id: str | None, kind: str, device_id: str | None
    ) -> Key | None:
        """Take back an incident a previous run left open (from the catalog) after a restart."""
        if kind == "area_unreachable" and agent_id is not None:
            self._agent(area_id, agent_id).unreachable = True
            return (area_id, kind, agent_id)
        if device_id is None or kind not in ("device_down", "flapping"):
            return None
        track = self._live.setdefault((area_id, device_id), _Track())
        if kind == "device_down":
            track.open = True
        else:
            track.flapping = True  # ends (with its final state) at the next result
        return (area_id, kind, device_id)

    # --- inputs --------------------------------------------------------------------------------

    def _agent(self, area_id: str, agent_id: str) -> _Agent:
        agent = self._agents.get((area_id, agent_id))
        if agent is None:
            agent = self._agents[(area_id, agent_id)] = _Agent(area_id, agent_id)
        return agent

    def is_late(self, report: ReceivedReport, now: datetime) -> bool:
        """Older than the newest report of its agent (an outbox draining after a cut, oldest
        first, behind a fresh cycle), or older than ``late_after_s``: history, not news."""
        agent = self._agents.get((report.area_id, report.agent_id))
        if agent is not None and agent.newest is not None and report.observed_at < agent.newest:
            return True
        return report.observed_at < now - timedelta(seconds=self.rules.late_after_s)

    def report(self, report: ReceivedReport, now: datetime) -> list[Effect]:
        agent = self._agent(report.area_id, report.agent_id)
        late = self.is_late(report, now)
        effects: list[Effect] = []
        at = report.observed_at
        if not late:
            agent.interval_s = report.interval_s
            agent.newest = max(agent.newest, at) if agent.newest else at
            agent.last_heard = now
            if agent.unreachable:
                effects.append(self._reachable(agent, at))
        # The uplink first: a camera result in the same report is judged knowing the fibre's state.
        results: list[ReceivedResult] = list(report.results)
        order = sorted(results, key=lambda r: r.kind is not DeviceKind.UPLINK)
        for result in order:
            agent.devices[result.device_id] = result.kind
            effects += self._result(agent, result, at, late)
        return effects

    def presence(self, presence: Presence, now: datetime) -> list[Effect]:
        agent = self._agent(presence.area_id, presence.agent_id)
        at = presence.at or now
        if presence.state is PresenceState.OFFLINE and not agent.unreachable:
            return [self._unreachable(agent, at, "offline")]
        if presence.state is PresenceState.ONLINE:
            agent.last_heard = now
            if agent.unreachable:
                return [self._reachable(agent, at)]
        return []

    def tick(self, now: datetime) -> list[Effect]:
        """Agents silent for K intervals become unreachable."""
        effects: list[Effect] = []
        for agent in self._agents.values():
            if agent.unreachable or agent.last_heard is None:
                continue
            silent = timedelta(seconds=self.rules.silence_intervals * agent.interval_s)
            if now - agent.last_heard >= silent:
                due = (agent.newest or agent.last_heard) + timedelta(seconds=agent.interval_s)
                effects.append(self._unreachable(agent, min(due, now), "silent"))
        return effects

    # --- agents --------------------------------------------------------------------------------

    def _unreachable(self, agent: _Agent, at: datetime, reason: str) -> Opened:
        agent.unreachable = True
        devices = tuple(sorted(agent.devices))
        return Opened(
            (agent.area_id, "area_unreachable", agent.agent_id),
            agent.area_id,
            agent.agent_id,
            "area_unreachable",
            at,
            severity="unknown",
            reason=reason,
            devices=devices,
            suppressed_by="maintenance" if self.muted(agent.area_id, None, at) else None,
        )

    def _reachable(self, agent: _Agent, at: datetime) -> Closed:
        agent.unreachable = False
        return Closed((agent.area_id, "area_unreachable", agent.agent_id), agent.area_id, at)

    # --- devices -------------------------------------------------------------------------------

    def _uplink_failing(self, area_id: str, late: bool) -> bool:
        tracks = self._late if late else self._live
        for agent in self._agents.values():
            if agent.area_id != area_id:
                continue
            for device, kind in agent.devices.items():
                track = tracks.get((area_id, device))
                if kind == DeviceKind.UPLINK and track is not None and (track.fails or track.open):
                    return True
        return False

    def _suppressed_by(
        self, agent: _Agent, device: str, kind: str, at: datetime, late: bool
    ) -> str | None:
        if late:
            return "late"
        if agent.unreachable:
            return "agent"
        if kind == DeviceKind.CAMERA and self._uplink_failing(agent.area_id, late):
            return "uplink"
        track = self._live.get((agent.area_id, device))
        if track is not None and track.flapping:
            return "flapping"
        if self.muted(agent.area_id, device, at):
            return "maintenance"
        return None

    def _result(
        self, agent: _Agent, result: ReceivedResult, at: datetime, late: bool
    ) -> list[Effect]:
        area, device, kind = agent.area_id, result.device_id, str(result.kind)
        tracks = self._late if late else self._live
        track = tracks.get((area, device))
        if track is None:
            track = tracks[(area, device)] = _Track()
        ok = result.status is Status.UP
        effects: list[Effect] = []
        if not late:
            effects += self._flap(agent, track, device, kind, ok, str(result.status), at)
            bisect.insort(track.seen, (at, ok))
            if len(track.seen) > LIVE_MEMORY:
                del track.seen[0]
        track.status = str(result.status)
        limits = self.rules.for_kind(kind)
        key = (area, "device_down", device)
        if ok:
            track.oks += 1
            track.fails = 0
            if track.oks == 1:
                track.ok_start = at
            if track.open and track.oks >= limits.ok:
                track.open = False
                effects.append(Closed(key, area, track.ok_start or at, late=late))
            return effects
        track.fails += 1
        track.oks = 0
        track.last_fail_at = at
        if track.fails == 1:
            track.fail_start = at
        if not track.open and track.fails >= limits.fail:
            track.open = True
            effects.append(
                Opened(
                    key,
                    area,
                    agent.agent_id,
                    "device_down",
                    track.fail_start or at,
                    device_id=device,
                    device_kind=kind,
                    severity=str(result.status),
                    reason=result.reason,
                    detail=result.detail,
                    devices=(device,),
                    late=late,
                    suppressed_by=self._suppressed_by(agent, device, kind, at, late),
                )
            )
        if late and track.open:
            effects += self._settle_late(area, device, track, key)
        return effects

    def _settle_late(self, area: str, device: str, track: _Track, key: Key) -> list[Effect]:
        """A late incident ends where the live data shows the device good again after it."""
        live = self._live.get((area, device))
        if live is None or track.last_fail_at is None:
            return []
        i = bisect.bisect_right(live.seen, (track.last_fail_at, True))
        if i < len(live.seen) and live.seen[i][1]:
            # Stays open in the late track, so later late failures extend the same incident (the
            # recorder moves its end); a run of good late results closes it for good.
            return [Closed(key, area, live.seen[i][0], late=True)]
        return []

    def _flap(
        self,
        agent: _Agent,
        track: _Track,
        device: str,
        kind: str,
        ok: bool,
        status: str,
        at: datetime,
    ) -> list[Effect]:
        track.history.append(ok)
        percent = flap_percent(track.history)
        key = (agent.area_id, "flapping", device)
        if not track.flapping and percent > self.rules.flap_high:
            track.flapping = True
            suppressed = "agent" if agent.unreachable else None
            if suppressed is None and self.muted(agent.area_id, device, at):
                suppressed = "maintenance"
            return [
                Opened(
                    key,
                    agent.area_id,
                    agent.agent_id,
                    "flapping",
                    at,
                    device_id=device,
                    device_kind=kind,
                    severity="flapping",
                    reason="flapping",
                    detail=f"{percent:.0f}% state changes",
                    devices=(device,),
                    suppressed_by=suppressed,
                )
            ]
        if track.flapping and percent < self.rules.flap_low:
            track.flapping = False
            return [Closed(key, agent.area_id, at, final_status=status)]
        return []
