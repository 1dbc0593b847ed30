"""A health grade per camera for village leaders, from the last hour of probes.

``good`` (tốt), ``fair`` (khá), ``poor`` (kém), ``unusable`` (không dùng được). The wire carries
the stable code; the Vietnamese and English labels are here for whoever displays it.

- unusable: the camera is down or shows a confirmed image fault right now;
- otherwise by the share of the last hour's probes that were usable (up, picture ok or dark, the
  stream without stalls and above its minimum frame rate) and the number of episodes (a usable
  probe followed by one that was not: reconnects, stalls, image faults) in that hour:
  good ≥ 99% and at most one episode, fair ≥ 90%, poor below.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass
from enum import StrEnum


class Grade(StrEnum):
    GOOD = "good"
    FAIR = "fair"
    POOR = "poor"
    UNUSABLE = "unusable"


LABELS: dict[Grade, tuple[str, str]] = {
    Grade.GOOD: ("tốt", "good"),
    Grade.FAIR: ("khá", "fair"),
    Grade.POOR: ("kém", "poor"),
    Grade.UNUSABLE: ("không dùng được", "unusable"),
}

WINDOW_S = 3600.0
MAX_SAMPLES = 3600  # one probe per second at most is kept; older ones fall out of the window


@dataclass(frozen=True)
class GradeSnapshot:
    grade: Grade
    usable_share: float  # of the probes in the window
    episodes: int  # transitions from usable to not usable in the window
    samples: int


class GradeTracker:
    def __init__(self, window_s: float = WINDOW_S) -> None:
        self.window_s = window_s
        self._samples: deque[tuple[float, bool]] = deque(maxlen=MAX_SAMPLES)

    def add(self, at: float, usable: bool, impaired: bool = False) -> GradeSnapshot:
        """Record one probe (``at`` from ``time.monotonic()``) and grade the window.

        ``impaired``: a picture came, but the stream stalled or its frame rate was too low: the
        probe counts against the share without making the camera unusable right now.
        """
        self._samples.append((at, usable and not impaired))
        while self._samples and self._samples[0][0] < at - self.window_s:
            self._samples.popleft()
        flags = [flag for _, flag in self._samples]
        share = sum(flags) / len(flags)
        episodes = sum(1 for a, b in itertools.pairwise(flags) if a and not b)
        if not usable:
            grade = Grade.UNUSABLE
        elif share >= 0.99 and episodes <= 1:
            grade = Grade.GOOD
        elif share >= 0.9:
            grade = Grade.FAIR
        else:
            grade = Grade.POOR
        return GradeSnapshot(grade, round(share, 4), episodes, len(flags))
