"""Certification reports: canonical evidence and its SHA-256, and the same content as CSV and PDF.

The hash covers the evaluation (every verdict, value, threshold and piece of evidence, the window
and the criteria set's own hash) serialised canonically: sorted keys, no spaces, UTF-8. Anyone can
recompute it from the JSON; verification recomputes the evaluation from the stored data and says
whether it still matches (a changed declaration, document or late data makes it differ), and
what changed, when and by whom, as far as the catalog knows.

The PDF is what an assessor files: the issuer and issue date, the criteria set and its legal
basis, every verdict in words (criterion titles, never code names), the policy note (thresholds
are the set's policy, not a published standard), the outages and maintenance windows of the
window with their times, a signature block, and the address where anyone can verify it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from api.availability.model import AreaAvailability
from api.criteria.evaluate import Evaluation

FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu")]
VN = ZoneInfo("Asia/Ho_Chi_Minh")
VERDICT_VI = {"pass": "Đạt", "fail": "Không đạt", "insufficient_data": "Chưa đủ dữ liệu"}
# Names of declared figures and document kinds, as an assessor reads them.
FIGURES_VI = {
    "households_fibre": "số hộ có internet cáp quang",
    "households": "số hộ gia đình",
    "adults_smartphone": "số người từ 15 tuổi dùng điện thoại thông minh",
    "adults_vneid": "số người từ 15 tuổi có định danh điện tử VNeID",
    "adults": "số người từ 15 tuổi",
    "digital_team_decision": "quyết định thành lập Tổ công nghệ số cộng đồng",
}
POLICY_NOTE = (
    "Các ngưỡng về thời gian hoạt động (độ sẵn sàng) và thời gian có số liệu (độ phủ giám sát) "
    "là chính sách do bộ tiêu chí quy định, không phải quy chuẩn có nguồn công bố; chúng được ghi "
    "cùng từng tiêu chí. / The uptime and coverage thresholds are the criteria set's policy, not "
    "a published standard."
)


@dataclass(frozen=True)
class Span:
    """An outage or maintenance window shown in the report (UTC times, a label, a note)."""

    label: str
    start: datetime
    end: datetime
    note: str = ""


@dataclass(frozen=True)
class Issue:
    """What the PDF says about its issuance, beyond the evidence the hash covers."""

    issued_by: str
    issued_at: datetime
    legal_basis: str
    verify_url: str
    issuer_name: str | None = None
    set_title: str = ""
    outages: list[Span] = field(default_factory=list)
    maintenance: list[Span] = field(default_factory=list)
    devices: dict[str, str] = field(default_factory=dict)  # device id -> display name


def issue_of(
    *,
    issued_by: str,
    issued_at: datetime,
    issuer_name: str | None,
    criteria_set: dict[str, Any],
    verify_url: str,
    devices: dict[str, str],
    availability: AreaAvailability | None,
) -> Issue:
    """The issuance facts of a stored report, with the window's outages and maintenance (read
    again from the stored data: the same data the verification recomputes from)."""
    source = criteria_set.get("source") or {}
    title = criteria_set.get("title") or {}
    basis = f"{source.get('document', '—')} ({_date(source.get('date'))})"
    if source.get("note"):
        basis += f"; {source['note']}"
    outages: list[Span] = []
    maintenance: list[Span] = []
    if availability is not None:
        for device in availability.devices:
            label = devices.get(device.device_id, device.device_id)
            outages += [Span(label, o.start, o.end) for o in device.outages]
            maintenance += [
                Span(label, w.start, w.end, getattr(w, "reason", None) or "")
                for w in device.maintenance
            ]
        maintenance += [
            Span("Cả khu / whole area", w.start, w.end, getattr(w, "reason", None) or "")
            for w in availability.maintenance
        ]
    return Issue(
        issued_by=issued_by,
        issued_at=issued_at,
        legal_basis=basis,
        verify_url=verify_url,
        issuer_name=issuer_name,
        set_title=str(title.get("vi", "")),
        outages=sorted(outages, key=lambda o: o.start),
        maintenance=sorted(maintenance, key=lambda m: m.start),
        devices=devices,
    )


def _date(value: object) -> str:
    text = str(value or "—")
    parts = text.split("-")
    return f"{parts[2]}/{parts[1]}/{parts[0]}" if len(parts) == 3 else text


def plain(text: str) -> str:
    """Vietnamese text without code names of figures and documents, with decimal commas."""
    text = text.replace(" (installed_on)", "")
    for code, words in FIGURES_VI.items():
        text = re.sub(rf"'?\b{code}\b'?", words, text)
    return re.sub(r"(\d)\.(\d)", r"\1,\2", text)


def _vn(value: datetime) -> str:
    return f"{value.astimezone(VN):%H:%M %d/%m/%Y}"


def _lasted(start: datetime, end: datetime) -> str:
    s = max(0, round((end - start).total_seconds()))
    if s < 60:
        return f"{s} giây"
    if s < 3600:
        return f"{s // 60} phút"
    if s < 86400:
        return f"{s // 3600} giờ {s % 3600 // 60} phút"
    return f"{s // 86400} ngày {s % 86400 // 3600} giờ"


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


class Cause(BaseModel):
    """One recorded change since the report was issued that can explain a difference."""

    what: str = Field(description="declaration, document, maintenance or data")
    at: datetime | None = Field(description="when it was recorded (null: not recorded)")
    by: str | None = Field(description="who recorded it (null: not recorded)")
    detail: str = Field(description="what it says, in Vietnamese")


class Change(BaseModel):
    criterion: str
    title: dict[str, str] = Field(description="the criterion's title, vi and en")
    verdict_before: str | None
    verdict_after: str | None
    value_before: float | None
    value_after: float | None
    causes: list[Cause] = Field(
        description="changes recorded after the issue that bear on this criterion; for measured "
        "criteria without one, late data from an agent's outbox is the remaining explanation"
    )


@dataclass(frozen=True)
class Record:
    """A catalog row that may have changed a verdict: what, when, by whom, and for what."""

    what: str  # declaration, document, maintenance
    at: datetime
    by: str
    detail: str
    key: str  # the figure, document kind, or "" (maintenance: every measured criterion)


def changes(
    stored: dict[str, Any], now: Evaluation, issued_at: datetime, records: list[Record]
) -> list[Change]:
    """Per differing criterion: before and after, and the records made after the issue that can
    explain it (a declaration of one of its figures, a document of its kind, a maintenance
    window for a measured one); a measured criterion with none changed by late data."""
    fresh = json.loads(canonical(now))
    before = {c["id"]: c for c in stored.get("criteria", [])}
    later = [r for r in records if r.at > issued_at]
    out: list[Change] = []
    for c in fresh["criteria"]:
        old = before.get(c["id"])
        if old == c:
            continue
        both = json.dumps([c, old], ensure_ascii=False)
        keys = set(re.findall(r'"figure": "([a-z0-9_]+)"', both))  # declared figures
        keys |= {w for w in re.findall(r"[a-z0-9_]+", both) if "_" in w}  # document kinds
        causes = [
            Cause(what=r.what, at=r.at, by=r.by, detail=r.detail)
            for r in later
            if (r.what == "maintenance" and c["kind"] == "measured")
            or (r.what != "maintenance" and r.key in keys)
        ]
        if not causes and c["kind"] == "measured":
            causes = [
                Cause(
                    what="data",
                    at=None,
                    by=None,
                    detail="số liệu đo đến muộn (máy trạm gửi bù sau khi mất kết nối) hoặc dữ "
                    "liệu đo của kỳ đã thay đổi",
                )
            ]
        out.append(
            Change(
                criterion=c["id"],
                title=c["title"],
                verdict_before=old["verdict"] if old else None,
                verdict_after=c["verdict"],
                value_before=old["value"] if old else None,
                value_after=c["value"],
                causes=causes,
            )
        )
    return out


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
    if value is None:
        return "—"
    return (f"{value:g}" if isinstance(value, float | int) else str(value)).replace(".", ",") + " %"


def _num(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def _escape(text: str) -> str:
    """Paragraph text is a small markup language: names with & or < must stay text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _spans(
    title: str, spans: list[Span], small: ParagraphStyle, sub: ParagraphStyle, names: bool = False
) -> list[Any]:
    out: list[Any] = [Spacer(1, 3 * mm), Paragraph(title, sub)]
    if not spans:
        out.append(Paragraph("Không có. / None.", small))
        return out
    rows: list[list[Any]] = [
        [Paragraph(h, small) for h in ("Thiết bị / phạm vi", "Từ", "Đến", "Kéo dài", "Ghi chú")]
    ]
    for span in spans:
        rows.append(
            [
                Paragraph(_escape(span.label), small),
                Paragraph(_vn(span.start), small),
                Paragraph(_vn(span.end), small),
                Paragraph(_lasted(span.start, span.end), small),
                Paragraph(_escape(span.note), small),
            ]
        )
    table = Table(rows, colWidths=[50 * mm, 30 * mm, 30 * mm, 24 * mm, 46 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    out.append(table)
    return out


def _signatures(issue: Issue, e: Evaluation, body: ParagraphStyle, sub: ParagraphStyle) -> Table:
    issuer = issue.issuer_name or issue.issued_by
    left = [
        Paragraph("NGƯỜI LẬP BÁO CÁO", sub),
        Paragraph("(ký, ghi rõ họ tên)", body),
        Spacer(1, 18 * mm),
        Paragraph(_escape(issuer), body),
    ]
    right = [
        Paragraph(f"XÁC NHẬN CỦA UBND {_escape(e.commune.upper())}", sub),
        Paragraph("(ký, đóng dấu)", body),
        Spacer(1, 18 * mm),
        Paragraph("", body),
    ]
    table = Table([[left, right]], colWidths=[90 * mm, 90 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


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


def to_pdf(
    evaluation: Evaluation, sha256: str, report_id: int, issue: Issue | None = None
) -> bytes:
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
            f"Kỳ đánh giá / window: {_vn(e.window_from)} → {_vn(e.window_to)} "
            "(giờ Việt Nam, UTC+7)",
            body,
        ),
    ]
    set_line = f"{e.criteria_set}, phiên bản {e.criteria_set_version}"
    if issue is not None and issue.set_title:
        set_line = f"{_escape(issue.set_title)} (mã {set_line})"
    story.append(Paragraph(f"Bộ tiêu chí / criteria set: {set_line}", body))
    if issue is not None:
        issuer = issue.issuer_name or issue.issued_by
        if issue.issuer_name and issue.issuer_name != issue.issued_by:
            issuer = f"{issue.issuer_name} ({issue.issued_by})"
        story += [
            Paragraph(f"Căn cứ / legal basis: {_escape(issue.legal_basis)}", body),
            Paragraph(f"Người lập / issued by: {_escape(issuer)}", body),
            Paragraph(f"Ngày lập / issued on: {_vn(issue.issued_at)} (giờ Việt Nam)", body),
        ]
    story += [
        Paragraph(f"Kết luận / overall: <b>{VERDICT_VI[e.overall]}</b>", body),
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
                Paragraph(_escape(c.title.vi), small),
                Paragraph(VERDICT_VI[c.verdict], small),
                Paragraph("" if c.value is None else _num(c.value), small),
                Paragraph("" if c.threshold is None else _num(c.threshold), small),
                Paragraph(_escape(plain(c.explanation.vi)), small),
                Paragraph(
                    _escape(
                        f"{c.source.document} ({c.source.date:%d/%m/%Y})"
                        + (f"; {c.source.note}" if c.source.note else "")
                    ),
                    small,
                ),
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
    names = issue.devices if issue is not None else {}
    for c in e.criteria:
        if c.kind != "measured" or not c.evidence:
            continue
        lines = "; ".join(
            f"{_escape(names.get(str(item['device_id']), str(item['device_id'])))}: "
            f"{VERDICT_VI[str(item['verdict'])]}, hoạt động tốt "
            f"{_pct(item['availability_pct'])} thời gian, có số liệu "
            f"{_pct(item['coverage_pct'])}, {item['outages']} lần hỏng"
            for item in c.evidence
        )
        story.append(Paragraph(f"<b>{_escape(c.title.vi)}</b>: {lines}", small))
    story.append(Spacer(1, 3 * mm))
    story.append(Paragraph("Ghi chú về ngưỡng / policy note", sub))
    story.append(Paragraph(POLICY_NOTE, small))
    if issue is not None:
        story += _spans("Các lần hỏng trong kỳ / outages", issue.outages, small, sub, names=True)
        story += _spans("Khung bảo trì / maintenance windows", issue.maintenance, small, sub)
    story += [
        Spacer(1, 4 * mm),
        Paragraph("Quy tắc tính / calculation rules", sub),
        Paragraph(_escape(plain(e.rules.vi)), small),
        Paragraph(_escape(e.rules.en), small),
        Spacer(1, 4 * mm),
        Paragraph(
            f"Báo cáo số {report_id}. SHA-256 của bằng chứng (JSON chuẩn hóa): {sha256}", small
        ),
    ]
    if issue is not None:
        story.append(
            Paragraph(
                "Kiểm tra báo cáo (tính lại từ dữ liệu lưu trữ, cần đăng nhập): "
                f"{_escape(issue.verify_url)}",
                small,
            )
        )
        story += [Spacer(1, 8 * mm), _signatures(issue, e, body, sub)]
    else:
        story.append(
            Paragraph(
                "Kiểm tra: GET /areas/{area}/reports/{id}/verify tính lại từ dữ liệu lưu trữ.",
                small,
            )
        )
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
