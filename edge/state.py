"""The agent's sequence number, kept on disk: monotonic across restarts and power cuts."""

from __future__ import annotations

import os
from pathlib import Path


class SequenceStore:
    """Hands out numbers 1, 2, 3… and persists each before it is used (write, fsync, rename)."""

    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self._path = state_dir / "seq"
        try:
            self._last = int(self._path.read_text().strip() or 0)
        except FileNotFoundError:
            self._last = 0
        except ValueError:
            raise ValueError(f"{self._path} is corrupt: expected a number") from None

    @property
    def last(self) -> int:
        return self._last

    def next(self) -> int:
        value = self._last + 1
        tmp = self._path.with_suffix(".tmp")
        with tmp.open("w") as handle:
            handle.write(str(value))
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(self._path)
        self._last = value
        return value
