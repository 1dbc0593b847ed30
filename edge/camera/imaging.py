"""A probe's view of one camera's picture: the stored reference, the monitor, the report metrics.

The reference is read from ``reference_dir`` and re-read whenever the file changes, so
``python -m edge.camera reference`` re-baselines a running agent without a restart. A camera with
no reference yet takes its first usable frame (not black, not dark) as the reference and stores
it: commissioning at first sight. Without a ``reference_dir`` it is kept in memory only.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from edge.camera.daynight import SITE_ZONE, daylight_now
from edge.camera.grade import GradeSnapshot
from edge.camera.health import DEFAULT_THRESHOLDS, Gray, Health, to_gray
from edge.camera.monitor import ImageMonitor
from edge.camera.quality import colour_of
from edge.camera.reference import load_stored, reference_path, save_reference

logger = logging.getLogger(__name__)

Metrics = dict[str, float | int | bool | str]


@dataclass(frozen=True)
class Judged:
    state: Health  # the confirmed state to report
    streak: int
    metrics: Metrics


def _grade_metrics(grade: GradeSnapshot) -> Metrics:
    return {"grade": grade.grade.value, "usable_share_1h": grade.usable_share}


def usable_as_reference(gray: Gray) -> bool:
    """A reference must show the scene: not black, not dark."""
    t = DEFAULT_THRESHOLDS
    low, high = np.percentile(gray, [1, 99])
    return float(gray.mean()) >= t.dark_luma and float(high - low) >= t.black_spread


class PictureSettings(Protocol):
    """What a camera probe's configuration says about judging its picture."""

    @property
    def id(self) -> str: ...
    @property
    def image_health(self) -> bool: ...
    @property
    def reference_dir(self) -> Path | None: ...
    @property
    def confirm_after(self) -> int: ...
    @property
    def clear_after(self) -> int: ...
    @property
    def timezone(self) -> str: ...


class CameraImaging:
    def __init__(
        self,
        device_id: str,
        reference_dir: Path | None,
        confirm_after: int,
        clear_after: int,
        timezone: str = SITE_ZONE,
    ) -> None:
        self.device_id = device_id
        self.timezone = timezone
        self.path = None if reference_dir is None else reference_path(reference_dir, device_id)
        self.confirm_after = confirm_after
        self.clear_after = clear_after
        self.monitor: ImageMonitor | None = None
        self._mtime: float | None = None
        self._taken_at: float | None = None

    @classmethod
    def of(cls, config: PictureSettings) -> CameraImaging | None:
        """The picture judge a camera probe's configuration asks for (None: image health off)."""
        if not config.image_health:
            return None
        return cls(
            config.id,
            config.reference_dir,
            config.confirm_after,
            config.clear_after,
            config.timezone,
        )

    def _stored_mtime(self) -> float | None:
        try:
            return None if self.path is None else self.path.stat().st_mtime
        except OSError:
            return None

    def _load(self) -> None:
        """(Re)load the stored reference when it appeared or changed on disk."""
        mtime = self._stored_mtime()
        if mtime is None or mtime == self._mtime or self.path is None:
            return
        stored = load_stored(self.path)  # one read: gray and colour of the same file
        if stored is None:
            logger.warning("camera %s: the stored reference does not decode", self.device_id)
            return
        reference, colour = stored
        self._mtime = mtime
        self._taken_at = mtime
        if self.monitor is None:
            self.monitor = ImageMonitor(
                reference,
                confirm_after=self.confirm_after,
                clear_after=self.clear_after,
                ref_colour=colour,
            )
        else:
            self.monitor.rebaseline(reference, colour)
            logger.info("camera %s: new reference frame loaded", self.device_id)

    def _commission(self, frame: npt.NDArray[np.uint8]) -> bool:
        gray = to_gray(frame)
        if not usable_as_reference(gray):
            return False
        if self.path is not None:
            try:
                save_reference(self.path, frame)
                self._mtime = self._stored_mtime()
            except OSError as exc:
                logger.warning(
                    "camera %s: cannot store its reference (%s); keeping it in memory",
                    self.device_id,
                    exc.strerror,
                )
        self._taken_at = time.time()
        self.monitor = ImageMonitor(
            gray,
            confirm_after=self.confirm_after,
            clear_after=self.clear_after,
            ref_colour=colour_of(frame),
        )
        logger.info("camera %s: first usable frame taken as its reference", self.device_id)
        return True

    def judge(self, frame: npt.NDArray[np.uint8], body: bytes, impaired: bool = False) -> Judged:
        self._load()
        new_reference = False
        if self.monitor is None:
            new_reference = self._commission(frame)
        if self.monitor is None:  # no reference yet and this frame cannot be one
            return Judged(Health.OK, 0, {"image": "no_reference"})
        observation = self.monitor.observe(
            frame, body, impaired=impaired, daylight=daylight_now(self.timezone)
        )
        metrics: Metrics = dict(observation.verdict.metrics())
        metrics["image_state"] = observation.confirmed.health.value
        metrics["image_streak"] = observation.confirmed.streak
        metrics |= _grade_metrics(observation.grade)
        if self._taken_at is not None:
            metrics["reference_age_h"] = round(max(0.0, time.time() - self._taken_at) / 3600, 3)
        if new_reference:
            metrics["reference_new"] = True
        return Judged(observation.confirmed.health, observation.confirmed.streak, metrics)

    def unreachable(self) -> Metrics:
        if self.monitor is None:
            return {}
        return _grade_metrics(self.monitor.unreachable())
