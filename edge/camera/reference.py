"""The per-camera reference frame, stored on the agent when the camera is commissioned.

Only the small analysis image is kept (``ANALYSIS_WIDTH`` pixels wide, PNG, in colour when the
camera sends colour, for the colour-cast and IR-cut checks): enough to judge the view, too small to
serve as video archive of the people in it. A grey reference stored by an older agent still works;
the colour checks are then skipped until the camera is re-baselined. One file per camera, named
from a hash of the device id so any id (Vietnamese, spaces, slashes) is a safe file name.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from edge.camera.health import ANALYSIS_WIDTH, Gray, to_gray
from edge.camera.quality import Colour, colour_of


def reference_path(directory: Path, device_id: str) -> Path:
    digest = hashlib.sha256(device_id.encode("utf-8")).hexdigest()[:16]
    return directory / f"camera-{digest}.png"


def save_reference(path: Path, image: npt.NDArray[np.uint8]) -> Gray:
    """Store ``image`` (a decoded frame of any size) as the reference; returns its gray analysis
    image (what ``load_reference`` gives back)."""
    small = image
    if image.shape[1] != ANALYSIS_WIDTH:
        size = (ANALYSIS_WIDTH, max(1, round(image.shape[0] * ANALYSIS_WIDTH / image.shape[1])))
        small = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.uint8)
    gray = to_gray(small)
    ok, buffer = cv2.imencode(".png", small)
    if not ok:  # pragma: no cover - PNG encodes any uint8 image
        raise OSError(f"cannot encode the reference for {path.name}")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(buffer.tobytes())
    os.replace(temporary, path)  # a crash never leaves half a reference
    return gray


def load_stored(path: Path) -> tuple[Gray, Colour | None] | None:
    """The stored reference's gray analysis image and its colour (None for a grey reference),
    from one read of the file; None when there is none (or it is unreadable)."""
    image = _read(path)
    return None if image is None else (to_gray(image), colour_of(image))


def load_reference(path: Path) -> Gray | None:
    """The stored reference, or None when there is none (or it is unreadable)."""
    stored = load_stored(path)
    return None if stored is None else stored[0]


def load_reference_colour(path: Path) -> Colour | None:
    """The stored reference's colour; None for a grey reference (or none at all)."""
    stored = load_stored(path)
    return None if stored is None else stored[1]


def _read(path: Path) -> npt.NDArray[np.uint8] | None:
    if not path.exists():
        return None
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None or image.dtype != np.uint8 or image.ndim not in {2, 3}:
        return None
    if image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return np.asarray(image, np.uint8)
