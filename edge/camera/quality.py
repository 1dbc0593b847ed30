"""Measurements for the video-quality-diagnosis faults NVRs report: pure functions of small images.

- colour: a camera's colour balance (chromaticity) and saturation, from a tiny colour thumbnail;
  block averaging removes sensor noise, so a dim picture keeps its colours. A monochrome source
  (or an IR night picture, which cameras send as grey) has no chroma.
- noise: Immerkær's fast estimate of the noise sigma (a Laplacian-difference kernel that
  cancels smooth structure), which heavy noise and snow (impulse noise) raise;
- stripes: interference bars: the high-pass part of the row and column mean profiles;
- glare: the share of the picture that is saturated where the reference was not bright.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

THUMB_WIDTH = 40
_NOISE_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


@dataclass(frozen=True)
class Colour:
    """A frame's colour summary: chromaticity of the mean colour and mean saturation."""

    red: float  # share of red in the mean colour (1/3 for grey)
    blue: float  # share of blue
    saturation: float  # mean (max - min channel) / (mean luma + 10); 0 for a grey picture

    def shift_from(self, other: Colour) -> float:
        """How far the colour balance moved from ``other`` (0: same balance)."""
        return math.hypot(self.red - other.red, self.blue - other.blue) * 3


def colour_of(image: npt.NDArray[np.uint8]) -> Colour | None:
    """The colour summary of a BGR frame of any size; None for a grey one."""
    if image.ndim != 3 or image.shape[2] != 3:
        return None
    height, width = image.shape[:2]
    # In two steps: area averaging by a large odd factor is slow in OpenCV, by 2-8 it is fast.
    step = (8 * THUMB_WIDTH, max(1, round(height * 8 * THUMB_WIDTH / width)))
    if width > step[0]:
        image = np.asarray(cv2.resize(image, step, interpolation=cv2.INTER_AREA), np.uint8)
    size = (THUMB_WIDTH, max(1, round(height * THUMB_WIDTH / width)))
    thumb = cv2.resize(image, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    means = thumb.reshape(-1, 3).mean(axis=0)
    total = float(means.sum()) + 1e-6
    spread = float((thumb.max(axis=2) - thumb.min(axis=2)).mean())
    return Colour(
        red=float(means[2]) / total,
        blue=float(means[0]) / total,
        saturation=spread / (total / 3 + 10),
    )


def noise_sigma(gray: npt.NDArray[np.uint8]) -> float:
    """Immerkær (1996): the noise sigma, with smooth structure cancelled by the kernel."""
    filtered = np.asarray(cv2.filter2D(gray.astype(np.float32), -1, _NOISE_KERNEL), np.float32)
    response = filtered[1:-1, 1:-1]
    height, width = response.shape
    total = float(np.abs(response).sum())
    return total * math.sqrt(math.pi / 2) / float(6 * width * height)


def stripe_level(gray: npt.NDArray[np.uint8]) -> float:
    """Strength of horizontal or vertical bars: the high-pass part of the mean profiles.

    A robust spread (median absolute value): bars run across the whole picture, while a single
    edge of the scene or of a cover moves only a few points of the profile.
    """
    values = gray.astype(np.float32)
    levels = []
    for profile in (values.mean(axis=1), values.mean(axis=0)):
        column = profile.reshape(-1, 1)
        smooth = np.asarray(cv2.GaussianBlur(column, (1, 0), sigmaX=0, sigmaY=4), np.float32)
        residual = profile - smooth.ravel()
        levels.append(float(np.median(np.abs(residual))) * 1.4826)
    return max(levels)


def glare_fraction(gray: npt.NDArray[np.uint8], reference: npt.NDArray[np.uint8]) -> float:
    """Share of the picture saturated where the (registered) reference was not bright."""
    return float(((gray >= 250) & (reference < 180)).mean())
