"""The shape every probe shares: a config model with a ``type`` tag that builds a ``Probe``.

Configuration errors fail at start (pydantic, ``extra="forbid"``); runtime failures become results
with a reason code and timings: a device that is down is data, never an exception.
"""

from __future__ import annotations

import os
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from contract.models import DeviceKind, DeviceResult, Label, Status


def _beside_the_config(value: Path, info: ValidationInfo) -> Path:
    """Relative paths in a config file mean: next to that file (not the working directory)."""
    base = (info.context or {}).get("config_dir")
    return value if value.is_absolute() or base is None else Path(base) / value


ConfigPath = Annotated[Path, AfterValidator(_beside_the_config)]


class ProbeConfig(BaseModel):
    """Fields every device has. Subclasses add ``type: Literal[...]`` and their own settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Label = Field(description="the device id within the area, e.g. 'cam-01' or 'Cổng chợ'")
    timeout_s: float = Field(default=5.0, gt=0, le=120, description="limit for each network step")

    def build(self) -> Probe:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def worst_case_s(self) -> float:
        """The longest one probe can take when every step times out (connect, then read).
        Probes that make several attempts override it; the agent's checks and limits use it."""
        return self.timeout_s * 2


class Credentials(BaseModel):
    """A username and a password from the environment or a file, never from the config text."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    username: str = Field(description="login name on the device")
    password_env: str | None = Field(default=None, description="environment variable with it")
    password_file: ConfigPath | None = Field(default=None, description="file whose content is it")

    @model_validator(mode="after")
    def _one_source(self) -> Credentials:
        if (self.password_env is None) == (self.password_file is None):
            raise ValueError("give exactly one of password_env or password_file")
        return self

    def password(self) -> str:
        """Read at probe time, so a rotated secret is picked up without a restart."""
        if self.password_env is not None:
            value = os.environ.get(self.password_env)
            if value is None:
                raise LookupError(f"environment variable {self.password_env} is not set")
            return value
        if self.password_file is None:  # unreachable: the validator requires one source
            raise LookupError("no password source")
        return self.password_file.read_text().strip()

    def __repr_args__(self) -> Any:  # keep even the source names out of accidental reprs
        yield "username", self.username


class Probe(ABC):
    """Probes one device. ``probe()`` never raises for device faults: it returns a result."""

    kind: DeviceKind

    def __init__(self, config: ProbeConfig) -> None:
        self.device_id = config.id
        self.timeout_s = config.timeout_s
        self.worst_case_s = config.worst_case_s()

    @abstractmethod
    def probe(self) -> DeviceResult: ...

    def result(
        self,
        started: float,
        status: Status,
        reason: str | None = None,
        detail: str | None = None,
        metrics: Mapping[str, float | int | bool | str] | None = None,
    ) -> DeviceResult:
        """Build this device's result; ``started`` is a ``time.perf_counter()`` reading."""
        return DeviceResult(
            device_id=self.device_id,
            kind=self.kind,
            status=status,
            reason=reason,
            detail=detail[:300] if detail else None,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            metrics=dict(metrics or {}),
        )
