"""Certification reports: canonical evidence and its SHA-256, and the same content as CSV and PDF.

The hash covers the evaluation (every verdict, value, threshold and piece of evidence, the window
and the criteria set's own hash) serialised canonically: sorted keys, no spaces, UTF-8. Anyone can
recompute it from the JSON; verification recomputes the evaluation from the stored data and says
whether it still matches (a changed declaration, document or late data makes it differ).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from api.criteria.evaluate import Evaluation

FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu")]
VN = ZoneInfo("Asia/Ho_Chi_Minh")
VERDICT_VI = {"pass": "Đạt", "fail": "Không đạt", "insufficient_data": "Chưa đủ dữ liệu"}


def json_bytes(document: object) -> bytes:
    """Canonical JSON: sorted keys, no spaces, UTF-8 (what the hash is computed over)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def canonical(evaluation: Evaluation) -> bytes:
    return json_bytes(evaluation.model_dump(mode="json"))


def evidence_sha256(evaluation: Evaluation) -> str:
    return hashlib.sha256(canonical(evaluation)).hexdigest()


def differences(stored: dict[str, Any], now: Evaluation) -> list[str]:
    """Which criteria (or 'overall') differ between an issued evidence and a recomputation."""
    fresh = json.loads(canonical(now))
    changed = [
        c["id"]
        for c, f in zip(stored.get("criteria", []), fresh["criteria"], strict=False)
        if c != f
    ]
    if stored.get("overall") != fresh["overall"]:
        changed.append("overall")
    return changed


def to_csv(evaluation: Evaluation, sha256: str, report_id: int) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    e = evaluation
    writer.writerow(["report", report_id, "evidence_sha256", sha256])
    writer.writerow(["area", e.area_id, e.area_name, e.commune, e.province])
    writer.writerow(["window", e.window_from.isoformat(), e.window_to.isoformat()])
    writer.writerow(["criteria_set", e.criteria_set, e.criteria_set_version, e.criteria_set_sha256])
    writer.writerow(["overall", e.overall])
    writer.writerow([])
    writer.writerow(
        [
            "criterion",
            "title_vi",
            "kind",
            "verdict",
            "value",
            "threshold",
            "unit",
            "explanation_vi",
            "source",
        ]
    )
    for c in e.criteria:
        writer.writerow(
            [
                c.id,
                c.title.vi,
                c.kind,
                c.verdict,
                c.value,
                c.threshold,
                c.unit,
                c.explanation.vi,
                f"{c.source.document} ({c.source.date.isoformat()})",
            ]
        )
    writer.writerow([])
    writer.writerow(["criterion", "evidence"])
    for c in e.criteria:
        for item in c.evidence:
            writer.writerow([c.id, json.dumps(item, ensure_ascii=False, sort_keys=True)])
    writer.writerow([])
    writer.writerow(["rules_vi", e.rules.vi])
    writer.writerow(["rules_en", e.rules.en])
    return out.getvalue()


def _pct(value: object) -> str:
    return "—" if value is None else f"{value}%"


def _font() -> tuple[str, str]:
    for folder in FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            if "DejaVu" not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(TTFont("DejaVu", str(regular)))
                pdfmetrics.registerFont(TTFont("DejaVu-Bold", str(bold)))
            return "DejaVu", "DejaVu-Bold"
    raise RuntimeError(
        "no font with Vietnamese letters: install the Debian package fonts-dejavu-core"
    )


def to_pdf(evaluation: Evaluation, sha256: str, report_id: int) -> bytes:
    regular, bold = _font()
    body = ParagraphStyle("body", fontName=regular, fontSize=9, leading=12)
    small = ParagraphStyle("small", parent=body, fontSize=7.5, leading=10)
    heading = ParagraphStyle("heading", parent=body, fontName=bold, fontSize=14, leading=18)
    sub = ParagraphStyle("sub", parent=body, fontName=bold, fontSize=10.5, leading=14)
    e = evaluation
    story: list[Any] = [
        Paragraph("Báo cáo đánh giá khu dân cư thông minh", heading),
        Paragraph("Smart residential area assessment report", body),
        Spacer(1, 4 * mm),
        Paragraph(f"<b>{e.area_name}</b>, {e.commune}, {e.province} ({e.area_id})", body),
        Paragraph(
            f"Kỳ đánh giá / window: {e.window_from.astimezone(VN):%Y-%m-%d %H:%M} → "
            f"{e.window_to.astimezone(VN):%Y-%m-%d %H:%M} (giờ Việt Nam, UTC+7)",
            body,
        ),
        Paragraph(f"Bộ tiêu chí / criteria set: {e.criteria_set} v{e.criteria_set_version}", body),
        Paragraph(f"Kết luận / overall: <b>{VERDICT_VI[e.overall]}</b> ({e.overall})", body),
        Spacer(1, 4 * mm),
    ]
    rows: list[list[Any]] = [
        [
            Paragraph(h, small)
            for h in ("Tiêu chí", "Kết quả", "Giá trị", "Ngưỡng", "Giải thích", "Nguồn")
        ]
    ]
    for c in e.criteria:
        rows.append(
            [
                Paragraph(c.title.vi, small),
                Paragraph(VERDICT_VI[c.verdict], small),
                Paragraph("" if c.value is None else f"{c.value:g}", small),
                Paragraph("" if c.threshold is None else f"{c.threshold:g}", small),
                Paragraph(c.explanation.vi, small),
                Paragraph(f"{c.source.document} ({c.source.date.isoformat()})", small),
            ]
        )
    table = Table(
        rows, colWidths=[40 * mm, 20 * mm, 14 * mm, 16 * mm, 50 * mm, 40 * mm], repeatRows=1
    )
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story += [table, Spacer(1, 4 * mm), Paragraph("Bằng chứng đo được / measured evidence", sub)]
    for c in e.criteria:
        if c.kind != "measured" or not c.evidence:
            continue
        lines = "; ".join(
            f"{item['device_id']}: {VERDICT_VI[str(item['verdict'])]}, sẵn sàng "
            f"{_pct(item['availability_pct'])}, độ phủ {_pct(item['coverage_pct'])}, "
            f"{item['outages']} sự cố"
            for item in c.evidence
        )
        story.append(Paragraph(f"<b>{c.id}</b>: {lines}", small))
    story += [
        Spacer(1, 4 * mm),
        Paragraph("Quy tắc tính / calculation rules", sub),
        Paragraph(e.rules.vi, small),
        Paragraph(e.rules.en, small),
        Spacer(1, 4 * mm),
        Paragraph(
            f"Báo cáo số {report_id}. SHA-256 của bằng chứng (JSON chuẩn hóa): {sha256}", small
        ),
        Paragraph(
            "Kiểm tra: GET /areas/{area}/reports/{id}/verify tính lại từ dữ liệu lưu trữ.", small
        ),
    ]
    out = io.BytesIO()
    SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"Báo cáo {e.area_name}",
        author="smartarea",
    ).build(story)
    return out.getvalue()
