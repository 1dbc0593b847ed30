"""Where the camera points now, against its reference frame: rotation, shift and scale.

Phase correlation sees translation only: a camera turned by 4-8 degrees was reported ``ok``. Here
the frame is registered against the reference with ORB features and a robust similarity fit
(``cv2.estimateAffinePartial2D`` with RANSAC): rotation, scale and the shift of the picture's
centre come out of one model, and the moving people and cars of a street are outliers. A dark or
featureless view (too few consistent matches) falls back to phase correlation, translation only,
and says so (``registered`` is False), so a decision never rests on a fit that did not hold.
A fit no mounted camera can make (turned past ``MAX_ROLL_DEG`` about its own axis, or scaled
outside ``SCALE_RANGE``) did not hold either: features repeated across a chessboard or along a
cover's edge can agree on a collapsed model (scale near 0), and judging a cover against the
reference warped through it hid the cover.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

Gray = npt.NDArray[np.uint8]

MIN_INLIERS = 12  # consistent matches needed to trust the fit
MAX_ROLL_DEG = 30.0  # a pole-mounted camera is not turned further about its axis
SCALE_RANGE = (0.5, 2.0)  # a zoom beyond these no longer shares enough of the view to fit
_MATCHER = cv2.BFMatcher(cv2.NORM_HAMMING)  # matching two given sets clones it: thread-safe
_local = threading.local()  # one detector per probe thread


@dataclass(frozen=True, eq=False)
class Features:
    """ORB keypoints and descriptors of one picture (those of a reference are computed once,
    with the reference: ``health.Reference``)."""

    points: list[cv2.KeyPoint]
    descriptors: npt.NDArray[np.uint8] | None


@dataclass(frozen=True)
class Registration:
    """The frame's view against the reference's (frame = matrix applied to reference)."""

    matrix: npt.NDArray[np.float64]  # 2x3, reference pixels to frame pixels
    rotation_deg: float
    scale: float
    shift_fraction: float  # how far the picture's centre moved, as a share of the frame width
    inliers: int
    registered: bool  # features agreed; False: translation from phase correlation only


def _phase_shift(frame: Gray, reference: Gray) -> tuple[float, float]:
    a, b = reference.astype(np.float32), frame.astype(np.float32)
    window = cv2.createHanningWindow((a.shape[1], a.shape[0]), cv2.CV_32F)
    (dx, dy), _response = cv2.phaseCorrelate(a, b, window)
    return float(dx), float(dy)


def _from_matrix(
    matrix: npt.NDArray[np.float64], width: int, height: int, inliers: int, registered: bool
) -> Registration:
    a, b = float(matrix[0, 0]), float(matrix[1, 0])
    centre = np.array([width / 2, height / 2, 1.0])
    moved = matrix @ centre - centre[:2]
    return Registration(
        matrix=matrix,
        rotation_deg=math.degrees(math.atan2(b, a)),
        scale=math.hypot(a, b),
        shift_fraction=float(np.hypot(moved[0], moved[1])) / width,
        inliers=inliers,
        registered=registered,
    )


def _plausible(fit: Registration) -> bool:
    return abs(fit.rotation_deg) <= MAX_ROLL_DEG and SCALE_RANGE[0] <= fit.scale <= SCALE_RANGE[1]


def features(gray: Gray) -> Features:
    """ORB features of ``gray`` (from ``to_gray``)."""
    # Equalised first: a dark or low-contrast view still has corners, only faint ones.
    orb = getattr(_local, "orb", None)
    if orb is None:
        orb = _local.orb = cv2.ORB.create(
            nfeatures=400, scaleFactor=1.3, nlevels=4, edgeThreshold=15, patchSize=15
        )
    keypoints, descriptors = orb.detectAndCompute(cv2.equalizeHist(gray), None)
    return Features(
        list(keypoints), None if descriptors is None else np.asarray(descriptors, np.uint8)
    )


def register(frame: Gray, reference: Gray, ref_features: Features | None = None) -> Registration:
    """Register ``frame`` against ``reference`` (both from ``to_gray``, the same size).

    ``ref_features``: the reference's ``features``, when the caller keeps them (computed here
    otherwise).
    """
    height, width = reference.shape
    ref = features(reference) if ref_features is None else ref_features
    ref_points, ref_desc = ref.points, ref.descriptors
    found = features(frame)
    points, desc = found.points, found.descriptors
    if ref_desc is not None and desc is not None and len(ref_points) >= MIN_INLIERS:
        pairs = _MATCHER.knnMatch(ref_desc, desc, k=2)
        good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]
        if len(good) >= MIN_INLIERS:
            src = np.array([ref_points[m.queryIdx].pt for m in good], np.float32)
            dst = np.array([points[m.trainIdx].pt for m in good], np.float32)
            matrix, mask = cv2.estimateAffinePartial2D(
                src, dst, method=cv2.RANSAC, ransacReprojThreshold=3.0, maxIters=500
            )
            inliers = int(mask.sum()) if mask is not None else 0
            if matrix is not None and inliers >= MIN_INLIERS:
                fit = _from_matrix(np.asarray(matrix, np.float64), width, height, inliers, True)
                if _plausible(fit):
                    return fit
    dx, dy = _phase_shift(frame, reference)
    translation = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]], np.float64)
    return _from_matrix(translation, width, height, 0, False)
