"""Frames from files for ``python -m edge.camera analyze``: images, or samples of one video."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from edge.camera.health import DEFAULT_THRESHOLDS, Thresholds, to_gray
from edge.camera.monitor import ImageMonitor


class InputError(Exception):
    """A file that is neither a readable image nor a readable video."""


@dataclass(frozen=True)
class SourcedFrame:
    source: str
    image: npt.NDArray[np.uint8]
    raw: bytes | None


def read_image(path: Path) -> tuple[npt.NDArray[np.uint8], bytes] | None:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
    image = cv2.imdecode(np.frombuffer(raw, dtype=np.uint8), cv2.IMREAD_COLOR)
    return None if image is None else (np.asarray(image, np.uint8), raw)


def video_frames(path: Path, every_s: float, max_frames: int) -> Iterator[SourcedFrame]:
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise InputError(f"{path}: neither an image nor a video OpenCV can read")
        fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
        step = max(1, round(every_s * fps))
        index = produced = 0
        while produced < max_frames:
            ok, frame = capture.read()
            if not ok:
                break
            if index % step == 0:
                produced += 1
                yield SourcedFrame(
                    f"{path.name}@{index / fps:.2f}s", np.asarray(frame, np.uint8), None
                )
            index += 1
        if produced == 0:
            raise InputError(f"{path}: no frame could be decoded")
    finally:
        capture.release()


def frames_from(paths: list[Path], every_s: float, max_frames: int) -> Iterator[SourcedFrame]:
    for path in paths:
        image = read_image(path)
        if image is not None:
            yield SourcedFrame(path.name, image[0], image[1])
        elif len(paths) == 1:
            yield from video_frames(path, every_s, max_frames)
        else:
            raise InputError(f"{path}: not an image (give one video file on its own)")


def analyze_files(
    reference: Path,
    paths: list[Path],
    confirm_after: int = 3,
    every_s: float = 1.0,
    max_frames: int = 300,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> dict[str, object]:
    """The JSON-ready answer: the confirmed status over the frames, and every frame's values.

    With fewer frames than ``confirm_after``, a fault is confirmed when all the frames show one.
    """
    loaded = read_image(reference)
    if loaded is None:
        raise InputError(f"{reference}: the reference is not an image")
    frames = list(frames_from(paths, every_s, max_frames))
    monitor = ImageMonitor(
        to_gray(loaded[0]), thresholds, confirm_after=max(1, min(confirm_after, len(frames)))
    )
    rows: list[dict[str, object]] = []
    status = "ok"
    for index, frame in enumerate(frames):
        observation = monitor.observe(frame.image, frame.raw, at=float(index))
        status = observation.confirmed.health.value
        rows.append({"source": frame.source, **observation.verdict.metrics()})
    counts: dict[str, int] = {}
    for row in rows:
        counts[str(row["image"])] = counts.get(str(row["image"]), 0) + 1
    return {
        "status": status,
        "frames_analyzed": len(rows),
        "confirm_after": monitor.confirmation.confirm_after,
        "counts": counts,
        "frames": rows,
    }
