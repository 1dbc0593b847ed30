"""Criteria sets as data: a versioned YAML document an administrator loads, validated here.

Each criterion cites its source and is one of three kinds (see docs/criteria.md):
- ``measured``: devices of a kind, observed by our agents, over the assessment window;
- ``declared``: a ratio of two declared survey figures, each with its provenance;
- ``documentary``: an uploaded document of a kind, kept with its SHA-256.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, ValidationError, model_validator

from api import yamldoc
from api.bounds import Input
from contract.models import DeviceKind, Slug

FigureName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]


class _Strict(Input):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    vi: str = Field(min_length=1, description="Vietnamese (shown first)")
    en: str = Field(min_length=1, description="English")


class Source(_Strict):
    document: str = Field(min_length=3, description="e.g. 'QĐ 318/QĐ-TTg'")
    date: date
    note: str | None = None


class MeasuredRule(_Strict):
    kind: Literal["measured"] = "measured"
    device_kind: DeviceKind
    main_road_only: bool = Field(default=False, description="only devices marked main_road")
    min_devices: int = Field(ge=1, description="how many devices must qualify")
    availability: Literal["health", "remote"] = Field(
        default="health", description="health: seen from the LAN; remote: also the uplink up"
    )
    min_availability_pct: float = Field(ge=0, le=100)
    min_coverage_pct: float = Field(default=90, ge=0, le=100)


class DeclaredRule(_Strict):
    kind: Literal["declared"] = "declared"
    numerator: FigureName
    denominator: FigureName
    min_ratio_pct: float = Field(ge=0, le=100)


class DocumentaryRule(_Strict):
    kind: Literal["documentary"] = "documentary"
    document_kind: FigureName


class Criterion(_Strict):
    id: Slug
    title: Text
    source: Source
    rule: Annotated[MeasuredRule | DeclaredRule | DocumentaryRule, Field(discriminator="kind")]


class CriteriaSetFile(_Strict):
    id: Slug
    version: int = Field(ge=1)
    title: Text
    source: Source
    criteria: list[Criterion] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> CriteriaSetFile:
        ids = [c.id for c in self.criteria]
        if len(set(ids)) != len(ids):
            raise ValueError("criterion ids must be unique within a set")
        return self


class CriteriaSetError(ValueError):
    """The document is not a valid criteria set; the message names the place."""


def parse(data: bytes) -> tuple[CriteriaSetFile, str]:
    """The validated set and the SHA-256 of the document as loaded."""
    try:
        raw = yamldoc.load(data)  # no aliases, bounded nesting: see api.yamldoc
        parsed = CriteriaSetFile.model_validate(raw)
    except yamldoc.YamlRefused as exc:
        raise CriteriaSetError(str(exc)) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CriteriaSetError(f"{where}: {first['msg']} ({exc.error_count()} problems)") from None
    return parsed, hashlib.sha256(data).hexdigest()
