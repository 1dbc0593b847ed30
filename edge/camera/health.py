"""Image health of one camera frame against the camera's reference frame: pure functions.

Every frame is reduced to a small grayscale picture first (``ANALYSIS_WIDTH`` pixels wide), so the
cost does not depend on the stream's resolution and no full-size image is ever kept. The checks, in
the order a verdict is chosen:

- ``black``: no signal or a lens cap: very low luma and almost no spread between dark and bright,
  or a picture mostly black that no longer shows the scene (light leaking round a cap).
- ``frozen``: the picture stopped: the frame is pixel-identical to the previous one. A live sensor
  always adds noise, so identity (not "little change", which misfires on static scenes) is the test.
- ``glare``: the sun or a lamp in the lens: a saturated spot where the reference was not bright.
- ``covered``: part of the view is occluded: tiles that had texture in the reference are now flat
  *and* no longer look like the reference (a dark tile still correlates with its reference).
- ``noisy``: heavy noise, snow or interference stripes (noise sigma, stripe level).
- ``moved`` (when the feature fit held): the camera was turned: rotation, shift or zoom from
  feature registration (``register``). Before ``blurred``: a zoomed view is softer.
- ``blurred``: defocus, a dirty or fogged lens: fine detail (against coarser detail, so lighting
  does not count) fell well below the reference's. Judged only in a picture lit about like the
  reference: a dim one (dusk, night) loses fine detail to noise and JPEG.
- ``moved`` (otherwise): the same from phase correlation, or a view that no longer correlates
  with the reference at all.
- ``ir_stuck``: the day/night switch is stuck: a monochrome (night mode) picture by day, or a
  dark colour picture at night. Needs to know whether it is day (``daylight``); unknown at dusk.
- ``colour_cast``: the colour balance moved away from the reference's (a failing sensor, white
  balance, an IR-cut filter stuck out by day gives a pink-purple picture).
- ``dark``: low light or night. A warning only: IR night mode and dusk are normal.

The colour checks need the frame's and the reference's ``Colour`` (from ``quality.colour_of``);
without them (a grey source or an old grey reference) they are skipped.

Every verdict carries the measured values that led to it, so thresholds can be tuned from data.
What each value means and the thresholds: ``docs/camera.md``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from enum import StrEnum

import cv2
import numpy as np
import numpy.typing as npt

from edge.camera.quality import Colour, glare_fraction, noise_sigma, stripe_level
from edge.camera.register import Features, features, register

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
    NOISY = "noisy"
    GLARE = "glare"
    COLOUR_CAST = "colour_cast"
    IR_STUCK = "ir_stuck"

    @property
    def is_fault(self) -> bool:
        return self not in {Health.OK, Health.DARK}


@dataclass(frozen=True)
class Thresholds:
    """Default thresholds, chosen on the tuning scenes of ``benchmarks/camera_accuracy.py`` (and
    reported there on scenes they never saw)."""

    black_luma: float = 24.0  # mean luma (0-255) under which a frame may be black
    black_spread: float = 14.0  # ... and the 1st-99th percentile spread under which it is
    black_share: float = 0.6  # or: share of pixels under black_luma, the scene being gone
    frozen_diff: float = 0.02  # mean absolute pixel difference to the previous frame
    cover_fraction: float = 0.2  # share of textured reference tiles that went flat
    cover_texture_ratio: float = 0.4  # a tile is flat when its texture fell under this ratio
    cover_tile_match: float = 0.6  # ... and it correlates with its reference tile under this
    cover_contrast_ratio: float = 0.2  # or its contrast fell under this ratio of the reference's
    moved_shift: float = 0.0284  # shift of the picture's centre, as a share of the frame width
    moved_rotation: float = 1.6948  # degrees the view rolled
    moved_scale: float = 0.076  # relative change of scale (zoom)
    moved_match: float = 0.35  # correlation with the reference under which the view is gone
    blur_ratio: float = 0.8333  # detail energy relative to the reference under which it is blurred
    dim_ratio: float = 0.7  # mean luma relative to the reference under which focus is not judged
    noise_sigma: float = 3.5547  # noise sigma (0-255) over the reference's, over which it is noisy
    stripe_level: float = 3.2289  # stripe level over the reference's by which there are bars
    glare_fraction: float = 0.0223  # share of the picture saturated where it was not bright
    cast_shift: float = 0.1223  # colour balance shift from the reference's
    mono_saturation: float = 0.25  # saturation, relative to the reference's, under which it is grey
    dark_luma: float = 40.0  # mean luma under which the picture is dark
    dark_ratio: float = 0.5  # ... or mean luma relative to the reference under which it is


DEFAULT_THRESHOLDS = Thresholds()
MIN_SATURATION = 0.06  # a reference less colourful than this is a grey scene: no colour checks


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
    rotation_deg: float = 0.0
    scale: float = 1.0
    registered: bool = False
    black_share: float = 0.0
    noise_sigma: float = 0.0
    stripe_level: float = 0.0
    glare_fraction: float = 0.0
    colour_shift: float | None = None  # None: no colour to compare (grey frame or reference)
    saturation_ratio: float | None = None
    daylight: bool | None = None

    def metrics(self) -> dict[str, float | str | bool]:
        """The measured values as report metrics (those not measured are left out)."""
        values: dict[str, float | str | bool] = {}
        for key, value in asdict(self).items():
            if key == "health":
                values["image"] = self.health.value
            elif key in {"registered", "daylight"}:  # flags (contract.models.FLAG_METRICS)
                if value is not None:
                    values[key] = bool(value)
            elif value is not None:
                values[key] = round(float(value), 4)
        return values


@dataclass(frozen=True, eq=False)
class Reference:
    """A reference frame and what is measured on it alone, computed once per reference (not on
    every probe): its mean luma, sharpness, noise sigma and ORB features. ``Reference.of``."""

    gray: Gray
    mean_luma: float
    sharpness: float
    noise_sigma: float
    features: Features

    @classmethod
    def of(cls, gray: Gray) -> Reference:
        """``gray``: the reference's analysis image (from ``to_gray``)."""
        return cls(
            gray=gray,
            mean_luma=float(gray.mean()),
            sharpness=_sharpness(gray),
            noise_sigma=noise_sigma(gray),
            features=features(gray),
        )


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
    """Fine detail against coarser detail: blur lowers it, darkness and lighting do not.

    Bands (differences of Gaussians), not the Laplacian: the finest scale is mostly sensor noise
    and JPEG blocks in a dark or flat scene, and noise would hide the loss of focus. The strongest
    edges (98th percentile) of each band, so a low-texture scene is judged on the few edges it
    has, and the coarse band as the unit, which a lighting change scales like the fine one.
    """
    values = gray.astype(np.float32)
    fine = cv2.GaussianBlur(values, (0, 0), 0.8)
    middle = cv2.GaussianBlur(values, (0, 0), 2.0)
    coarse = cv2.GaussianBlur(values, (0, 0), 5.0)
    fine_edges = float(np.percentile(np.abs(fine - middle), 98))
    coarse_edges = float(np.percentile(np.abs(middle - coarse), 98))
    return fine_edges / (coarse_edges + 1.0)


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
    tile is the reference's times the luma ratio when the picture got darker. Paint or a hand
    close to the lens leaves a faint trace of the scene that still correlates: a tile whose
    contrast (texture per unit of its own light, which a shadow keeps) collapsed is covered too.
    """
    light = min(1.0, max(luma_ratio, 0.1))
    textured = covered = 0
    for tile, ref_tile in zip(_tiles(small), _tiles(reference), strict=True):
        ref_texture = float(ref_tile.std())
        if ref_texture < 4.0:  # sky, walls: nothing there to lose
            continue
        textured += 1
        texture = float(tile.std())
        flat = texture < t.cover_texture_ratio * ref_texture * light
        ref_contrast = ref_texture / (float(ref_tile.mean()) + 10)
        collapsed = texture / (float(tile.mean()) + 10) < t.cover_contrast_ratio * ref_contrast
        if collapsed or (flat and _ncc(tile, ref_tile) < t.cover_tile_match):
            covered += 1
    return covered / textured if textured else 0.0


def _measure(
    frame: Gray,
    ref: Reference,
    previous: Gray | None,
    colour: Colour | None,
    ref_colour: Colour | None,
    daylight: bool | None,
    t: Thresholds,
) -> Verdict:
    """Every value the verdict is chosen from (its health still to be decided)."""
    mean_luma = float(frame.mean())
    low, high = np.percentile(frame, [1, 99])
    reference = ref.gray
    luma_ratio = mean_luma / ref.mean_luma if ref.mean_luma > 1 else 1.0
    frame_diff = None
    if previous is not None:
        frame_diff = float(cv2.absdiff(frame, _match_shape(previous, reference)).mean())
    where = register(frame, reference, ref.features)
    # Judge covers, focus and glare against the reference as the camera now sees it.
    height, width = reference.shape
    seen = np.asarray(
        cv2.warpAffine(reference, where.matrix, (width, height), borderMode=cv2.BORDER_REPLICATE),
        np.uint8,
    )
    small, ref_small = _small(frame), _small(seen)
    # Sharpness is a property of the whole picture: the unwarped reference's (``ref.sharpness``),
    # since resampling it (a fractional shift) would soften it and hide a real loss of focus.
    ref_sharpness = ref.sharpness
    colour_shift = saturation_ratio = None
    if colour is not None and ref_colour is not None and ref_colour.saturation >= MIN_SATURATION:
        colour_shift = colour.shift_from(ref_colour)
        saturation_ratio = colour.saturation / max(ref_colour.saturation, 0.02)
    return Verdict(
        health=Health.OK,
        mean_luma=mean_luma,
        luma_spread=float(high - low),
        luma_ratio=luma_ratio,
        black_share=float((frame < t.black_luma).mean()),
        frame_diff=frame_diff,
        covered_fraction=_covered_fraction(small, ref_small, luma_ratio, t),
        scene_match=_ncc(small, ref_small),
        sharpness_ratio=_sharpness(frame) / ref_sharpness if ref_sharpness > 1e-6 else 1.0,
        rotation_deg=where.rotation_deg,
        scale=where.scale,
        shift_fraction=where.shift_fraction,
        registered=where.registered,
        noise_sigma=_excess_noise(frame, ref.noise_sigma, luma_ratio),
        stripe_level=stripe_level(frame) - stripe_level(seen) * min(luma_ratio, 1.5),
        glare_fraction=glare_fraction(frame, seen),
        colour_shift=colour_shift,
        saturation_ratio=saturation_ratio,
        daylight=daylight,
    )


def _excess_noise(frame: Gray, ref_noise: float, luma_ratio: float) -> float:
    """The noise sigma over the reference's: the estimate also sees fine texture, which the
    reference has too (scaled by the light)."""
    seen, expected = noise_sigma(frame), ref_noise * min(luma_ratio, 1.5)
    return float(np.sqrt(max(0.0, seen * seen - expected * expected)))


def _turned(m: Verdict, t: Thresholds) -> bool:
    return (
        m.shift_fraction >= t.moved_shift
        or abs(m.rotation_deg) >= t.moved_rotation
        or abs(m.scale - 1) >= t.moved_scale
    )


def _ir_stuck(m: Verdict, t: Thresholds) -> bool:
    """Night mode by day (grey picture), or day mode at night (a dark colour picture)."""
    if m.daylight is None or m.saturation_ratio is None:
        return False
    grey = m.saturation_ratio < t.mono_saturation
    dark = m.mean_luma < t.dark_luma or m.luma_ratio < t.dark_ratio
    return grey if m.daylight else (not grey and dark)


def _decide(m: Verdict, t: Thresholds) -> Health:
    if (m.mean_luma < t.black_luma and m.luma_spread < t.black_spread) or (
        m.black_share >= t.black_share and m.scene_match < t.moved_match
    ):
        return Health.BLACK
    if m.frame_diff is not None and m.frame_diff < t.frozen_diff:
        return Health.FROZEN
    if m.glare_fraction >= t.glare_fraction:
        return Health.GLARE
    if m.covered_fraction >= t.cover_fraction:  # before noisy: a cover's edge is no interference
        return Health.COVERED
    if m.noise_sigma >= t.noise_sigma or m.stripe_level >= t.stripe_level:
        return Health.NOISY
    if m.registered and _turned(m, t):  # a fit that held: a zoomed view is softer, not blurred
        return Health.MOVED
    # Focus is judged in a picture lit like the reference only: JPEG and sensor noise wipe fine
    # detail out of a dim one (dusk, a colour picture at night), which then reads soft.
    if m.luma_ratio >= t.dim_ratio and m.sharpness_ratio < t.blur_ratio:
        return Health.BLURRED  # before a failed fit: a blurred view loses its features
    if _turned(m, t) or m.scene_match < t.moved_match:
        return Health.MOVED
    if _ir_stuck(m, t):
        return Health.IR_STUCK
    grey = m.saturation_ratio is not None and m.saturation_ratio < t.mono_saturation
    if m.colour_shift is not None and not grey and m.colour_shift >= t.cast_shift:
        return Health.COLOUR_CAST  # a grey picture (IR night mode) has no balance to judge
    if m.mean_luma < t.dark_luma or m.luma_ratio < t.dark_ratio:
        return Health.DARK
    return Health.OK


def analyze(
    frame: Gray,
    reference: Gray | Reference,
    previous: Gray | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    colour: Colour | None = None,
    ref_colour: Colour | None = None,
    daylight: bool | None = None,
) -> Verdict:
    """The health of ``frame`` (from ``to_gray``) against ``reference`` and the previous frame.

    ``reference``: its analysis image, or a ``Reference`` kept across frames (what is measured
    on the reference alone is then not measured again on every frame);
    ``colour``/``ref_colour``: the frame's and the reference's colour (``quality.colour_of``);
    ``daylight``: True by day, False at night, None when unknown (dusk, dawn, no clock).
    """
    ref = reference if isinstance(reference, Reference) else Reference.of(reference)
    frame = _match_shape(frame, ref.gray)
    measured = _measure(frame, ref, previous, colour, ref_colour, daylight, thresholds)
    return replace(measured, health=_decide(measured, thresholds))
