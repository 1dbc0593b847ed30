"""One camera's image-health state across probes: reference, previous frame, confirmation, grade."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from edge.camera.confirm import Confirmation, Confirmed
from edge.camera.grade import GradeSnapshot, GradeTracker
from edge.camera.health import (
    DEFAULT_THRESHOLDS,
    Gray,
    Health,
    Reference,
    Thresholds,
    Verdict,
    analyze,
    to_gray,
)
from edge.camera.quality import Colour, colour_of


@dataclass(frozen=True)
class Observation:
    verdict: Verdict
    confirmed: Confirmed
    grade: GradeSnapshot


class ImageMonitor:
    """Feed it decoded frames in time order; it answers with the frame's verdict and the state."""

    def __init__(
        self,
        reference: Gray,
        thresholds: Thresholds = DEFAULT_THRESHOLDS,
        confirm_after: int = 3,
        clear_after: int = 2,
        ref_colour: Colour | None = None,
    ) -> None:
        self._reference = Reference.of(reference)  # measured once, not on every frame
        self.ref_colour = ref_colour
        self.thresholds = thresholds
        self.confirmation = Confirmation(confirm_after, clear_after)
        self.grades = GradeTracker()
        self._previous: Gray | None = None
        self._previous_digest: bytes | None = None

    @property
    def reference(self) -> Gray:
        """The reference's analysis image."""
        return self._reference.gray

    def rebaseline(self, reference: Gray, ref_colour: Colour | None = None) -> None:
        self._reference = Reference.of(reference)
        self.ref_colour = ref_colour
        self.confirmation.reset()

    def observe(
        self,
        image: npt.NDArray[np.uint8],
        raw: bytes | None = None,
        at: float | None = None,
        impaired: bool = False,
        daylight: bool | None = None,
    ) -> Observation:
        """``raw``: the frame's bytes as received; byte-identical snapshots are frozen for sure.
        ``impaired``: the stream stalled or was too slow (it counts against the grade).
        ``daylight``: True by day, False at night, None when unknown (see ``daynight``)."""
        gray = to_gray(image)
        verdict = analyze(
            gray,
            self._reference,
            self._previous,
            self.thresholds,
            colour=colour_of(image),
            ref_colour=self.ref_colour,
            daylight=daylight,
        )
        if raw is not None:
            digest = hashlib.blake2b(raw, digest_size=16).digest()
            if digest == self._previous_digest and verdict.health is not Health.BLACK:
                verdict = replace(verdict, health=Health.FROZEN)
            self._previous_digest = digest
        self._previous = gray
        confirmed = self.confirmation.update(verdict.health)
        grade = self.grades.add(
            time.monotonic() if at is None else at, not confirmed.health.is_fault, impaired
        )
        return Observation(verdict, confirmed, grade)

    def unreachable(self, at: float | None = None) -> GradeSnapshot:
        """The camera gave no frame: it counts against the grade; the picture history restarts."""
        self._previous = None
        self._previous_digest = None
        return self.grades.add(time.monotonic() if at is None else at, False)
