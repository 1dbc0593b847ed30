"""One probe cycle per interval: run every device's probe, number the report, store it durably.

Sending is the link's job (``edge.link``): the cycle never waits for the network, so probing goes on
at its own pace through fibre cuts and broker outages, and every report waits in the outbox.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime

from contract.models import DeviceResult, Report, Status
from edge.commands import CommandInbox
from edge.config import AgentConfig
from edge.link import BrokerLink, CredentialsRefused
from edge.outbox import Limits, Outbox, Stats
from edge.probes import Probe

logger = logging.getLogger(__name__)

MAX_PARALLEL_PROBES = 8


def _sleep_until(
    deadline: float, stop: threading.Event, wake: threading.Event | None = None
) -> None:
    """Wait for ``deadline`` (monotonic), ``stop`` or ``wake``, in short slices: the main thread
    blocked in one long lock wait does not run signal handlers when the kernel hands SIGTERM to
    another thread, so a single ``stop.wait(60)`` could ignore a stop request for a whole
    interval. ``wake`` (a "probe now" command) is seen within a slice."""
    while not stop.is_set() and not (wake is not None and wake.is_set()):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        stop.wait(min(remaining, 0.2))


class Agent:
    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self.probes: list[Probe] = [device.build() for device in config.devices]
        box = config.outbox
        self.outbox = Outbox(
            config.state_dir / "outbox.sqlite",
            Limits(
                max_reports=box.max_reports,
                max_bytes=int(box.max_mb * 1024 * 1024),
                max_age_s=box.max_age_days * 86400,
            ),
        )
        self.commands = CommandInbox(config.area_id, config.agent_id)
        self.link = BrokerLink(config, self.outbox, self.commands)
        self._pool = ThreadPoolExecutor(
            max_workers=min(MAX_PARALLEL_PROBES, len(self.probes)), thread_name_prefix="probe"
        )
        self.hung_probes = 0

    def _hard_limit(self, probe: Probe) -> float:
        """Last line of defence: a probe gets its worst case plus slack, never the interval."""
        return min(probe.worst_case_s * 1.5 + 1, self.config.interval_s * 0.9)

    def _collect(self, probe: Probe, future: Future[DeviceResult], started: float) -> DeviceResult:
        remaining = self._hard_limit(probe) - (time.perf_counter() - started)
        try:
            return future.result(timeout=max(remaining, 0))
        except FutureTimeout:
            self.hung_probes += 1
            detail = "the probe did not finish within its hard limit"
            return probe.result(started, Status.DOWN, "probe_timeout", detail)
        except Exception as exc:  # a bug in a probe must not stop the other devices' reports
            logger.exception("probe of %s failed unexpectedly", probe.device_id)
            return probe.result(started, Status.DOWN, "probe_error", type(exc).__name__)

    def _agent_metrics(
        self, cycle_ms: float, results: list[DeviceResult], stats: Stats
    ) -> dict[str, float]:
        return {
            "cycle_ms": round(cycle_ms, 3),
            "probe_max_ms": max((r.duration_ms for r in results), default=0.0),
            "hung_probes": self.hung_probes,
            "outbox_depth": stats.depth,
            "outbox_oldest_age_s": stats.oldest_age_s,
            "outbox_bytes": stats.bytes,
            "outbox_dropped_total": stats.dropped_total,
            "resent_total": stats.resent_total,
            "connects_total": self.link.connects,
            "connect_failures_total": self.link.connect_failures,
            "unconfirmed": len(self.link.unconfirmed),
            "resent_unconfirmed_total": self.link.unconfirmed.resent_total,
            "no_subscriber_acks_total": self.link.no_subscribers,
            "reports_refused_total": self.link.refused_reports,
            "receipts_total": self.link.receipts,
            **self.commands.metrics(),
        }

    def run_cycle(self) -> Report:
        """Probe every device once and put the numbered report in the outbox."""
        observed_at = datetime.now(UTC)
        started = time.perf_counter()
        futures = [(probe, self._pool.submit(probe.probe)) for probe in self.probes]
        results = [self._collect(probe, future, started) for probe, future in futures]
        cycle_ms = (time.perf_counter() - started) * 1000
        built: list[Report] = []

        def build(seq: int, stats: Stats) -> bytes:
            report = Report(
                area_id=self.config.area_id,
                agent_id=self.config.agent_id,
                seq=seq,
                observed_at=observed_at,
                interval_s=self.config.interval_s,
                results=results,
                agent_metrics=self._agent_metrics(cycle_ms, results, stats),
            )
            built.append(report)
            return report.to_json()

        dropped = self.outbox.append(build)
        if dropped:
            logger.warning("outbox full: dropped the %d oldest reports", dropped)
        return built[0]

    def run(self, stop: threading.Event, cycles: int | None = None) -> None:
        """Run until ``stop`` is set (or ``cycles`` cycles are done), one cycle per interval.

        Raises ``CredentialsRefused`` when the broker refuses this agent.
        """
        self.link.start()
        next_start = time.monotonic()
        done = 0
        try:
            while not stop.is_set() and (cycles is None or done < cycles):
                if self.link.refused is not None:
                    raise CredentialsRefused(self.link.refused)
                # Commands that arrive from now on ask for a cycle after this one; those before
                # are answered by it (several "probe now" become one cycle).
                self.commands.wake.clear()
                started = time.monotonic()
                report = self.run_cycle()
                done += 1
                logger.debug("cycle %d: %d results", report.seq, len(report.results))
                # A cycle started early by a command restarts the schedule from itself.
                next_start = min(next_start, started) + self.config.interval_s
                # A cycle that overran is not made up for: cycles never bunch up.
                next_start = max(next_start, time.monotonic())
                if cycles is None or done < cycles:
                    _sleep_until(next_start, stop, self.commands.wake)
        finally:
            self.link.stop(flush_s=self.config.outbox.flush_on_stop_s)
            self._pool.shutdown(wait=False, cancel_futures=True)
            self.outbox.close()
        if self.link.refused is not None:
            raise CredentialsRefused(self.link.refused)
