"""Confirmation over consecutive probes, so one passing truck or headlight does not page anyone.

A fault becomes *confirmed* only after ``confirm_after`` consecutive faulty frames (any fault class:
a lens being covered may read ``covered`` then ``black``); the reported class is the latest one.
It clears after ``clear_after`` consecutive frames that are not faults. Until then the camera stays
in its previous state and the pending count is reported, so the data shows what is building up.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge.camera.health import Health


@dataclass(frozen=True)
class Confirmed:
    """The state to report after one more frame."""

    health: Health  # the confirmed image state (ok, dark, or a confirmed fault)
    observed: Health  # what this frame alone showed
    streak: int  # consecutive frames agreeing with ``observed`` being a fault (or not)
    changed: bool  # the confirmed state changed with this frame


class Confirmation:
    def __init__(self, confirm_after: int = 3, clear_after: int = 2) -> None:
        if confirm_after < 1 or clear_after < 1:
            raise ValueError("confirm_after and clear_after must be at least 1")
        self.confirm_after = confirm_after
        self.clear_after = clear_after
        self.health = Health.OK
        self._faulty = 0
        self._healthy = 0

    def update(self, observed: Health) -> Confirmed:
        before = self.health
        if observed.is_fault:
            self._faulty += 1
            self._healthy = 0
            if self.health.is_fault or self._faulty >= self.confirm_after:
                self.health = observed
            streak = self._faulty
        else:
            self._healthy += 1
            self._faulty = 0
            if not self.health.is_fault or self._healthy >= self.clear_after:
                self.health = observed
            streak = self._healthy
        return Confirmed(self.health, observed, streak, self.health is not before)

    def reset(self) -> None:
        """Forget the history, e.g. after a new reference frame was taken."""
        self.health = Health.OK
        self._faulty = self._healthy = 0
