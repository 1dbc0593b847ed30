"""Image health of one camera frame against the camera's reference frame: pure functions.

Every frame is reduced to a small grayscale picture first (``ANALYSIS_WIDTH`` pixels wide), so the
cost does not depend on the stream's resolution and no full-size image is ever kept. The checks, in
the order a verdict is chosen:

- ``black``: no signal or a lens cap: very low luma and almost no spread between dark and bright.
- ``frozen``: the picture stopped: the frame is pixel-identical to the previous one. A live sensor
  always adds noise, so identity (not "little change", which misfires on static scenes) is the test.
- ``covered``: part of the view is occluded: tiles that had texture in the reference are now flat
  *and* no longer look like the reference (a dark tile still correlates with its reference).
- ``blurred``: defocus, a dirty or fogged lens: edge energy (normalised by contrast, so darkness and
  lighting do not count) fell well below the reference's.
- ``moved``: the camera was turned: a global shift measured by phase correlation, or a view that no
  longer correlates with the reference at all.
- ``dark``: low light or night. A warning only: IR night mode is normal.

Every verdict carries the measured values that led to it, so thresholds can be tuned from data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum

import cv2
import numpy as np
import numpy.typing as npt

ANALYSIS_WIDTH = 320
TILE_GRID = (8, 6)  # columns, rows

Gray = npt.NDArray[np.uint8]


class Health(StrEnum):
    OK = "ok"
    DARK = "dark"
    BLACK = "black"
    FROZEN = "frozen"
    COVERED = "covered"
    MOVED = "moved"
    BLURRED = "blurred"

    @property
    def is_fault(self) -> bool:
        return self not in {Health.OK, Health.DARK}


@dataclass(frozen=True)
class Thresholds:
    """Default thresholds, chosen on real footage by ``benchmarks/camera_accuracy.py``."""

    black_luma: float = 24.0  # mean luma (0-255) under which a frame may be black
    black_spread: float = 14.0  # ... and the 1st-99th percentile spread under which it is
    frozen_diff: float = 0.02  # mean absolute pixel difference to the previous frame
    cover_fraction: float = 0.2  # share of textured reference tiles that went flat
    cover_texture_ratio: float = 0.4  # a tile is flat when its texture fell under this ratio
    cover_tile_match: float = 0.6  # ... and it correlates with its reference tile under this
    moved_shift: float = 0.04  # global shift, as a share of the frame width
    moved_match: float = 0.35  # correlation with the reference under which the view is gone
    blur_ratio: float = 0.6  # edge energy relative to the reference under which it is blurred
    dark_luma: float = 40.0  # mean luma under which the picture is dark
    dark_ratio: float = 0.5  # ... or mean luma relative to the reference under which it is


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class Verdict:
    """One frame's health and the values measured to decide it (all plain numbers)."""

    health: Health
    mean_luma: float
    luma_spread: float
    luma_ratio: float
    frame_diff: float | None  # to the previous frame; None for the first frame
    covered_fraction: float
    shift_fraction: float
    scene_match: float
    sharpness_ratio: float

    def metrics(self) -> dict[str, float | str]:
        """The measured values as report metrics (``frame_diff`` only when it was measured)."""
        values: dict[str, float | str] = {}
        for key, value in asdict(self).items():
            if key == "health":
                values["image"] = self.health.value
            elif value is not None:
                values[key] = round(float(value), 4)
        return values


def to_gray(image: npt.NDArray[np.uint8]) -> Gray:
    """A decoded frame (BGR or gray, any size) as an ``ANALYSIS_WIDTH``-wide grayscale image."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    height, width = gray.shape[:2]
    if width == ANALYSIS_WIDTH:
        return np.ascontiguousarray(gray)
    size = (ANALYSIS_WIDTH, max(1, round(height * ANALYSIS_WIDTH / width)))
    return np.asarray(cv2.resize(gray, size, interpolation=cv2.INTER_AREA), np.uint8)


def _match_shape(gray: Gray, reference: Gray) -> Gray:
    if gray.shape == reference.shape:
        return gray
    size = (reference.shape[1], reference.shape[0])
    return np.asarray(cv2.resize(gray, size, interpolation=cv2.INTER_AREA), np.uint8)


def _small(gray: Gray) -> npt.NDArray[np.float32]:
    """Quarter size, slightly smoothed: structure without sensor noise or JPEG blocks."""
    small = cv2.resize(gray, (gray.shape[1] // 4, gray.shape[0] // 4), interpolation=cv2.INTER_AREA)
    return np.asarray(cv2.GaussianBlur(small.astype(np.float32), (3, 3), 0), np.float32)


def _sharpness(gray: Gray) -> float:
    """Edge energy per unit of contrast: blur lowers it, darkness and lighting do not."""
    values = gray.astype(np.float32)
    laplacian = cv2.Laplacian(values, cv2.CV_32F, ksize=3)
    return float(np.abs(laplacian).mean() / (values.std() + 1.0))


def _ncc(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float:
    a0 = a - a.mean()
    b0 = b - b.mean()
    denominator = float(np.sqrt((a0 * a0).sum() * (b0 * b0).sum()))
    return float((a0 * b0).sum() / denominator) if denominator > 1e-6 else 0.0


def _tiles(image: npt.NDArray[np.float32]) -> list[npt.NDArray[np.float32]]:
    columns, rows = TILE_GRID
    height, width = image.shape
    return [
        image[
            r * height // rows : (r + 1) * height // rows,
            c * width // columns : (c + 1) * width // columns,
        ]
        for r in range(rows)
        for c in range(columns)
    ]


def _covered_fraction(
    small: npt.NDArray[np.float32],
    reference: npt.NDArray[np.float32],
    luma_ratio: float,
    t: Thresholds,
) -> float:
    """Share of the reference's textured tiles that went flat and stopped looking like it.

    Darkness scales texture with the light (night is not a cover), so the expected texture of a
    tile is the reference's times the luma ratio when the picture got darker.
    """
    light = min(1.0, max(luma_ratio, 0.1))
    textured = covered = 0
    for tile, ref_tile in zip(_tiles(small), _tiles(reference), strict=True):
        ref_texture = float(ref_tile.std())
        if ref_texture < 4.0:  # sky, walls: nothing there to lose
            continue
        textured += 1
        flat = float(tile.std()) < t.cover_texture_ratio * ref_texture * light
        if flat and _ncc(tile, ref_tile) < t.cover_tile_match:
            covered += 1
    return covered / textured if textured else 0.0


def _shift(frame: Gray, reference: Gray) -> tuple[float, float]:
    """The global translation between the views as a share of the frame width.

    Phase correlation at the full analysis size: at a quarter of it, shifts came out wrong by half
    on the sample footage; here they match the applied shift within 0.5% of the width.
    """
    a, b = reference.astype(np.float32), frame.astype(np.float32)
    window = cv2.createHanningWindow((a.shape[1], a.shape[0]), cv2.CV_32F)
    (dx, dy), _response = cv2.phaseCorrelate(a, b, window)
    return float(dx), float(dy)


def analyze(
    frame: Gray,
    reference: Gray,
    previous: Gray | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> Verdict:
    """The health of ``frame`` (from ``to_gray``) against ``reference`` and the previous frame."""
    t = thresholds
    frame = _match_shape(frame, reference)
    mean_luma = float(frame.mean())
    low, high = np.percentile(frame, [1, 99])
    spread = float(high - low)
    ref_luma = float(reference.mean())
    luma_ratio = mean_luma / ref_luma if ref_luma > 1 else 1.0
    frame_diff = None
    if previous is not None:
        previous = _match_shape(previous, reference)
        frame_diff = float(cv2.absdiff(frame, previous).mean())
    small, ref_small = _small(frame), _small(reference)
    dx, dy = _shift(frame, reference)
    shift = float(np.hypot(dx, dy)) / frame.shape[1]
    if shift >= t.moved_shift:  # judge covers against the reference as the camera now sees it
        scale = small.shape[1] / frame.shape[1]
        height, width = ref_small.shape
        turn = np.array([[1, 0, dx * scale], [0, 1, dy * scale]], dtype=np.float32)
        ref_small = np.asarray(
            cv2.warpAffine(ref_small, turn, (width, height), borderMode=cv2.BORDER_REPLICATE),
            np.float32,
        )
    covered = _covered_fraction(small, ref_small, luma_ratio, t)
    match = _ncc(small, ref_small)
    ref_sharpness = _sharpness(reference)
    sharpness_ratio = _sharpness(frame) / ref_sharpness if ref_sharpness > 1e-6 else 1.0

    if mean_luma < t.black_luma and spread < t.black_spread:
        health = Health.BLACK
    elif frame_diff is not None and frame_diff < t.frozen_diff:
        health = Health.FROZEN
    elif covered >= t.cover_fraction:
        health = Health.COVERED
    elif sharpness_ratio < t.blur_ratio:  # before moved: a turned camera keeps its sharpness
        health = Health.BLURRED
    elif shift >= t.moved_shift or match < t.moved_match:
        health = Health.MOVED
    elif mean_luma < t.dark_luma or luma_ratio < t.dark_ratio:
        health = Health.DARK
    else:
        health = Health.OK
    return Verdict(
        health=health,
        mean_luma=mean_luma,
        luma_spread=spread,
        luma_ratio=luma_ratio,
        frame_diff=frame_diff,
        covered_fraction=covered,
        shift_fraction=shift,
        scene_match=match,
        sharpness_ratio=sharpness_ratio,
    )
