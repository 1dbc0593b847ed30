"""User-facing messages: Vietnamese first, English when the caller asks for it (Accept-Language)."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "area_not_found": {
        "vi": "Không có dữ liệu của khu dân cư này trong thời gian gần đây.",
        "en": "No recent data for this residential area.",
    },
    "unauthorized": {
        "vi": "Cần đăng nhập: thiếu hoặc sai mã truy cập.",
        "en": "Authentication required: missing or wrong access token.",
    },
    "database_unavailable": {
        "vi": "Cơ sở dữ liệu đo lường tạm thời không truy cập được.",
        "en": "The measurement database is temporarily unavailable.",
    },
}


def language(accept_language: str | None) -> str:
    """'en' when English is preferred over Vietnamese, otherwise 'vi'."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("vi"):
            return "vi"
        if tag.startswith("en"):
            return "en"
    return "vi"


def text(key: str, accept_language: str | None) -> str:
    return MESSAGES[key][language(accept_language)]
