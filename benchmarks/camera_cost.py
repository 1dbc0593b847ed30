"""What camera probing costs the agent's PC: CPU and wall time per probe, one cycle of 18 cameras.

The cameras are the simulator (real footage, HTTP JPEG snapshots) in a *separate process*, so the
CPU measured here is the probing side only: HTTP, JPEG decode and the image-health analysis. Per
probe it measures a 768x576 snapshot (a typical sub-stream size) and a 1920x1080 one (main stream),
each with and without the image analysis (the baseline in the same run). Then cycles of 18 cameras
with the agent's concurrency (a thread pool of ``edge.agent.MAX_PARALLEL_PROBES``), and one cycle
where a camera accepts the TCP connection and never answers.

RTSP is not measured: the agent has no RTSP probe yet (see the issue's closing note).
The last line: ``cycle18_wall_s=… cpu_share_at_60s=… rss_mb=…``.

    .venv/bin/python benchmarks/camera_cost.py [--cycles 10]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import socket
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devstack.camfaults import decode_jpeg, encode_jpeg
from devstack.camsim import CameraFleet, Footage, find_footage
from edge.agent import MAX_PARALLEL_PROBES
from edge.probes.camera import CameraSnapshotConfig, CameraSnapshotProbe

CAMERAS = 18
INTERVAL_S = 60.0


def _upscaled(footage: Footage, size: tuple[int, int]) -> Footage:
    big = Footage.__new__(Footage)
    big.fps = footage.fps
    big.jpegs = []
    for data in footage.jpegs:
        frame = decode_jpeg(data)
        resized = np.asarray(cv2.resize(frame, size, interpolation=cv2.INTER_CUBIC), np.uint8)
        big.jpegs.append(encode_jpeg(resized, 80))
    return big


def serve(conn: Connection) -> None:
    """The simulator process: 18 sub-stream cameras and one 1080p camera."""
    footage = Footage(find_footage(), max_frames=60)
    fleet = CameraFleet([f"cam-{i:02d}" for i in range(1, CAMERAS + 1)], footage).start()
    main = CameraFleet(["main"], _upscaled(footage, (1920, 1080))).start()
    conn.send(
        {"sub": [c.snapshot_url for c in fleet.cameras.values()], "main": main["main"].snapshot_url}
    )
    conn.recv()  # until the benchmark is done
    fleet.stop()
    main.stop()


def _probe(url: str, refs: Path, health: bool, camera_id: str = "cam") -> CameraSnapshotProbe:
    return CameraSnapshotConfig(
        id=camera_id, url=url, timeout_s=2, reference_dir=refs, image_health=health
    ).build()


def per_probe(probe: CameraSnapshotProbe, runs: int) -> tuple[float, float]:
    """Median wall ms and mean CPU ms of one probe, run one at a time."""
    probe.probe()  # the first one takes the reference
    walls, cpu0 = [], time.process_time()
    for _ in range(runs):
        started = time.perf_counter()
        result = probe.probe()
        walls.append((time.perf_counter() - started) * 1000)
        assert result.status.value == "up", result
    return statistics.median(walls), (time.process_time() - cpu0) * 1000 / runs


def cycle(pool: ThreadPoolExecutor, probes: list[CameraSnapshotProbe]) -> tuple[float, float, int]:
    cpu0, started = time.process_time(), time.perf_counter()
    results = list(pool.map(lambda p: p.probe(), probes))
    up = sum(r.status.value == "up" for r in results)
    return time.perf_counter() - started, time.process_time() - cpu0, up


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cycles", type=int, default=10)
    parser.add_argument("--runs", type=int, default=30, help="probes per single-probe figure")
    args = parser.parse_args()

    context = mp.get_context("spawn")
    ours, theirs = context.Pipe()
    simulator = context.Process(target=serve, args=(theirs,), daemon=True)
    simulator.start()
    urls = ours.recv()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            refs = Path(tmp)
            print(f"simulator: {CAMERAS} cameras 768x576 + one 1920x1080, in its own process")
            print("per probe (one at a time)             wall ms (median)   CPU ms (mean)")
            rows = [
                ("768x576 snapshot, fetch+decode", urls["sub"][0], False),
                ("768x576 snapshot, + image health", urls["sub"][0], True),
                ("1920x1080 snapshot, fetch+decode", urls["main"], False),
                ("1920x1080 snapshot, + image health", urls["main"], True),
            ]
            figures = {}
            for name, url, health in rows:
                wall, cpu = per_probe(_probe(url, refs, health, name[:9]), args.runs)
                figures[name] = cpu
                print(f"  {name:<36} {wall:10.1f} {cpu:15.1f}")
            for size in ("768x576", "1920x1080"):
                base = figures[f"{size} snapshot, fetch+decode"]
                full = figures[f"{size} snapshot, + image health"]
                print(f"  image health costs x{full / base:.2f} the CPU of fetch+decode at {size}")

            probes = [
                _probe(url, refs, True, f"cam-{i:02d}") for i, url in enumerate(urls["sub"], 1)
            ]
            with ThreadPoolExecutor(max_workers=MAX_PARALLEL_PROBES) as pool:
                cycle(pool, probes)  # references taken
                walls, cpus = [], []
                for _ in range(args.cycles):
                    wall, cpu, up = cycle(pool, probes)
                    assert up == CAMERAS, f"only {up} cameras up"
                    walls.append(wall)
                    cpus.append(cpu)
                hung = CameraSnapshotConfig(
                    id="silent", url=f"http://127.0.0.1:{silent.getsockname()[1]}/s", timeout_s=2
                ).build()
                silent_wall, _, _ = cycle(pool, [*probes[:-1], hung])
            wall_s = statistics.median(walls)
            cpu_s = statistics.mean(cpus)
            share = cpu_s / INTERVAL_S
            print(
                f"\ncycle of {CAMERAS} cameras, {MAX_PARALLEL_PROBES} in parallel, "
                f"{args.cycles} cycles: wall {wall_s:.3f} s median (max {max(walls):.3f}), "
                f"CPU {cpu_s:.3f} s per cycle = {share * 100:.2f}% of one core at a 60 s interval"
            )
            print(
                f"one camera accepting TCP and never answering (timeout 2 s): the cycle took "
                f"{silent_wall:.2f} s"
            )
            memory = rss_mb()
            print(f"probing process resident memory: {memory:.1f} MB")
            print(f"cycle18_wall_s={wall_s:.3f} cpu_share_at_60s={share:.4f} rss_mb={memory:.1f}")
    finally:
        silent.close()
        ours.send("stop")
        simulator.join(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
