"""Verdicts: each criterion of a set, for one area over one window: pass, fail, insufficient data.

- measured: the catalog's devices of the kind (main roads only, if asked) must number at least
  ``min_devices`` with availability and coverage at or above the thresholds; devices observed too
  little (coverage below the threshold) are *insufficient data*, never counted as failing;
- declared: the newest declaration of each figure valid during the window; missing, expired or a
  zero denominator is insufficient data;
- documentary: a document of the kind dated before the window's end and not expired at its start;
  none is insufficient data.
The overall verdict: fail if any criterion fails, else insufficient data if any is, else pass.
Every value is rounded to 0.01 so the evidence hashes the same on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel

from api.availability.model import AreaAvailability, Figures
from api.criteria.sets import (
    CriteriaSetFile,
    Criterion,
    DeclaredRule,
    DocumentaryRule,
    MeasuredRule,
    Source,
    Text,
)
from catalog.criteria import Declaration, Document
from catalog.models import Area

Verdict = Literal["pass", "fail", "insufficient_data"]


class CriterionVerdict(BaseModel):
    id: str
    title: Text
    source: Source
    kind: Literal["measured", "declared", "documentary"]
    verdict: Verdict
    value: float | None
    threshold: float | None
    unit: str
    explanation: Text
    evidence: list[dict[str, object]]


class Evaluation(BaseModel):
    area_id: str
    area_name: str
    commune: str
    province: str
    criteria_set: str
    criteria_set_version: int
    criteria_set_sha256: str
    window_from: datetime
    window_to: datetime
    overall: Verdict
    criteria: list[CriterionVerdict]
    rules: Text


@dataclass(frozen=True)
class Inputs:
    area: Area
    criteria_set: CriteriaSetFile
    criteria_set_sha256: str
    window_from: datetime
    window_to: datetime
    availability: AreaAvailability
    declarations: list[Declaration]
    documents: list[Document]


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _measured(criterion: Criterion, rule: MeasuredRule, inputs: Inputs) -> CriterionVerdict:
    figures = {d.device_id: d for d in inputs.availability.devices}
    candidates = [
        d
        for d in inputs.area.devices
        if d.kind == rule.device_kind.value and (d.main_road or not rule.main_road_only)
    ]
    qualified = insufficient = 0
    evidence: list[dict[str, object]] = []
    for device in candidates:
        seen = figures.get(device.id)
        chosen: Figures | None = None
        if seen is not None:
            chosen = seen.remote if rule.availability == "remote" else seen.health
        availability = chosen.availability if chosen else None
        coverage = chosen.coverage if chosen else 0.0
        if coverage is None or coverage < rule.min_coverage_pct or availability is None:
            state = "insufficient_data"
            insufficient += 1
        elif availability >= rule.min_availability_pct:
            state = "pass"
            qualified += 1
        else:
            state = "fail"
        evidence.append(
            {
                "device_id": device.id,
                "road": device.road,
                "verdict": state,
                "availability_pct": _r(availability),
                "coverage_pct": _r(coverage),
                "outages": chosen.outages if chosen else 0,
                "longest_outage_s": _r(chosen.longest_outage_s) if chosen else None,
                # How much of the window each figure leaves out (docs/availability.md).
                "unknown_s": _r(chosen.unknown_s) if chosen else None,
                "planned_maintenance_s": _r(chosen.planned_maintenance_s) if chosen else None,
                "retroactive_maintenance_s": (
                    _r(chosen.retroactive_maintenance_s) if chosen else None
                ),
                "before_installation_s": _r(chosen.before_installation_s) if chosen else None,
            }
        )
    if qualified >= rule.min_devices:
        verdict: Verdict = "pass"
    elif qualified + insufficient >= rule.min_devices:
        verdict = "insufficient_data"
    else:
        verdict = "fail"
    which = "từ xa (camera và đường truyền)" if rule.availability == "remote" else "tại chỗ"
    return CriterionVerdict(
        id=criterion.id,
        title=criterion.title,
        source=criterion.source,
        kind="measured",
        verdict=verdict,
        value=float(qualified),
        threshold=float(rule.min_devices),
        unit="devices",
        explanation=Text(
            vi=f"{qualified}/{len(candidates)} thiết bị đạt độ sẵn sàng {which} ≥ "
            f"{rule.min_availability_pct:g}% với độ phủ ≥ {rule.min_coverage_pct:g}%; "
            f"{insufficient} thiết bị chưa đủ dữ liệu; cần {rule.min_devices}.",
            en=f"{qualified}/{len(candidates)} devices reach {rule.availability} availability ≥ "
            f"{rule.min_availability_pct:g}% with coverage ≥ {rule.min_coverage_pct:g}%; "
            f"{insufficient} with too little data; {rule.min_devices} needed.",
        ),
        evidence=evidence,
    )


def _valid(valid_from: date, valid_to: date | None, inputs: Inputs) -> bool:
    return valid_from <= inputs.window_to.date() and (
        valid_to is None or valid_to >= inputs.window_from.date()
    )


def _latest(inputs: Inputs, figure: str) -> Declaration | None:
    found = [
        d
        for d in inputs.declarations
        if d.figure == figure and _valid(d.valid_from, d.valid_to, inputs)
    ]
    return max(found, key=lambda d: (d.entered_at, d.id)) if found else None


def _declared(criterion: Criterion, rule: DeclaredRule, inputs: Inputs) -> CriterionVerdict:
    numerator, denominator = _latest(inputs, rule.numerator), _latest(inputs, rule.denominator)
    evidence = [
        {
            "figure": d.figure,
            "value": d.value,
            "source_document": d.source_document,
            "document_date": d.document_date.isoformat(),
            "valid_from": d.valid_from.isoformat(),
            "valid_to": d.valid_to.isoformat(),
            "entered_by": d.entered_by,
            "declaration_id": d.id,
        }
        for d in (numerator, denominator)
        if d is not None
    ]
    ratio = None
    if numerator is None or denominator is None or denominator.value <= 0:
        verdict: Verdict = "insufficient_data"
        missing = [
            f
            for f, d in ((rule.numerator, numerator), (rule.denominator, denominator))
            if d is None
        ]
        vi = f"Thiếu số liệu kê khai còn hiệu lực: {', '.join(missing) or rule.denominator}."
        en = f"No valid declaration of: {', '.join(missing) or rule.denominator}."
    else:
        ratio = 100 * numerator.value / denominator.value
        verdict = "pass" if ratio >= rule.min_ratio_pct else "fail"
        vi = (
            f"{numerator.value:g}/{denominator.value:g} = {ratio:.2f}% "
            f"(ngưỡng {rule.min_ratio_pct:g}%)."
        )
        en = (
            f"{numerator.value:g}/{denominator.value:g} = {ratio:.2f}% "
            f"(threshold {rule.min_ratio_pct:g}%)."
        )
    return CriterionVerdict(
        id=criterion.id,
        title=criterion.title,
        source=criterion.source,
        kind="declared",
        verdict=verdict,
        value=_r(ratio),
        threshold=rule.min_ratio_pct,
        unit="percent",
        explanation=Text(vi=vi, en=en),
        evidence=evidence,
    )


def _documentary(criterion: Criterion, rule: DocumentaryRule, inputs: Inputs) -> CriterionVerdict:
    found = [
        d
        for d in inputs.documents
        if d.kind == rule.document_kind
        and d.document_date <= inputs.window_to.date()
        and (d.valid_to is None or d.valid_to >= inputs.window_from.date())
    ]
    document = max(found, key=lambda d: (d.uploaded_at, d.id)) if found else None
    if document is None:
        return CriterionVerdict(
            id=criterion.id,
            title=criterion.title,
            source=criterion.source,
            kind="documentary",
            verdict="insufficient_data",
            value=None,
            threshold=None,
            unit="document",
            explanation=Text(
                vi=f"Chưa có văn bản loại '{rule.document_kind}' còn hiệu lực.",
                en=f"No valid document of kind '{rule.document_kind}'.",
            ),
            evidence=[],
        )
    return CriterionVerdict(
        id=criterion.id,
        title=criterion.title,
        source=criterion.source,
        kind="documentary",
        verdict="pass",
        value=1.0,
        threshold=1.0,
        unit="document",
        explanation=Text(
            vi=f"Văn bản: {document.title} ({document.document_date.isoformat()}).",
            en=f"Document: {document.title} ({document.document_date.isoformat()}).",
        ),
        evidence=[
            {
                "document_id": document.id,
                "title": document.title,
                "sha256": document.sha256,
                "document_date": document.document_date.isoformat(),
                "uploaded_by": document.uploaded_by,
            }
        ],
    )


def evaluate(inputs: Inputs) -> Evaluation:
    verdicts = []
    for criterion in inputs.criteria_set.criteria:
        rule = criterion.rule
        if isinstance(rule, MeasuredRule):
            verdicts.append(_measured(criterion, rule, inputs))
        elif isinstance(rule, DeclaredRule):
            verdicts.append(_declared(criterion, rule, inputs))
        else:
            verdicts.append(_documentary(criterion, rule, inputs))
    states = {v.verdict for v in verdicts}
    overall: Verdict = (
        "fail"
        if "fail" in states
        else "insufficient_data"
        if "insufficient_data" in states
        else "pass"
    )
    commune = inputs.area.commune
    rules = inputs.availability.rules
    return Evaluation(
        area_id=inputs.area.id,
        area_name=inputs.area.name,
        commune=commune.name,
        province=commune.province.name,
        criteria_set=inputs.criteria_set.id,
        criteria_set_version=inputs.criteria_set.version,
        criteria_set_sha256=inputs.criteria_set_sha256,
        window_from=inputs.window_from,
        window_to=inputs.window_to,
        overall=overall,
        criteria=verdicts,
        rules=Text(vi=rules.vi, en=rules.en),
    )
