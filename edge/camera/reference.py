"""The per-camera reference frame, stored on the agent when the camera is commissioned.

Only the small grayscale analysis image is kept (``ANALYSIS_WIDTH`` pixels wide, PNG): enough to
judge the view, too small to serve as video archive of the people in it. One file per camera, named
from a hash of the device id so any id (Vietnamese, spaces, slashes) is a safe file name.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from edge.camera.health import Gray, to_gray


def reference_path(directory: Path, device_id: str) -> Path:
    digest = hashlib.sha256(device_id.encode("utf-8")).hexdigest()[:16]
    return directory / f"camera-{digest}.png"


def save_reference(path: Path, image: npt.NDArray[np.uint8]) -> Gray:
    """Store ``image`` (a decoded frame of any size) as the reference; returns what was kept."""
    gray = to_gray(image)
    ok, buffer = cv2.imencode(".png", gray)
    if not ok:  # pragma: no cover - PNG encodes any uint8 image
        raise OSError(f"cannot encode the reference for {path.name}")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(buffer.tobytes())
    os.replace(temporary, path)  # a crash never leaves half a reference
    return gray


def load_reference(path: Path) -> Gray | None:
    """The stored reference, or None when there is none (or it is unreadable)."""
    if not path.exists():
        return None
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    return None if image is None else to_gray(np.asarray(image, np.uint8))
