"""Reading an RTSP stream with OpenCV's FFmpeg backend, in a worker process with a hard limit.

Measured here: without settings an OpenCV open against a silent camera blocks 30 s and a stalled
stream 90 s. ``CAP_PROP_OPEN_TIMEOUT_MSEC`` and ``CAP_PROP_READ_TIMEOUT_MSEC`` bind, and small
``analyzeduration``/``probesize`` cut the open time; still, FFmpeg runs native code that Python
cannot interrupt, so the capture runs in a worker process that the probe kills when the hard
limit passes. The worker's stderr goes to /dev/null: FFmpeg prints URLs in its errors, and the
URL carries the camera's credentials.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from edge.camera.health import Gray

CAPTURE_OPTIONS = "rtsp_transport;tcp|analyzeduration;200000|probesize;200000|fflags;nobuffer"


@dataclass(frozen=True)
class Sample:
    """What a short look at the stream showed. No URL, no credentials."""

    opened: bool
    frames: int
    stalls: int  # reads that failed or waited over three frame intervals (and over 0.5 s)
    open_ms: float
    first_frame_ms: float | None
    elapsed_s: float
    width: int = 0
    height: int = 0
    last_gray: Gray | None = None  # the last frame, reduced for the image-health check
    worker_died: bool = False

    @property
    def fps(self) -> float:
        return (self.frames - 1) / self.elapsed_s if self.frames > 1 and self.elapsed_s > 0 else 0.0


def _capture(conn: Connection, url: str, timeout_ms: int, sample_s: float) -> None:
    """Runs in the worker process."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = CAPTURE_OPTIONS
    os.environ["OPENCV_LOG_LEVEL"] = "SILENT"
    import cv2  # noqa: PLC0415 - imported in the worker, after the environment is set
    import numpy as np  # noqa: PLC0415

    from edge.camera.health import to_gray  # noqa: PLC0415

    started = time.perf_counter()
    params = [
        cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
        timeout_ms,
        cv2.CAP_PROP_READ_TIMEOUT_MSEC,
        timeout_ms,
    ]
    capture = cv2.VideoCapture(url, cv2.CAP_FFMPEG, params)
    open_ms = (time.perf_counter() - started) * 1000
    if not capture.isOpened():
        conn.send(Sample(False, 0, 0, open_ms, None, 0.0))
        return
    frames = stalls = 0
    first_ms: float | None = None
    first_at = last_at = time.perf_counter()
    deadline = time.perf_counter() + sample_s + timeout_ms / 1000
    fallback = None  # the first frame, in case the stream stalls before the end
    grabbed = False
    while time.perf_counter() < deadline:
        before = time.perf_counter()
        grabbed = capture.grab()  # decodes; only the frame we judge is converted (retrieve)
        now = time.perf_counter()
        if not grabbed:
            stalls += 1
            break  # a stalled capture never recovers: the next probe reopens
        frames += 1
        if first_ms is None:
            first_ms = (now - started) * 1000
            first_at = now
            deadline = now + sample_s
            fallback = capture.retrieve()[1]
        elif frames > 2 and now - before > max(3 * (last_at - first_at) / (frames - 2), 0.5):
            stalls += 1  # FFmpeg delivers the first frames in a burst: never count under 0.5 s
        last_at = now
    last = capture.retrieve()[1] if grabbed else fallback
    capture.release()
    gray = None
    height = width = 0
    if last is not None:
        height, width = last.shape[:2]
        gray = to_gray(np.asarray(last, np.uint8))
    elapsed = last_at - first_at
    conn.send(Sample(True, frames, stalls, open_ms, first_ms, elapsed, width, height, gray))


_CONTEXT: mp.context.BaseContext | None = None


def _context() -> mp.context.BaseContext:
    """A fork server started once: workers fork from a small clean process, not the agent."""
    global _CONTEXT  # noqa: PLW0603 - one fork server per process
    if _CONTEXT is None:
        context = mp.get_context("forkserver")
        context.set_forkserver_preload(["cv2", "numpy", "edge.camera.health", __name__])
        _CONTEXT = context
    return _CONTEXT


def sample_stream(url: str, timeout_s: float, sample_s: float, limit_s: float) -> Sample:
    """Open ``url``, read frames for ``sample_s`` seconds, killed after ``limit_s`` seconds."""
    context = _context()
    ours, theirs = context.Pipe(duplex=False)
    worker = context.Process(  # type: ignore[attr-defined]
        target=_capture, args=(theirs, url, int(timeout_s * 1000), sample_s), daemon=True
    )
    started = time.perf_counter()
    worker.start()
    theirs.close()
    try:
        if ours.poll(max(limit_s, 0.1)):
            try:
                sample: Sample = ours.recv()
                return sample
            except EOFError:
                pass
        elapsed = time.perf_counter() - started
        return Sample(False, 0, 0, elapsed * 1000, None, 0.0, worker_died=True)
    finally:
        ours.close()
        if worker.is_alive():
            worker.kill()
        worker.join(timeout=5)
