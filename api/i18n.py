"""User-facing messages: Vietnamese first, English when the caller asks for it (Accept-Language)."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "area_not_found": {
        "vi": "Không tìm thấy khu dân cư này trong phạm vi của bạn.",
        "en": "No such residential area within your scope.",
    },
    "unauthorized": {
        "vi": "Cần đăng nhập: thiếu hoặc sai mã truy cập.",
        "en": "Authentication required: missing or wrong access token.",
    },
    "forbidden": {
        "vi": "Vai trò của bạn không được phép làm việc này.",
        "en": "Your role is not allowed to do this.",
    },
    "commune_not_found": {
        "vi": "Không tìm thấy xã/phường này trong phạm vi của bạn.",
        "en": "No such commune within your scope.",
    },
    "login_failed": {
        "vi": "Sai tên đăng nhập hoặc mật khẩu.",
        "en": "Wrong user name or password.",
    },
    "login_locked": {
        "vi": "Đăng nhập sai quá nhiều lần. Hãy thử lại sau {seconds} giây.",
        "en": "Too many failed logins. Try again in {seconds} seconds.",
    },
    "bad_catalog_file": {
        "vi": "Tệp danh mục không hợp lệ: ",
        "en": "The catalog file is not valid: ",
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
