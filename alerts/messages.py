"""What a notification says: Vietnamese first, English for contacts who asked for it.

One message per area and grouping window lists everything that happened there, so eighteen
cameras and their fibre make one message, not nineteen. It reads as a person would write it:
place names (area, commune, province) and device names from the catalog, never probe codes
("black" is "hình ảnh bị đen"), times with their date in Vietnam time, how long an outage lasted,
and a link to the area's page. An outage that began and ended inside one grouping window is
told as what it was, a short outage now over, not as an alarm.
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
class Names:
    """Display names from the catalog, and the dashboard page of the area (None: unknown)."""

    area: str | None = None
    commune: str | None = None
    province: str | None = None
    devices: dict[str, str] = field(default_factory=dict)
    link: str | None = None


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
        "speaker": "Loa truyền thanh",
        "pc": "Máy tính nhà văn hóa",
    },
    "en": {
        "camera": "Camera",
        "uplink": "Fibre uplink",
        "wifi": "Wi-Fi",
        "speaker": "Loudspeaker",
        "pc": "Cultural-house PC",
    },
}
_STATUS = {
    "vi": {
        "up": "hoạt động tốt",
        "degraded": "suy giảm",
        "down": "hỏng",
        "unknown": "không rõ",
    },
    "en": {"up": "up", "degraded": "degraded", "down": "down", "unknown": "unknown"},
}
# The probes' reason codes in plain words (the dashboard says the same: api/ui/strings.py).
_REASON = {
    "vi": {
        "refused": "thiết bị từ chối kết nối (mất điện hoặc mất mạng?)",
        "timeout": "thiết bị không trả lời",
        "http_401": "sai mật khẩu camera",
        "http_403": "camera không cho truy cập",
        "http_404": "sai đường dẫn ảnh của camera",
        "black": "hình ảnh bị đen",
        "frozen": "hình ảnh bị đứng",
        "blurred": "hình ảnh bị mờ",
        "covered": "ống kính bị che",
        "moved": "camera bị xoay lệch hướng",
        "noisy": "hình ảnh bị nhiễu (hạt, sọc)",
        "glare": "hình ảnh bị lóa sáng",
        "colour_cast": "hình ảnh bị sai màu",
        "ir_stuck": "camera không chuyển chế độ ngày/đêm (kẹt bộ lọc hồng ngoại)",
        "dark": "trời tối hoặc thiếu sáng",
        "loss": "mất gói tin",
        "latency": "độ trễ cao",
        "partial": "một phần đích không trả lời",
        "lan_fault": "lỗi mạng nội bộ (máy tính, cáp, bộ định tuyến)",
        "uplink_fault": "đứt cáp quang hoặc lỗi thiết bị đầu cuối",
        "upstream_fault": "nhà mạng không ra được Internet",
        "stale": "không có báo cáo gần đây",
        "dns": "không phân giải được tên miền",
        "tls": "lỗi chứng chỉ bảo mật",
        "probe_error": "máy trạm gặp lỗi khi kiểm tra thiết bị",
    },
    "en": {
        "refused": "the device refuses connections (power or network down?)",
        "timeout": "the device does not answer",
        "http_401": "the camera refused its password",
        "http_403": "the camera denies access",
        "http_404": "wrong snapshot address on the camera",
        "black": "the picture is black",
        "frozen": "the picture is frozen",
        "blurred": "the picture is blurred",
        "covered": "the lens is covered",
        "moved": "the camera has been turned",
        "noisy": "the picture is noisy (snow, stripes)",
        "glare": "glare or a light spot in the picture",
        "colour_cast": "the picture has a colour cast",
        "ir_stuck": "the day/night switch is stuck (IR-cut filter)",
        "dark": "low light or night",
        "loss": "packet loss",
        "latency": "high latency",
        "partial": "some targets do not answer",
        "lan_fault": "local network fault (PC, cable, router)",
        "uplink_fault": "fibre line or terminal fault",
        "upstream_fault": "the provider has no internet",
        "stale": "no recent report",
        "dns": "name resolution fails",
        "tls": "certificate error",
        "probe_error": "the agent failed while checking the device",
    },
}
_TEXT = {
    "vi": {
        "subject_problem": "[Cảnh báo] {area}: {n} sự cố",
        "subject_over": "[Đã tự hết] {area}: {n} sự cố ngắn, nay đã hoạt động lại",
        "subject_recovery": "[Đã khôi phục] {area}",
        "subject_flapping": "[Chập chờn] {area}",
        "subject_flapping_end": "[Hết chập chờn] {area}",
        "subject_escalation": "[CHƯA CÓ NGƯỜI NHẬN] {area}: {n} sự cố",
        "unreachable": "Mất liên lạc với khu (máy trạm ở nhà văn hóa không gửi báo cáo) từ {at}",
        "unreachable_back": "Đã liên lạc lại với khu lúc {at}",
        "unreachable_over": "Mất liên lạc với khu từ {at} đến {end} ({lasted}), đã liên lạc lại",
        "device": "{what}: {status}, {reason}, từ {at}",
        "device_plain": "{what}: {status} từ {at}",
        "device_back": "{what}: hoạt động trở lại lúc {at}",
        "device_over": "{what}: {status} ({reason}) từ {at} đến {end} ({lasted}), nay đã tốt",
        "flapping": "{what}: chập chờn (đổi trạng thái liên tục) từ {at}",
        "flapping_end": "{what}: hết chập chờn lúc {at}, trạng thái cuối: {status}",
        "escalation": "Chưa có ai nhận xử lý các sự cố sau:",
        "link": "Xem chi tiết: {link}",
        "footer": "Số sự cố trên bảng sự cố: {ids}",
        "at": "{time} ngày {date}",
        "s": "{n} giây",
        "m": "{n} phút",
        "h": "{n} giờ",
        "d": "{n} ngày",
        "other_reason": "lỗi kỹ thuật khác",
    },
    "en": {
        "subject_problem": "[Alert] {area}: {n} incident(s)",
        "subject_over": "[Over] {area}: {n} short incident(s), working again",
        "subject_recovery": "[Recovered] {area}",
        "subject_flapping": "[Flapping] {area}",
        "subject_flapping_end": "[Flapping ended] {area}",
        "subject_escalation": "[NOT ACKNOWLEDGED] {area}: {n} incident(s)",
        "unreachable": "Area out of contact (the cultural-house agent sends no reports) since {at}",
        "unreachable_back": "Area in contact again at {at}",
        "unreachable_over": "Area out of contact from {at} to {end} ({lasted}), in contact again",
        "device": "{what}: {status}, {reason}, since {at}",
        "device_plain": "{what}: {status} since {at}",
        "device_back": "{what}: working again at {at}",
        "device_over": "{what}: {status} ({reason}) from {at} to {end} ({lasted}), working again",
        "flapping": "{what}: flapping (changing state repeatedly) since {at}",
        "flapping_end": "{what}: stopped flapping at {at}, final state: {status}",
        "escalation": "Nobody has acknowledged these incidents:",
        "link": "Details: {link}",
        "footer": "Incident numbers on the board: {ids}",
        "at": "{time} on {date}",
        "s": "{n} s",
        "m": "{n} min",
        "h": "{n} h",
        "d": "{n} d",
        "other_reason": "another technical fault",
    },
}


def _at(value: datetime, lang: str) -> str:
    local = value.astimezone(VN)
    return _TEXT[lang]["at"].format(time=f"{local:%H:%M:%S}", date=f"{local:%d/%m/%Y}")


def _lasted(seconds: float, lang: str) -> str:
    t = _TEXT[lang]
    s = max(0, round(seconds))
    if s < 60:
        return t["s"].format(n=s)
    m, h, d = s // 60, s // 3600, s // 86400
    if m < 60:
        return t["m"].format(n=m)
    if h < 24:
        return t["h"].format(n=h) + (" " + t["m"].format(n=m % 60) if m % 60 else "")
    return t["d"].format(n=d) + (" " + t["h"].format(n=h % 24) if h % 24 else "")


def reason_text(reason: str | None, lang: str) -> str | None:
    """A probe's reason code in words; a code we have no words for is not shown raw."""
    if not reason:
        return None
    return _REASON[lang].get(reason) or _TEXT[lang]["other_reason"]


def _what(item: Item, lang: str, names: Names) -> str:
    kind = _KIND[lang].get(item.device_kind or "", item.device_kind or "")
    if not item.device_id:
        return kind
    name = names.devices.get(item.device_id)
    if name is None:
        return f"{kind} {item.device_id}".strip()
    return name if name.lower().startswith(kind.lower()) else f"{kind} {name}".strip()


def _line(item: Item, lang: str, names: Names, ended: Item | None = None) -> str:
    t = _TEXT[lang]
    values = {
        "at": _at(item.at, lang),
        "what": _what(item, lang, names),
        "status": _STATUS[lang].get(item.severity or "", _STATUS[lang]["down"]),
        "reason": reason_text(item.reason, lang) or "",
    }
    if ended is not None:
        values["end"] = _at(ended.at, lang)
        values["lasted"] = _lasted((ended.at - item.at).total_seconds(), lang)
    if item.kind == "area_unreachable":
        if ended is not None:
            key = "unreachable_over"
        else:
            key = "unreachable_back" if item.purpose == "recovery" else "unreachable"
    elif item.purpose == "flapping":
        key = "flapping"
    elif item.purpose == "flapping_end":
        key = "flapping_end"
        values["status"] = _STATUS[lang].get(item.final_status or "", item.final_status or "")
    elif item.purpose == "recovery":
        key = "device_back"
    elif ended is not None:
        key = "device_over" if item.reason else "device_plain"
    else:
        key = "device" if item.reason else "device_plain"
    return "• " + t[key].format(**values)


def place(message: Message, names: Names) -> str:
    """ "Khu 6, Xã Sơn Vi, Tỉnh Phú Thọ": the area as people name it (its id if unknown)."""
    area = names.area or message.area_name or message.area_id
    return ", ".join(p for p in (area, names.commune, names.province) if p)


def render(message: Message, language: str, names: Names | None = None) -> tuple[str, str]:
    """(subject, body) in ``language`` ("vi" or "en"; anything else falls back to English)."""
    lang = language if language in _TEXT else "en"
    names = names or Names()
    t = _TEXT[lang]
    area = place(message, names)
    # A problem and its recovery in the same message: one line, "from … to … (40 s)".
    recoveries = {
        i.incident_id: i
        for i in message.items
        if i.purpose == "recovery" and not message.escalation
    }
    problems = [i for i in message.items if i.purpose in ("problem", "flapping", "escalation")]
    over = [i for i in problems if i.purpose == "problem" and i.incident_id in recoveries]
    n = len(problems)
    purpose = message.purpose
    if purpose == "problem" and len(over) == n:
        purpose = "over"
    subject = t[f"subject_{purpose}"].format(area=area, n=n)
    lines = [subject]
    if message.escalation:
        lines.append(t["escalation"])
    told = {i.incident_id for i in over}
    for item in message.items:
        if item.purpose == "recovery" and item.incident_id in told:
            continue
        ended = recoveries.get(item.incident_id) if item in over else None
        lines.append(_line(item, lang, names, ended))
    if names.link:
        lines.append(t["link"].format(link=names.link))
    ids = ", ".join(f"#{i}" for i in sorted({item.incident_id for item in message.items}))
    lines.append(t["footer"].format(ids=ids))
    return subject, "\n".join(lines)


def payload(message: Message, language: str, names: Names | None = None) -> bytes:
    """The webhook body: the facts as JSON, plus the rendered text."""
    names = names or Names()
    subject, text = render(message, language, names)
    body = {
        "schema": "smartarea.alert/1",
        "message_id": message.id,
        "purpose": message.purpose,
        "area_id": message.area_id,
        "area_name": names.area or message.area_name,
        "commune_id": message.commune_id,
        "commune_name": names.commune,
        "province_name": names.province,
        "link": names.link,
        "subject": subject,
        "text": text,
        "items": [
            {
                **asdict(i),
                "at": i.at.isoformat(),
                "device_name": names.devices.get(i.device_id or ""),
                "reason_text": reason_text(i.reason, language if language in _TEXT else "en"),
            }
            for i in message.items
        ],
    }
    return json.dumps(body, ensure_ascii=False).encode()
