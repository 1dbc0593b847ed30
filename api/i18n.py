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
    "account_short_password": {
        "vi": "Mật khẩu cần ít nhất {n} ký tự.",
        "en": "A password needs at least {n} characters.",
    },
    "account_needs_scope": {
        "vi": "Vai trò {role} cần một phạm vi: ít nhất một xã hoặc một khu dân cư.",
        "en": "A {role} needs a scope: at least one commune or area.",
    },
    "account_leader_areas_only": {
        "vi": "Trưởng khu chỉ được giao khu dân cư, không giao cả xã.",
        "en": "A leader is scoped to areas, not communes.",
    },
    "account_unknown_commune": {
        "vi": "Không có xã/phường '{id}' trong danh mục.",
        "en": "Unknown commune '{id}'.",
    },
    "account_unknown_area": {
        "vi": "Không có khu dân cư '{id}' trong danh mục.",
        "en": "Unknown area '{id}'.",
    },
    "account_user_exists": {
        "vi": "Tài khoản '{name}' đã có.",
        "en": "User '{name}' exists already.",
    },
    "account_not_yourself": {
        "vi": "Bạn không thể tự đổi vai trò hay tự khóa tài khoản của mình.",
        "en": "You cannot change your own role or deactivate yourself.",
    },
    "password_wrong": {
        "vi": "Mật khẩu hiện tại không đúng.",
        "en": "The current password is wrong.",
    },
    "account_unknown_user": {
        "vi": "Không có tài khoản '{name}'.",
        "en": "Unknown user '{name}'.",
    },
    "bad_catalog_file": {
        "vi": "Tệp danh mục không hợp lệ: ",
        "en": "The catalog file is not valid: ",
    },
    "database_unavailable": {
        "vi": "Cơ sở dữ liệu đo lường tạm thời không truy cập được.",
        "en": "The measurement database is temporarily unavailable.",
    },
    "catalog_unavailable": {
        "vi": "Cơ sở dữ liệu danh mục đang bận hoặc tạm thời không truy cập được. Hãy thử lại sau "
        "ít giây.",
        "en": "The catalog database is busy or temporarily unavailable. Try again in a few "
        "seconds.",
    },
    "catalog_conflict": {
        "vi": "Yêu cầu xung đột với dữ liệu hiện có trong danh mục (một mục cùng khóa vừa được "
        "ghi, hoặc mục được tham chiếu không còn): hãy tải lại rồi thử lại.",
        "en": "The request conflicts with the catalog's content (an entry with the same key was "
        "just written, or one it refers to is gone): reload and try again.",
    },
    "agent_not_found": {
        "vi": "Không tìm thấy máy trạm (agent) này trong khu dân cư.",
        "en": "No such agent in this residential area.",
    },
    "agent_offline": {
        "vi": "Máy trạm đang ngoại tuyến (từ {since}): lệnh sẽ không đến được. Hãy kiểm tra "
        "nguồn điện và đường truyền tại nhà văn hoá.",
        "en": "The agent is offline (since {since}): the command would not reach it. Check the "
        "power and the line at the cultural house.",
    },
    "agent_never_connected": {
        "vi": "Máy trạm này chưa từng kết nối: lệnh sẽ không đến được.",
        "en": "This agent has never connected: the command would not reach it.",
    },
    "command_too_soon": {
        "vi": "Máy trạm vừa nhận lệnh kiểm tra; hãy thử lại sau {wait} giây.",
        "en": "The agent was just asked to probe; try again in {wait} s.",
    },
    "broker_unavailable": {
        "vi": "Không gửi được lệnh: máy chủ MQTT tạm thời không truy cập được. Hãy thử lại sau.",
        "en": "The command could not be sent: the MQTT broker is temporarily unreachable. "
        "Try again later.",
    },
    "body_too_large": {
        "vi": "Nội dung gửi lên quá lớn: tối đa {limit} byte (giới hạn đặt bằng {variable}).",
        "en": "The request body is too large: at most {limit} bytes (set by {variable}).",
    },
    "metric_not_numeric": {
        "vi": "Chỉ số '{metric}' không phải là số ({kind}) nên không vẽ biểu đồ được.",
        "en": "Metric '{metric}' is not a number ({kind}): it cannot be charted.",
    },
    "query_refused": {
        "vi": "Cơ sở dữ liệu đo lường từ chối truy vấn này: ",
        "en": "The measurement database refused this query: ",
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
