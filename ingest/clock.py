"""Per-agent clock offset (server clock − agent clock), estimated from arrival times.

Each report gives one sample: arrival (server clock) − sending time (agent clock), where sending
time = ``observed_at`` + the agent's own ``cycle_ms`` (the report leaves when its probes are done).
A sample is the clock offset *plus* network delay and any outbox backlog, both never negative, so
the smallest sample over a window is the best estimate of the offset alone (as NTP's clock filter
does): a busy broker or a replayed backlog only ever raises samples, never lowers the minimum.
Fresh ``online`` presence (not a retained copy) gives samples too.

The window is two half-windows (current and previous minimum): O(1) memory per agent, and an
estimate that follows a stepped agent clock within one window. With shared subscriptions each
worker sees a subset of an agent's reports; its estimate is then a slightly higher minimum, still
an upper bound of the true offset plus the smallest delay it saw.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class _Window:
    started: float
    current: float
    previous: float
    last_seen: float


class ClockOffsets:
    def __init__(self, window_s: float = 900.0, max_agents: int = 1_000_000) -> None:
        self._half = window_s / 2
        self._max_agents = max_agents
        self._agents: dict[tuple[str, str], _Window] = {}

    def sample(self, agent: tuple[str, str], offset_s: float, now: float) -> float:
        """Add one sample (seconds) taken at ``now`` (server time); return the current estimate."""
        window = self._agents.get(agent)
        if window is None:
            if len(self._agents) >= self._max_agents:
                self.forget_older_than(now - 2 * self._half)
            window = self._agents[agent] = _Window(now, offset_s, offset_s, now)
        elif now - window.started >= self._half:
            window.previous, window.current, window.started = window.current, offset_s, now
        elif offset_s < window.current:
            window.current = offset_s
        window.last_seen = now
        return min(window.current, window.previous)

    def estimate(self, agent: tuple[str, str]) -> float | None:
        window = self._agents.get(agent)
        return None if window is None else min(window.current, window.previous)

    def forget_older_than(self, moment: float) -> None:
        """Drop agents not heard from since ``moment`` (bounds memory)."""
        for agent in [a for a, w in self._agents.items() if w.last_seen < moment]:
            del self._agents[agent]

    def __len__(self) -> int:
        return len(self._agents)

    def beyond(self, limit_s: float) -> int:
        """How many agents have an estimated offset beyond ±``limit_s``."""
        return sum(
            1 for w in list(self._agents.values()) if abs(min(w.current, w.previous)) > limit_s
        )
