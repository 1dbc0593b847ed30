"""Realistic camera faults applied to real footage, for the simulator, the tests and the benchmark.

A simulated camera's *view* is a 640x480 window cut from the 768x576 sample footage, so turning the
camera (``moved``) reveals real scenery at the edge instead of a filled border. Every frame gets a
little sensor noise and goes through JPEG like a real snapshot; ``frozen`` is the one fault
that repeats the exact same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]

VIEW_SIZE = (640, 480)
VIEW_ORIGIN = (64, 48)


class ImageFault(StrEnum):
    NONE = "none"
    BLACK = "black"
    FROZEN = "frozen"
    BLURRED = "blurred"
    COVERED = "covered"
    MOVED = "moved"
    DARK = "dark"


@dataclass(frozen=True)
class FaultParams:
    """How a fault looks; the defaults are a clear case of each (the benchmark varies them)."""

    blur_sigma: float = 4.0  # Gaussian blur (fog, a dirty lens)
    defocus_radius: int = 0  # when set: a disk kernel of this radius instead (out of focus)
    cover_fraction: float = 0.6  # share of the view's area
    cover_side: str = "left"  # left, right, top, bottom, full
    cover_level: int = 60  # grey level of the occluder
    shift: tuple[int, int] = (64, 0)  # pixels the view is turned by (right, down)
    dark_gain: float = 0.25
    dark_noise: float = 5.0
    gain: float = 1.0  # healthy lighting change
    noise: float = 1.5  # sensor noise, every frame


def view(source: Image, shift: tuple[int, int] = (0, 0)) -> Image:
    """The camera's view of the scene: a window of the source, optionally turned by ``shift``."""
    height, width = source.shape[:2]
    x = min(max(VIEW_ORIGIN[0] + shift[0], 0), width - VIEW_SIZE[0])
    y = min(max(VIEW_ORIGIN[1] + shift[1], 0), height - VIEW_SIZE[1])
    if width < VIEW_SIZE[0] or height < VIEW_SIZE[1]:
        return np.asarray(cv2.resize(source, VIEW_SIZE, interpolation=cv2.INTER_AREA), np.uint8)
    return np.ascontiguousarray(source[y : y + VIEW_SIZE[1], x : x + VIEW_SIZE[0]])


def _noisy(image: Image, sigma: float, rng: np.random.Generator) -> Image:
    if sigma <= 0:
        return image
    noise = rng.standard_normal(image.shape, dtype=np.float32) * np.float32(sigma)
    return np.clip(image.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def _cover(image: Image, params: FaultParams, rng: np.random.Generator) -> Image:
    out = image.copy()
    height, width = out.shape[:2]
    side, share = params.cover_side, params.cover_fraction
    if side == "full" or share >= 1:
        y0, y1, x0, x1 = 0, height, 0, width
    elif side in {"left", "right"}:
        span = int(width * share)
        x0, x1 = (0, span) if side == "left" else (width - span, width)
        y0, y1 = 0, height
    else:
        span = int(height * share)
        y0, y1 = (0, span) if side == "top" else (height - span, height)
        x0, x1 = 0, width
    # An occluder close to the lens is out of focus: a smooth gradient, not a perfect flat colour.
    ramp = np.linspace(-12, 12, x1 - x0, dtype=np.float32)[None, :, None]
    patch = np.clip(params.cover_level + ramp + rng.normal(0, 1.0, (1, 1, 1)), 0, 255)
    out[y0:y1, x0:x1] = np.broadcast_to(patch, (y1 - y0, x1 - x0, out.shape[2])).astype(np.uint8)
    return out


def apply(
    source: Image,
    fault: ImageFault,
    params: FaultParams,
    rng: np.random.Generator,
    crop: bool = True,
) -> Image:
    """One frame as the camera would send it with ``fault`` (``frozen`` is the caller's job:
    it repeats a frame; here it is a healthy frame).

    ``crop=False`` keeps the source's full size (the simulator serves full frames); a turn is
    then a circular shift of the picture.
    """
    shift = params.shift if fault is ImageFault.MOVED else (0, 0)
    if crop:
        image = view(source, shift)
    else:
        image = np.ascontiguousarray(np.roll(source, (-shift[1], -shift[0]), axis=(0, 1)))
    if params.gain != 1.0:
        image = np.clip(image.astype(np.float32) * params.gain, 0, 255).astype(np.uint8)
    if fault is ImageFault.BLACK:
        return _noisy(np.full_like(image, 3), params.noise, rng)
    if fault is ImageFault.BLURRED:
        if params.defocus_radius > 0:
            size = 2 * params.defocus_radius + 1
            disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)).astype(np.float32)
            image = np.asarray(cv2.filter2D(image, -1, disk / disk.sum()), np.uint8)
        else:
            image = np.asarray(cv2.GaussianBlur(image, (0, 0), params.blur_sigma), np.uint8)
    elif fault is ImageFault.COVERED:
        image = _cover(image, params, rng)
    elif fault is ImageFault.DARK:
        image = np.clip(image.astype(np.float32) * params.dark_gain, 0, 255).astype(np.uint8)
        return _noisy(image, params.dark_noise, rng)
    return _noisy(image, params.noise, rng)


def encode_jpeg(image: Image, quality: int = 85) -> bytes:
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 image
        raise RuntimeError("JPEG encoding failed")
    return bytes(buffer.tobytes())


def decode_jpeg(data: bytes) -> Image:
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError("not a JPEG")
    return np.asarray(image, np.uint8)
