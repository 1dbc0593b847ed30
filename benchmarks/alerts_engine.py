"""Alerts detection cost per report, against the cost of decoding the report at all.

``--areas`` (2,000) areas of one agent and 20 devices (18 cameras, uplink, PC) each send
``--cycles`` (30) cycles; a tenth of the cameras fail for a stretch and an area in fifty loses its
fibre, so incidents open and close. Measured:
- engine: ``Engine.report`` for every report (detection, flapping, suppression; no database);
- baseline: ``Report.model_validate_json`` for the same payloads (what every consumer pays).
The ratio says how much detection adds to the work of reading the reports. The machine (2 cores)
may be shared: the load average is printed.
Run: ``.venv/bin/python benchmarks/alerts_engine.py [--areas N] [--cycles N]``.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import UTC, datetime, timedelta

from alerts.engine import Engine
from contract.fastreport import received
from contract.models import DeviceKind, DeviceResult, Report, Status


def payloads(areas: int, cycles: int) -> list[bytes]:
    rng = random.Random(9)
    t0 = datetime.now(UTC) - timedelta(minutes=cycles)
    out: list[bytes] = []
    broken = {(a, d) for a in range(areas) for d in range(18) if rng.random() < 0.1}
    cut = {a for a in range(areas) if rng.random() < 0.02}
    for cycle in range(cycles):
        for a in range(areas):
            fibre_down = a in cut and 10 <= cycle < 20
            results = [
                DeviceResult(
                    device_id="fibre",
                    kind=DeviceKind.UPLINK,
                    status=Status.DOWN if fibre_down else Status.UP,
                    reason="timeout" if fibre_down else None,
                    duration_ms=3,
                ),
                DeviceResult(device_id="pc", kind=DeviceKind.PC, status=Status.UP, duration_ms=1),
            ]
            for d in range(18):
                down = fibre_down or ((a, d) in broken and 5 <= cycle < 15)
                results.append(
                    DeviceResult(
                        device_id=f"cam-{d:02d}",
                        kind=DeviceKind.CAMERA,
                        status=Status.DOWN if down else Status.UP,
                        reason="timeout" if down else None,
                        duration_ms=40,
                    )
                )
            report = Report(
                area_id=f"khu-{a}",
                agent_id="pc",
                seq=cycle,
                observed_at=t0 + timedelta(minutes=cycle),
                interval_s=60,
                results=results,
            )
            out.append(report.to_json())
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--areas", type=int, default=2000)
    parser.add_argument("--cycles", type=int, default=30)
    args = parser.parse_args()
    data = payloads(args.areas, args.cycles)

    started = time.perf_counter()
    reports = [received(Report.model_validate_json(p)) for p in data]
    decode_s = time.perf_counter() - started

    engine = Engine()
    effects = 0
    started = time.perf_counter()
    for report in reports:
        effects += len(engine.report(report, report.observed_at))
    engine_s = time.perf_counter() - started

    n = len(data)
    print(f"reports: {n} ({args.areas} areas x {args.cycles} cycles, 20 devices each)")
    print(f"effects (incidents opened/closed): {effects}")
    print(f"baseline decode: {decode_s:.2f} s, {n / decode_s:,.0f} reports/s")
    print(f"engine:          {engine_s:.2f} s, {n / engine_s:,.0f} reports/s")
    print(f"engine / decode: {engine_s / decode_s:.2f}")
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
