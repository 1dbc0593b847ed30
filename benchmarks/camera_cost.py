"""What camera probing costs the agent's PC: CPU and wall time per probe, one cycle of 18 cameras.

The cameras are the simulator (real footage; HTTP JPEG snapshots and RTSP at 10 fps in H.264 by
default, as village cameras send, or ``--codec h265|mjpeg``) in a *separate process* (with the
encoders it starts), so the CPU measured is the probing side only: HTTP or RTSP, decoding, the
image-health analysis, and the RTSP capture workers (counted through the fork server that reaps
them). Per probe: 768x576 (a sub-stream) and 1920x1080 (a main stream), snapshots with and without
the image analysis (the baseline in the same run), RTSP with the default 2 s sample. Then cycles of
18 cameras with the agent's concurrency (``edge.agent.MAX_PARALLEL_PROBES`` threads), and one cycle
where a camera accepts the TCP connection and never answers.

Caveat: the simulator's encoders share the machine's 2 cores with the probes (wall times are
pessimistic; CPU is counted for the probing side only), and its H.264 uses a keyframe every second
where cameras often use 2–4 s (a longer GOP delays the first frame, not the decode cost). CPU
times rise with the machine's load (a shared VM): compare figures of one run, or of runs under
the same load.

This script's top level imports nothing heavy, on purpose: every RTSP capture worker (forked from
``multiprocessing``'s fork server) re-runs the top level of a main *script* before it starts, and
with this benchmark's imports (the simulator, the agent) that cost 100 ms of CPU per probe, more
than the capture itself. The agent runs as ``python -m edge``, whose workers skip that (a package's
``__main__`` is never re-run), so the benchmark keeps its imports inside the functions to measure
what the agent pays.

The RTSP sub-stream cycle is also run without the image analysis, the baseline of the same run.
The last line: ``cycle18_wall_s=… cpu_share_at_60s=… rss_mb=…`` (RTSP sub-stream cycle with image
health; memory as PSS summed over the probing processes).

    .venv/bin/python benchmarks/camera_cost.py [--cycles 5] [--codec h264|h265|mjpeg]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Only the standard library at the top level: see the module's docstring (capture workers).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from devstack.camsim import Footage
    from edge.probes.base import Probe

CAMERAS = 18
INTERVAL_S = 60.0
TIMEOUT_S = 5.0


def _upscaled(footage: Footage, size: tuple[int, int]) -> Footage:
    import cv2  # noqa: PLC0415 - see the module's docstring
    import numpy as np  # noqa: PLC0415

    from devstack.camfaults import decode_jpeg, encode_jpeg  # noqa: PLC0415
    from devstack.camsim import Footage  # noqa: PLC0415

    big = Footage.__new__(Footage)
    big.fps = footage.fps
    big.jpegs = []
    for data in footage.jpegs:
        frame = decode_jpeg(data)
        resized = np.asarray(cv2.resize(frame, size, interpolation=cv2.INTER_CUBIC), np.uint8)
        big.jpegs.append(encode_jpeg(resized, 80))
    return big


def serve(conn: Connection, codec: str) -> None:
    """The simulator process: 18 sub-stream cameras and one 1080p camera, HTTP and RTSP."""
    from devstack.camsim import CameraFleet, Footage, find_footage  # noqa: PLC0415

    footage = Footage(find_footage(), max_frames=60)
    ids = [f"cam-{i:02d}" for i in range(1, CAMERAS + 1)]
    fleet = CameraFleet(ids, footage, rtsp=True, rtsp_codec=codec).start()
    big = _upscaled(footage, (1920, 1080))
    main = CameraFleet(["main"], big, rtsp=True, rtsp_codec=codec).start()
    cameras = list(fleet.cameras.values())
    conn.send(
        {
            "http": [c.snapshot_url for c in cameras],
            "rtsp": [c.rtsp_url for c in cameras],
            "http_main": main["main"].snapshot_url,
            "rtsp_main": main["main"].rtsp_url,
        }
    )
    conn.recv()  # until the benchmark is done
    fleet.stop()
    main.stop()


def probing_cpu_s(simulator_pid: int) -> float:
    """CPU seconds of this process and its children (the fork server and the workers it reaped),
    leaving out the simulator."""
    import psutil  # noqa: PLC0415 - see the module's docstring

    me = psutil.Process()
    total = time.process_time()  # finer than psutil's clock ticks
    for child in me.children():
        if child.pid == simulator_pid:
            continue
        with_children = child.cpu_times()
        total += with_children.user + with_children.system
        total += with_children.children_user + with_children.children_system
    return total


def probing_memory_mb(simulator_pid: int) -> tuple[float, float]:
    """Resident and proportional (PSS: shared pages split between sharers) memory, summed."""
    import psutil  # noqa: PLC0415 - see the module's docstring

    me = psutil.Process()
    processes = [me, *(c for c in me.children() if c.pid != simulator_pid)]
    infos = [p.memory_full_info() for p in processes]
    mb = 1024 * 1024
    return sum(i.rss for i in infos) / mb, sum(getattr(i, "pss", i.rss) for i in infos) / mb


def _snapshot(url: str, refs: Path, health: bool, camera_id: str) -> Probe:
    from edge.probes.camera import CameraSnapshotConfig  # noqa: PLC0415 - see the docstring

    config = CameraSnapshotConfig(
        id=camera_id, url=url, timeout_s=TIMEOUT_S, reference_dir=refs, image_health=health
    )
    return config.build()


def _rtsp(url: str, refs: Path, camera_id: str, health: bool = True) -> Probe:
    from edge.probes.rtsp import CameraRtspConfig  # noqa: PLC0415 - see the module's docstring

    config = CameraRtspConfig(
        id=camera_id, url=url, timeout_s=TIMEOUT_S, reference_dir=refs, image_health=health
    )
    return config.build()


def per_probe(probe: Probe, runs: int, cpu: Callable[[], float]) -> tuple[float, float]:
    """Median wall ms and mean CPU ms of one probe, run one at a time."""
    probe.probe()  # the first one takes the reference (and starts the fork server)
    walls, cpu0 = [], cpu()
    for _ in range(runs):
        started = time.perf_counter()
        result = probe.probe()
        walls.append((time.perf_counter() - started) * 1000)
        assert result.status.value == "up", result
    return statistics.median(walls), (cpu() - cpu0) * 1000 / runs


def cycles(
    pool: ThreadPoolExecutor, probes: Sequence[Probe], count: int, cpu: Callable[[], float]
) -> tuple[list[float], list[float]]:
    list(pool.map(lambda p: p.probe(), probes))  # references taken
    walls, cpus = [], []
    for _ in range(count):
        cpu0, started = cpu(), time.perf_counter()
        results = list(pool.map(lambda p: p.probe(), probes))
        walls.append(time.perf_counter() - started)
        cpus.append(cpu() - cpu0)
        down = [r for r in results if r.status.value != "up"]
        assert not down, down[0]
    return walls, cpus


def single_probes(urls: dict[str, Any], refs: Path, runs: int, cpu: Callable[[], float]) -> None:
    """The per-probe table: each probe alone, snapshots with and without image health."""
    print("per probe (one at a time)                 wall ms (median)   CPU ms (mean)")
    rows: list[tuple[str, Probe]] = [
        ("768x576 snapshot, fetch+decode", _snapshot(urls["http"][0], refs, False, "a")),
        ("768x576 snapshot, + image health", _snapshot(urls["http"][0], refs, True, "b")),
        (
            "1920x1080 snapshot, fetch+decode",
            _snapshot(urls["http_main"], refs, False, "c"),
        ),
        (
            "1920x1080 snapshot, + image health",
            _snapshot(urls["http_main"], refs, True, "d"),
        ),
        ("768x576 RTSP, 2 s sample + health", _rtsp(urls["rtsp"][0], refs, "e")),
        ("1920x1080 RTSP, 2 s sample + health", _rtsp(urls["rtsp_main"], refs, "f")),
    ]
    figures = {}
    for name, probe in rows:
        wall, cpu_ms = per_probe(probe, runs, cpu)
        figures[name] = cpu_ms
        print(f"  {name:<40} {wall:10.1f} {cpu_ms:15.1f}")
    for size in ("768x576", "1920x1080"):
        base = figures[f"{size} snapshot, fetch+decode"]
        full = figures[f"{size} snapshot, + image health"]
        ratio = f"x{full / base:.2f}" if base > 0 else "(baseline under the clock's resolution)"
        print(f"  image health costs {ratio} the CPU of fetch+decode at {size}")


def main() -> int:
    from edge.agent import MAX_PARALLEL_PROBES  # noqa: PLC0415 - see the module's docstring
    from edge.probes.camera import CameraSnapshotConfig  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--runs", type=int, default=20, help="probes per single-probe figure")
    parser.add_argument("--codec", choices=["h264", "h265", "mjpeg"], default="h264")
    args = parser.parse_args()

    context = mp.get_context("spawn")
    ours, theirs = context.Pipe()
    simulator = context.Process(target=serve, args=(theirs, args.codec), daemon=True)
    simulator.start()
    urls = ours.recv()
    sim_pid = simulator.pid or -1

    def cpu() -> float:
        return probing_cpu_s(sim_pid)

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            refs = Path(tmp)
            print(
                f"simulator: {CAMERAS} cameras 768x576 + one 1920x1080, RTSP {args.codec}, "
                "in its own process"
            )
            single_probes(urls, refs, args.runs, cpu)

            with ThreadPoolExecutor(max_workers=MAX_PARALLEL_PROBES) as pool:
                fleets = {
                    "snapshot": [
                        _snapshot(u, refs, True, f"h{i}") for i, u in enumerate(urls["http"])
                    ],
                    "rtsp sub-stream, no image health (baseline)": [
                        _rtsp(u, refs, f"n{i}", health=False) for i, u in enumerate(urls["rtsp"])
                    ],
                    "rtsp sub-stream": [
                        _rtsp(u, refs, f"r{i}") for i, u in enumerate(urls["rtsp"])
                    ],
                }
                results = {}
                for name, probes in fleets.items():
                    walls, cpus = cycles(pool, probes, args.cycles, cpu)
                    results[name] = (statistics.median(walls), statistics.mean(cpus))
                    print(
                        f"\ncycle of {CAMERAS} {name} cameras, {MAX_PARALLEL_PROBES} in parallel, "
                        f"{args.cycles} cycles: wall {results[name][0]:.3f} s median "
                        f"(max {max(walls):.3f}), CPU {results[name][1]:.3f} s per cycle = "
                        f"{results[name][1] / INTERVAL_S * 100:.2f}% of one core at a 60 s interval"
                    )
                base = results["rtsp sub-stream, no image health (baseline)"][1]
                full = results["rtsp sub-stream"][1]
                print(
                    f"image health costs x{full / base:.2f} the CPU of the RTSP cycle without it "
                    f"(+{(full - base) / CAMERAS * 1000:.1f} ms per camera)"
                )
                hung = CameraSnapshotConfig(
                    id="silent", url=f"http://127.0.0.1:{silent.getsockname()[1]}/s", timeout_s=2
                ).build()
                probes = [*fleets["snapshot"][:-1], hung]
                started = time.perf_counter()
                list(pool.map(lambda p: p.probe(), probes))
                silent_wall = time.perf_counter() - started
            print(
                "one camera accepting TCP and never answering (timeout 2 s): the snapshot cycle "
                f"took {silent_wall:.2f} s"
            )
            rss, memory = probing_memory_mb(sim_pid)
            print(
                f"probing processes (agent side + RTSP fork server): RSS {rss:.1f} MB summed, "
                f"PSS {memory:.1f} MB (the fork server shares OpenCV's pages with its workers)"
            )
            wall_s, cpu_s = results["rtsp sub-stream"]
            print(
                f"cycle18_wall_s={wall_s:.3f} cpu_share_at_60s={cpu_s / INTERVAL_S:.4f} "
                f"rss_mb={memory:.1f}"
            )
    finally:
        silent.close()
        ours.send("stop")
        simulator.join(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
