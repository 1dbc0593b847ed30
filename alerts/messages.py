"""What a notification says: Vietnamese first, English for contacts who asked for it.

One message per area and grouping window lists everything that happened there, so eighteen
cameras and their fibre make one message, not nineteen. Times are shown in Vietnam time.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

VN = ZoneInfo("Asia/Ho_Chi_Minh")
Purpose = Literal["problem", "recovery", "flapping", "flapping_end", "escalation"]


@dataclass(frozen=True, slots=True)
class Item:
    purpose: Purpose
    incident_id: int
    kind: str  # device_down, area_unreachable, flapping
    at: datetime
    device_id: str | None = None
    device_kind: str | None = None
    severity: str | None = None
    reason: str | None = None
    final_status: str | None = None


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    area_id: str
    area_name: str | None
    commune_id: str | None
    items: tuple[Item, ...]
    escalation: bool = False
    incident_ids: tuple[int, ...] = field(default=())

    @property
    def purpose(self) -> str:
        if self.escalation:
            return "escalation"
        purposes = {i.purpose for i in self.items}
        for p in ("problem", "flapping", "flapping_end", "recovery"):
            if p in purposes:
                return p
        return "recovery"


_KIND = {
    "vi": {
        "camera": "Camera",
        "uplink": "Đường truyền cáp quang",
        "wifi": "Wi-Fi",
        "speaker": "Loa",
        "pc": "Máy tính",
    },
    "en": {
        "camera": "Camera",
        "uplink": "Fibre uplink",
        "wifi": "Wi-Fi",
        "speaker": "Loudspeaker",
        "pc": "Computer",
    },
}
_STATUS = {
    "vi": {"up": "hoạt động", "degraded": "suy giảm", "down": "hỏng", "unknown": "không rõ"},
    "en": {"up": "up", "degraded": "degraded", "down": "down", "unknown": "unknown"},
}
_TEXT = {
    "vi": {
        "subject_problem": "[Cảnh báo] {area}: {n} sự cố",
        "subject_recovery": "[Đã khôi phục] {area}",
        "subject_flapping": "[Chập chờn] {area}",
        "subject_flapping_end": "[Hết chập chờn] {area}",
        "subject_escalation": "[CHƯA CÓ NGƯỜI NHẬN] {area}: {n} sự cố",
        "unreachable": "Mất liên lạc với khu (máy trạm không gửi báo cáo) từ {at}",
        "unreachable_back": "Đã liên lạc lại với khu lúc {at}",
        "device": "{kind} {device}: {status} ({reason}) từ {at}",
        "device_back": "{kind} {device}: hoạt động trở lại lúc {at}",
        "flapping": "{kind} {device}: chập chờn (đổi trạng thái liên tục) từ {at}",
        "flapping_end": "{kind} {device}: hết chập chờn lúc {at}, trạng thái cuối: {status}",
        "escalation": "Chưa có ai nhận xử lý các sự cố sau:",
        "footer": "Mã sự cố: {ids}",
    },
    "en": {
        "subject_problem": "[Alert] {area}: {n} incident(s)",
        "subject_recovery": "[Recovered] {area}",
        "subject_flapping": "[Flapping] {area}",
        "subject_flapping_end": "[Flapping ended] {area}",
        "subject_escalation": "[NOT ACKNOWLEDGED] {area}: {n} incident(s)",
        "unreachable": "Area unreachable (its agent sends no reports) since {at}",
        "unreachable_back": "Area reachable again at {at}",
        "device": "{kind} {device}: {status} ({reason}) since {at}",
        "device_back": "{kind} {device}: back up at {at}",
        "flapping": "{kind} {device}: flapping (changing state repeatedly) since {at}",
        "flapping_end": "{kind} {device}: stopped flapping at {at}, final state: {status}",
        "escalation": "Nobody has acknowledged these incidents:",
        "footer": "Incident ids: {ids}",
    },
}


def _at(value: datetime) -> str:
    return value.astimezone(VN).strftime("%H:%M %d/%m/%Y")


def _line(item: Item, lang: str) -> str:
    t = _TEXT[lang]
    kind = _KIND[lang].get(item.device_kind or "", item.device_kind or "")
    status = _STATUS[lang].get(item.severity or "", item.severity or "")
    final = _STATUS[lang].get(item.final_status or "", item.final_status or "")
    values = {
        "at": _at(item.at),
        "kind": kind,
        "device": item.device_id or "",
        "status": status,
        "reason": item.reason or "",
    }
    if item.kind == "area_unreachable":
        key = "unreachable_back" if item.purpose == "recovery" else "unreachable"
    elif item.purpose == "flapping":
        key = "flapping"
    elif item.purpose == "flapping_end":
        key, values["status"] = "flapping_end", final
    elif item.purpose == "recovery":
        key = "device_back"
    else:
        key = "device"
    return "• " + t[key].format(**values)


def render(message: Message, language: str) -> tuple[str, str]:
    """(subject, body) in ``language`` ("vi" or "en"; anything else falls back to English)."""
    lang = language if language in _TEXT else "en"
    t = _TEXT[lang]
    area = message.area_name or message.area_id
    if message.area_name and message.area_name != message.area_id:
        area = f"{message.area_name} ({message.area_id})"
    n = sum(1 for i in message.items if i.purpose in ("problem", "flapping", "escalation"))
    subject = t[f"subject_{message.purpose}"].format(area=area, n=n)
    lines = [subject]
    if message.escalation:
        lines.append(t["escalation"])
    lines += [_line(item, lang) for item in message.items]
    ids = ", ".join(f"#{i}" for i in sorted({item.incident_id for item in message.items}))
    lines.append(t["footer"].format(ids=ids))
    return subject, "\n".join(lines)


def payload(message: Message, language: str) -> bytes:
    """The webhook body: the facts as JSON, plus the rendered text."""
    subject, text = render(message, language)
    body = {
        "schema": "smartarea.alert/1",
        "message_id": message.id,
        "purpose": message.purpose,
        "area_id": message.area_id,
        "area_name": message.area_name,
        "commune_id": message.commune_id,
        "subject": subject,
        "text": text,
        "items": [{**asdict(i), "at": i.at.isoformat()} for i in message.items],
    }
    return json.dumps(body, ensure_ascii=False).encode()
