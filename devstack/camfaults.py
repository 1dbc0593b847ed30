"""Realistic camera faults applied to real footage, for the simulator, the tests and the benchmark.

A simulated camera's *view* is the source less a twelfth on every side (a 640x480 window of the
768x576 sample footage), so turning the camera (``moved``: a shift, a rotation about the view's
centre, a zoom) reveals real scenery at the edge instead of a filled border. Every frame gets a
little sensor noise and goes through JPEG like a real snapshot; ``frozen`` is the one fault that
repeats the exact same bytes.

Variants, as the video-quality-diagnosis faults of NVRs describe them: ``black`` with light
leaking round a lens cap (``leak``); ``covered`` by a board, a hand or spray paint
(``cover_kind``); ``blurred`` by a Gaussian (fog, dirt) or a disk (defocus); ``noisy``: heavy
sensor noise, snow (impulse noise) or interference stripes (``noise_kind``); ``colour_cast``
(channel gains); ``glare`` (a light spot with its bloom); ``ir_stuck``: the day/night switch stuck,
a monochrome picture in daylight (``ir_kind="mono_day"``) or a dark colour one at night
(``"colour_night"``); ``night``: a healthy camera in IR night mode (monochrome, dim, grainy).
"""

from __future__ import annotations

from collections.abc import Callable
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
    NOISY = "noisy"
    COLOUR_CAST = "colour_cast"
    GLARE = "glare"
    IR_STUCK = "ir_stuck"
    NIGHT = "night"  # healthy: IR night mode


@dataclass(frozen=True)
class FaultParams:
    """How a fault looks; the defaults are a clear case of each (the benchmark varies them)."""

    blur_sigma: float = 4.0  # Gaussian blur (fog, a dirty lens)
    defocus_radius: int = 0  # when set: a disk kernel of this radius instead (out of focus)
    cover_fraction: float = 0.6  # share of the view's area
    cover_side: str = "left"  # left, right, top, bottom, full
    cover_level: int = 60  # grey level of the occluder
    shift: tuple[int, int] = (64, 0)  # pixels the view is turned by (right, down)
    rotation_deg: float = 0.0  # moved: the view also rolls about its centre (counter-clockwise)
    zoom: float = 1.0  # moved: the view is magnified (a varifocal lens knocked)
    leak: float = 0.0  # black: brightness of light leaking round the cap at the picture's edge
    cover_kind: str = "board"  # board (flat, out of focus), hand, spray
    noise_kind: str = "gaussian"  # noisy: gaussian, snow, stripes
    noise_level: float = 25.0  # noisy: sigma, impulse share x 100, or stripe amplitude
    cast: tuple[float, float, float] = (0.7, 1.0, 1.35)  # colour_cast: B, G, R gains
    glare_radius: float = 0.18  # glare: the spot's radius as a share of the width
    glare_at: tuple[float, float] = (0.5, 0.4)  # glare: its centre (share of width, height)
    ir_kind: str = "mono_day"  # ir_stuck: mono_day or colour_night
    dark_gain: float = 0.25
    dark_noise: float = 5.0
    gain: float = 1.0  # healthy lighting change
    noise: float = 1.5  # sensor noise, every frame


def view(
    source: Image, shift: tuple[int, int] = (0, 0), rotation_deg: float = 0.0, zoom: float = 1.0
) -> Image:
    """The camera's view of the scene: the source less a twelfth on every side, optionally turned
    by ``shift`` (pixels of a 768-wide source, scaled to this one), rolled and zoomed."""
    height, width = source.shape[:2]
    x0, y0 = width // 12, height // 12
    w, h = width - 2 * x0, height - 2 * y0
    dx, dy = shift[0] * width / 768, shift[1] * height / 576
    if rotation_deg == 0.0 and zoom == 1.0:
        x = min(max(x0 + round(dx), 0), width - w)
        y = min(max(y0 + round(dy), 0), height - h)
        return np.ascontiguousarray(source[y : y + h, x : x + w])
    centre = (width / 2 + dx, height / 2 + dy)
    turn = cv2.getRotationMatrix2D(centre, rotation_deg, zoom)
    turn[:, 2] += (width / 2 - centre[0], height / 2 - centre[1])
    turned = cv2.warpAffine(source, turn, (width, height), borderMode=cv2.BORDER_REFLECT)
    return np.ascontiguousarray(np.asarray(turned, np.uint8)[y0 : y0 + h, x0 : x0 + w])


def _noisy(image: Image, sigma: float, rng: np.random.Generator) -> Image:
    if sigma <= 0:
        return image
    noise = rng.standard_normal(image.shape, dtype=np.float32) * np.float32(sigma)
    return np.clip(image.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def _hand(image: Image, params: FaultParams, rng: np.random.Generator) -> Image:
    """A hand or a leaf on the lens: a skin-toned blob, out of focus, shaded, over one side."""
    height, width = image.shape[:2]
    mask = np.zeros((height, width), np.float32)
    side = params.cover_side
    reach = params.cover_fraction
    cx = {"left": 0.0, "right": 1.0}.get(side, float(rng.uniform(0.3, 0.7)))
    cy = {"top": 0.0, "bottom": 1.0}.get(side, float(rng.uniform(0.3, 0.7)))
    axes = (int(width * (0.35 + reach)), int(height * (0.35 + reach)))
    if side == "full":
        axes = (width, height)
    angle = float(rng.uniform(0, 180))
    cv2.ellipse(mask, (int(cx * width), int(cy * height)), axes, angle, 0, 360, 1.0, -1)
    soft = np.asarray(cv2.GaussianBlur(mask, (0, 0), width / 25), np.float32)[..., None]
    shade = np.linspace(0.6, 1.0, width, dtype=np.float32)[None, :, None]
    skin = np.array([95, 125, 170], np.float32) * params.cover_level / 120 * shade
    return np.clip(image * (1 - soft) + skin * soft, 0, 255).astype(np.uint8)


def _spray(image: Image, params: FaultParams, rng: np.random.Generator) -> Image:
    """Spray paint on the dome: dense blotches of one colour over part of the view."""
    height, width = image.shape[:2]
    mask = np.zeros((height, width), np.float32)
    for _ in range(int(12 * params.cover_fraction) + 4):
        cx, cy = rng.uniform(0, 1), rng.uniform(0, 1)
        if params.cover_side == "left":
            cx *= params.cover_fraction + 0.1
        elif params.cover_side == "right":
            cx = 1 - cx * (params.cover_fraction + 0.1)
        radius = int(width * rng.uniform(0.12, 0.3) * (0.5 + params.cover_fraction))
        cv2.circle(mask, (int(cx * width), int(cy * height)), radius, 1.0, -1)
    opacity = float(rng.uniform(0.85, 1.0))
    mask = (cv2.GaussianBlur(mask, (0, 0), width / 60) * opacity)[..., None]
    paint = np.array(rng.uniform(20, 200, 3), np.float32)
    return np.clip(image * (1 - mask) + paint * mask, 0, 255).astype(np.uint8)


def _leaking_cap(image: Image, params: FaultParams) -> Image:
    """A lens cap: black, with light leaking round its rim (brightest at one edge)."""
    height, width = image.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    rim = np.minimum.reduce([xs / width, 1 - xs / width, ys / height, 1 - ys / height])
    glow = np.exp(-rim / 0.06) * (0.6 + 0.4 * xs / width)
    picture = 3 + params.leak * glow
    return np.repeat(picture[..., None], image.shape[2], axis=2).clip(0, 255).astype(np.uint8)


def _noise_fault(image: Image, params: FaultParams, rng: np.random.Generator) -> Image:
    level = params.noise_level
    if params.noise_kind == "snow":  # impulse noise: a share of the pixels white or black
        out = image.copy()
        hit = rng.random(image.shape[:2]) < level / 100
        out[hit] = np.where(rng.random((int(hit.sum()), 1)) < 0.5, 0, 255).astype(np.uint8)
        return out
    if params.noise_kind == "stripes":  # rolling interference bars
        height = image.shape[0]
        period = float(rng.uniform(6, 24))
        rows = np.arange(height, dtype=np.float32)
        bars = level * np.sin(2 * np.pi * rows / period + float(rng.uniform(0, 6.3)))
        out = image.astype(np.float32) + bars[:, None, None]
        return np.asarray(np.clip(out, 0, 255), np.uint8)
    return _noisy(image, level, rng)


def _glare(image: Image, params: FaultParams) -> Image:
    """The sun or a lamp in the lens: a saturated spot and its bloom."""
    height, width = image.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy = params.glare_at[0] * width, params.glare_at[1] * height
    distance = np.hypot(xs - cx, ys - cy) / (params.glare_radius * width)
    light = 255 * np.clip(1.6 - distance, 0, 1) + 120 * np.exp(-distance)
    return np.asarray(np.clip(image + light[..., None], 0, 255), np.uint8)


def _mono(image: Image, gain: float) -> Image:
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32) * gain
    return np.repeat(np.clip(gray, 0, 255).astype(np.uint8)[..., None], 3, axis=2)


def _cover(image: Image, params: FaultParams, rng: np.random.Generator) -> Image:
    if params.cover_kind == "hand":
        return _hand(image, params, rng)
    if params.cover_kind == "spray":
        return _spray(image, params, rng)
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
    moved = fault is ImageFault.MOVED
    shift = params.shift if moved else (0, 0)
    if crop:
        rotation, zoom = (params.rotation_deg, params.zoom) if moved else (0.0, 1.0)
        image = view(source, shift, rotation, zoom)
    else:
        image = np.ascontiguousarray(np.roll(source, (-shift[1], -shift[0]), axis=(0, 1)))
    if params.gain != 1.0:
        image = np.clip(image.astype(np.float32) * params.gain, 0, 255).astype(np.uint8)
    return _FAULTS.get(fault, _healthy)(image, params, rng)


def _healthy(image: Image, params: FaultParams, rng: np.random.Generator) -> Image:
    return _noisy(image, params.noise, rng)


def _black(image: Image, params: FaultParams, rng: np.random.Generator) -> Image:
    if params.leak > 0:
        return _noisy(_leaking_cap(image, params), params.noise, rng)
    return _noisy(np.full_like(image, 3), params.noise, rng)


def _blurred(image: Image, params: FaultParams, rng: np.random.Generator) -> Image:
    if params.defocus_radius > 0:
        size = 2 * params.defocus_radius + 1
        disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)).astype(np.float32)
        image = np.asarray(cv2.filter2D(image, -1, disk / disk.sum()), np.uint8)
    else:
        image = np.asarray(cv2.GaussianBlur(image, (0, 0), params.blur_sigma), np.uint8)
    return _noisy(image, params.noise, rng)


def _dim(image: Image, params: FaultParams, rng: np.random.Generator) -> Image:
    image = np.clip(image.astype(np.float32) * params.dark_gain, 0, 255).astype(np.uint8)
    return _noisy(image, params.dark_noise, rng)


def _cast(image: Image, params: FaultParams, rng: np.random.Generator) -> Image:
    cast = np.array(params.cast, np.float32)[None, None, :]
    return _noisy(np.clip(image * cast, 0, 255).astype(np.uint8), params.noise, rng)


def _ir_stuck(image: Image, params: FaultParams, rng: np.random.Generator) -> Image:
    if params.ir_kind == "colour_night":  # the filter stayed in: a dark colour picture
        return _dim(image, params, rng)
    return _noisy(_mono(image, 1.0), params.noise, rng)  # stuck in night mode by day


def _covered(image: Image, params: FaultParams, rng: np.random.Generator) -> Image:
    return _noisy(_cover(image, params, rng), params.noise, rng)


def _noise(image: Image, params: FaultParams, rng: np.random.Generator) -> Image:
    return _noise_fault(_noisy(image, params.noise, rng), params, rng)


def _glared(image: Image, params: FaultParams, rng: np.random.Generator) -> Image:
    return _noisy(_glare(image, params), params.noise, rng)


def _night(image: Image, params: FaultParams, rng: np.random.Generator) -> Image:
    """Healthy IR night mode: monochrome, dimmer, grainy."""
    return _noisy(_mono(image, params.dark_gain), params.dark_noise, rng)


_FAULTS: dict[ImageFault, Callable[[Image, FaultParams, np.random.Generator], Image]] = {
    ImageFault.BLACK: _black,
    ImageFault.BLURRED: _blurred,
    ImageFault.COVERED: _covered,
    ImageFault.DARK: _dim,
    ImageFault.NOISY: _noise,
    ImageFault.COLOUR_CAST: _cast,
    ImageFault.GLARE: _glared,
    ImageFault.IR_STUCK: _ir_stuck,
    ImageFault.NIGHT: _night,
}


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
