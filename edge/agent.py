"""One probe cycle per interval: run every device's probe, build one report, publish it at QoS 1."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime

from contract.models import DeviceResult, Report, Status
from edge.config import AgentConfig
from edge.link import BrokerLink
from edge.probes import Probe
from edge.state import SequenceStore

logger = logging.getLogger(__name__)

MAX_PARALLEL_PROBES = 8


def _sleep_until(deadline: float, stop: threading.Event) -> None:
    """Wait for ``deadline`` (monotonic) or ``stop``, in short slices: the main thread blocked in
    one long lock wait does not run signal handlers when the kernel hands SIGTERM to another
    thread, so a single ``stop.wait(60)`` could ignore a stop request for a whole interval."""
    while not stop.is_set():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        stop.wait(min(remaining, 0.2))


class Agent:
    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self.probes: list[Probe] = [device.build() for device in config.devices]
        self.sequence = SequenceStore(config.state_dir)
        self.link = BrokerLink(config)
        self._pool = ThreadPoolExecutor(
            max_workers=min(MAX_PARALLEL_PROBES, len(self.probes)), thread_name_prefix="probe"
        )
        # The agent's own counters, sent in every report.
        self.unacked_reports = 0
        self.dropped_reports = 0
        self.hung_probes = 0

    def _hard_limit(self, probe: Probe) -> float:
        """Last line of defence: a probe gets its own timeouts plus slack, never the interval."""
        return min(probe.timeout_s * 3 + 1, self.config.interval_s * 0.8)

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

    def run_cycle(self) -> Report:
        observed_at = datetime.now(UTC)
        started = time.perf_counter()
        futures = [(probe, self._pool.submit(probe.probe)) for probe in self.probes]
        results = [self._collect(probe, future, started) for probe, future in futures]
        return Report(
            area_id=self.config.area_id,
            agent_id=self.config.agent_id,
            seq=self.sequence.next(),
            observed_at=observed_at,
            interval_s=self.config.interval_s,
            results=results,
            agent_metrics={
                "cycle_ms": round((time.perf_counter() - started) * 1000, 3),
                "unacked_reports": self.unacked_reports,
                "dropped_reports": self.dropped_reports,
                "hung_probes": self.hung_probes,
                "connects": self.link.connects,
            },
        )

    def publish(self, report: Report) -> None:
        if not self.link.publish_report(report.to_json()):
            if self.link.connected.is_set():
                self.unacked_reports += 1
                logger.warning("report %d was not acknowledged in time", report.seq)
            else:
                logger.info("report %d held in memory until the broker is back", report.seq)

    def run(self, stop: threading.Event, cycles: int | None = None) -> None:
        """Run until ``stop`` is set (or ``cycles`` cycles are done), one cycle per interval."""
        self.link.start()
        self.link.connected.wait(timeout=min(5.0, self.config.interval_s))
        next_start = time.monotonic()
        done = 0
        try:
            while not stop.is_set() and (cycles is None or done < cycles):
                report = self.run_cycle()
                self.publish(report)
                done += 1
                logger.debug("cycle %d: %d results", report.seq, len(report.results))
                next_start += self.config.interval_s
                # A cycle that overran is not made up for: cycles never bunch up.
                next_start = max(next_start, time.monotonic())
                _sleep_until(next_start, stop)
        finally:
            self.link.stop()
            self._pool.shutdown(wait=False, cancel_futures=True)
