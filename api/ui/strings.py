"""Every word the dashboard shows, Vietnamese first, English second: one catalogue, one place.

Templates read ``s.<key>``; the script reads the same catalogue, embedded in each page as JSON.
"""

from __future__ import annotations

LANGUAGES = ("vi", "en")

CATALOGUE: dict[str, tuple[str, str]] = {
    # (Vietnamese, English)
    "app_name": ("Giám sát khu dân cư thông minh", "Smart residential area monitoring"),
    "skip": ("Bỏ qua đến nội dung", "Skip to content"),
    "other_language": ("English", "Tiếng Việt"),
    "other_language_label": ("Xem bằng tiếng Anh", "Xem bằng tiếng Việt (Vietnamese)"),
    "nav": ("Điều hướng chính", "Main navigation"),
    "nav_overview": ("Tổng quan", "Overview"),
    "nav_my_areas": ("Khu của tôi", "My areas"),
    "nav_catalog": ("Tải danh mục (YAML)", "Download catalog (YAML)"),
    "nav_api": ("Tài liệu API", "API documentation"),
    "logout": ("Đăng xuất", "Log out"),
    "nav_password": ("Đổi mật khẩu", "Change password"),
    "signed_in_as": ("Đang đăng nhập:", "Signed in as:"),
    "role_admin": ("quản trị", "administrator"),
    "role_auditor": ("kiểm định viên", "auditor"),
    "role_technician": ("kỹ thuật viên", "technician"),
    "role_leader": ("trưởng khu", "area leader"),
    # login
    "login_title": ("Đăng nhập", "Log in"),
    "username": ("Tên đăng nhập", "User name"),
    "password": ("Mật khẩu", "Password"),
    "login_button": ("Đăng nhập", "Log in"),
    "login_wait": ("Đang đăng nhập…", "Logging in…"),
    "login_failed": ("Sai tên đăng nhập hoặc mật khẩu.", "Wrong user name or password."),
    "session_ended": (
        "Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.",
        "Your session has ended. Please log in again.",
    ),
    "password_changed": (
        "Đã đổi mật khẩu. Hãy đăng nhập lại bằng mật khẩu mới.",
        "Your password was changed. Please log in with the new one.",
    ),
    # password
    "password_title": ("Đổi mật khẩu", "Change password"),
    "password_current": ("Mật khẩu hiện tại", "Current password"),
    "password_new": ("Mật khẩu mới", "New password"),
    "password_confirm": ("Nhập lại mật khẩu mới", "New password again"),
    "password_rule": (
        "Ít nhất 10 ký tự; nên dùng một câu dễ nhớ. Mọi phiên đăng nhập của bạn sẽ kết thúc.",
        "At least 10 characters; a memorable sentence is best. All your sessions will end.",
    ),
    "password_button": ("Đổi mật khẩu", "Change password"),
    "password_mismatch": ("Hai mật khẩu mới không giống nhau.", "The two new passwords differ."),
    "password_short": (
        "Mật khẩu mới cần ít nhất 10 ký tự.",
        "The new password needs at least 10 characters.",
    ),
    "password_wrong": ("Mật khẩu hiện tại không đúng.", "The current password is wrong."),
    "needs_script": (
        "Trang này cần bật JavaScript trong trình duyệt.",
        "This page needs JavaScript enabled in the browser.",
    ),
    # overview
    "overview_title": ("Tổng quan các khu dân cư", "Overview of residential areas"),
    "search_label": (
        "Tìm theo tên (có hoặc không dấu)",
        "Search by name (with or without accents)",
    ),
    "search_placeholder": ("ví dụ: son vi", "e.g. son vi"),
    "filter_label": ("Chỉ hiện", "Show only"),
    "filter_all": ("Tất cả các khu", "All areas"),
    "filter_problems": (
        "Khu có thiết bị hỏng hoặc mất liên lạc",
        "Areas with faults or out of contact",
    ),
    "no_match": ("Không có khu nào khớp.", "No area matches."),
    "no_areas": ("Bạn chưa được giao khu dân cư nào.", "No residential area is assigned to you."),
    "areas_unreachable": ("khu mất liên lạc", "unreachable area(s)"),
    "unreachable": ("Mất liên lạc với khu", "Out of contact"),
    "since_time": ("từ {n}", "since {n}"),
    "since_start": ("Từ {n}", "Since {n}"),
    "areas_count": ("khu", "areas"),
    "loading": ("Đang tải…", "Loading…"),
    "updated_at": ("Cập nhật lúc", "Updated at"),
    "refresh_failed": (
        "Không cập nhật được, sẽ thử lại.",
        "Could not update; will try again.",
    ),
    # states, in plain words
    "state_up": ("Hoạt động tốt", "Working"),
    "state_degraded": ("Chập chờn", "Degraded"),
    "state_down": ("Hỏng", "Not working"),
    "state_unknown": ("Không rõ", "Unknown"),
    "count_up": ("tốt", "working"),
    "count_degraded": ("chập chờn", "degraded"),
    "count_down": ("hỏng", "not working"),
    "count_unknown": ("không rõ", "unknown"),
    # area page
    "area_title": ("Khu dân cư", "Residential area"),
    "not_found": (
        "Không tìm thấy khu dân cư này trong phạm vi của bạn.",
        "No such residential area within your scope.",
    ),
    "forbidden": ("Vai trò của bạn không được xem mục này.", "Your role may not see this."),
    "conflict": (
        "Không thực hiện được lúc này; hãy tải lại trang.",
        "Not possible right now; reload the page.",
    ),
    "too_soon": ("Vừa có lệnh; hãy thử lại sau {n} giây.", "Just asked; try again in {n} s."),
    "server_error": (
        "Máy chủ tạm thời không trả lời. Sẽ thử lại.",
        "The server is not answering for now. Will try again.",
    ),
    "kind_camera": ("Camera", "Cameras"),
    "kind_uplink": ("Đường truyền cáp quang", "Fibre uplink"),
    "kind_wifi": ("Wi-Fi nhà văn hóa", "Cultural-house Wi-Fi"),
    "kind_speaker": ("Loa truyền thanh", "Loudspeakers"),
    "kind_pc": ("Máy tính nhà văn hóa", "Cultural-house PC"),
    "none_of_kind": ("Không có thiết bị loại này.", "No device of this kind."),
    "last_check": ("Kiểm tra lần cuối", "Last checked"),
    "never_checked": ("Chưa từng được kiểm tra", "Never checked"),
    "seconds_ago": ("{n} giây trước", "{n} s ago"),
    "minutes_ago": ("{n} phút trước", "{n} min ago"),
    "hours_ago": ("{n} giờ trước", "{n} h ago"),
    "days_ago": ("{n} ngày trước", "{n} days ago"),
    "dur_s": ("{n} giây", "{n} s"),
    "dur_m": ("{n} phút", "{n} min"),
    "dur_h": ("{n} giờ", "{n} h"),
    "dur_d": ("{n} ngày", "{n} d"),
    "for_duration": ("đã {n}", "for {n}"),
    "lasted": ("kéo dài {n}", "lasted {n}"),
    "down_since": ("Hỏng từ {n}", "Not working since {n}"),
    "degraded_since": ("Chập chờn từ {n}", "Degraded since {n}"),
    "main_road": ("Đường chính", "Main road"),
    "latency": ("Độ trễ", "Latency"),
    "loss": ("Mất gói", "Packet loss"),
    "agents": ("Máy trạm giám sát", "Monitoring agents"),
    "agent_online": ("đang kết nối", "connected"),
    "agent_offline": ("mất kết nối", "disconnected"),
    "agent_stale": ("lâu không gửi báo cáo", "no recent report"),
    "probe_now": ("Kiểm tra ngay", "Check now"),
    "probe_sent": (
        "Đã gửi lệnh kiểm tra; kết quả sẽ hiện sau vài giây.",
        "Check requested; the result appears within seconds.",
    ),
    "probe_unavailable": (
        "Không gửi được lệnh: máy chủ MQTT tạm thời không truy cập được.",
        "The request could not be sent: the MQTT broker is temporarily unreachable.",
    ),
    "availability_title": ("30 ngày qua", "Last 30 days"),
    "availability": ("Thời gian hoạt động tốt", "Time working"),
    "availability_hint": (
        "độ sẵn sàng: thời gian tốt / thời gian có số liệu",
        "availability: up time / observed time",
    ),
    "coverage": ("Thời gian có số liệu", "Time observed"),
    "coverage_hint": (
        "độ phủ giám sát: thời gian có người quan sát / cả kỳ",
        "monitoring coverage: observed time / whole window",
    ),
    "too_little_data": ("chưa đủ dữ liệu", "not enough data"),
    "coverage_note": (
        "Mới có số liệu cho {n} thời gian: con số sẽ có khi đủ dữ liệu.",
        "Figures exist for only {n} of the time: the result shows once there is enough data.",
    ),
    "outages": ("Số lần hỏng", "Outages"),
    "no_data": ("chưa có số liệu", "no data yet"),
    "daily_chart": ("Thời gian hoạt động tốt theo ngày", "Time working per day"),
    "link_title": ("Đường truyền trong 24 giờ qua", "The uplink over the last 24 hours"),
    "latency_chart": (
        "Độ trễ trung bình (ms), mỗi 15 phút",
        "Average latency (ms), per 15 minutes",
    ),
    "loss_chart": ("Tỷ lệ mất gói (%), mỗi 15 phút", "Packet loss (%), per 15 minutes"),
    "no_link_figures": ("Chưa có số liệu đường truyền.", "No uplink figures yet."),
    "chart_peak": ("cao nhất", "highest"),
    # incidents
    "nav_incidents": ("Sự cố", "Incidents"),
    "incidents_title": ("Bảng sự cố", "Incident board"),
    "incidents_open_title": ("Sự cố chưa khắc phục", "Unresolved incidents"),
    "no_incidents": ("Không có sự cố nào.", "No incidents."),
    "show_state": ("Trạng thái", "State"),
    "inc_all": ("Tất cả", "All"),
    "inc_unresolved": ("Chưa khắc phục (mới và đã nhận)", "Unresolved (new and taken)"),
    "inc_open": ("Mới, chưa ai nhận", "New, not taken"),
    "inc_acknowledged": ("Đã nhận xử lý", "Acknowledged"),
    "inc_resolved": ("Đã khắc phục", "Resolved"),
    "inc_device_down": ("Thiết bị hỏng", "Device not working"),
    "inc_area_unreachable": ("Mất liên lạc với khu", "Area unreachable"),
    "inc_flapping": ("Thiết bị chập chờn liên tục", "Device flapping"),
    "opened_at": ("Bắt đầu", "Opened"),
    "timeline": ("Diễn biến", "Timeline"),
    "note_label": ("Ghi chú (không bắt buộc khi nhận xử lý)", "Note (optional to acknowledge)"),
    "acknowledge": ("Nhận xử lý", "Acknowledge"),
    "resolve": ("Đã khắc phục xong", "Mark as fixed"),
    "resolve_hint": (
        "Chỉ đóng được khi thiết bị đã hoạt động lại; sự cố cũng tự đóng khi báo cáo cho thấy "
        "thiết bị tốt.",
        "Closes only once the device works again; the incident also closes by itself when a report "
        "shows the device working.",
    ),
    "taken_by": ("{n} đã nhận lúc", "taken by {n} at"),
    "resolved_by": ("{n} đóng", "closed by {n}"),
    "resolved_by_data": ("tự đóng khi thiết bị tốt lại", "closed by itself on recovery"),
    "resolved_at": ("hết lúc {n}", "ended {n}"),
    "actor_system": ("Hệ thống", "System"),
    "add_note": ("Thêm ghi chú", "Add note"),
    "note_needed": ("Hãy viết ghi chú trước.", "Write a note first."),
    "saved": ("Đã lưu.", "Saved."),
    "ev_opened": ("mở sự cố", "opened"),
    "ev_acknowledged": ("nhận xử lý", "acknowledged"),
    "ev_note": ("ghi chú", "note"),
    "ev_resolved": ("khắc phục", "resolved"),
    "ev_escalated": ("báo lên cấp trên", "escalated"),
    "ev_notified": ("đã gửi thông báo", "notified"),
    "ev_recovered": ("thiết bị tốt lại", "device recovered"),
    "suppressed": ("(gộp vào sự cố khác)", "(suppressed by another incident)"),
    # certification
    "cert_link": ("Tiêu chí và báo cáo chứng nhận", "Criteria and certification report"),
    "cert_title": ("Tiêu chí khu dân cư thông minh", "Smart residential area criteria"),
    "criteria_set": ("Bộ tiêu chí", "Criteria set"),
    "window_from": ("Từ ngày", "From"),
    "window_to": ("Đến ngày", "To"),
    "evaluate": ("Đánh giá", "Evaluate"),
    "no_sets": ("Chưa có bộ tiêu chí nào được nạp.", "No criteria set is loaded."),
    "overall": ("Kết luận chung", "Overall"),
    "criterion": ("Tiêu chí", "Criterion"),
    "verdict": ("Kết quả", "Verdict"),
    "value": ("Giá trị / ngưỡng", "Value / threshold"),
    "evidence": ("Bằng chứng", "Evidence"),
    "source": ("Nguồn", "Source"),
    "v_pass": ("Đạt", "Pass"),
    "v_fail": ("Không đạt", "Fail"),
    "v_insufficient_data": ("Chưa đủ dữ liệu", "Insufficient data"),
    "k_measured": ("đo tự động", "measured"),
    "k_declared": ("số liệu kê khai", "declared"),
    "k_documentary": ("hồ sơ", "documentary"),
    "issue_report": ("Lập báo cáo chứng nhận", "Issue certification report"),
    "report_issued": ("Đã lập báo cáo số", "Issued report no."),
    "download_pdf": ("Tải PDF", "Download PDF"),
    "download_csv": ("Tải CSV", "Download CSV"),
    "verify": ("Kiểm tra lại", "Verify"),
    "verify_ok": (
        "Khớp: bằng chứng tính lại giống hệt bản đã lập.",
        "Matches: the evidence recomputes identically.",
    ),
    "verify_changed": ("Khác với bản đã lập ở:", "Differs from the issued report in:"),
    "verify_by": ("bởi {n}", "by {n}"),
    "verify_late_data": ("số liệu đo đến muộn hoặc đã thay đổi", "late or changed measurements"),
    "code_households_fibre": ("số hộ có internet cáp quang", "households with fibre"),
    "code_households": ("số hộ gia đình", "households"),
    "code_adults_smartphone": (
        "số người từ 15 tuổi dùng điện thoại thông minh",
        "adults using a smartphone",
    ),
    "code_adults_vneid": ("số người từ 15 tuổi có VNeID", "adults with VNeID"),
    "code_adults": ("số người từ 15 tuổi", "adults"),
    "code_digital_team_decision": (
        "quyết định thành lập Tổ công nghệ số cộng đồng",
        "the decision setting up the community digital team",
    ),
    "unit_document": ("văn bản", "document"),
    "unit_devices": ("thiết bị", "devices"),
    "unit_percent": ("%", "%"),
    "evk_device_id": ("Thiết bị", "Device"),
    "evk_availability_pct": ("Thời gian hoạt động tốt", "Time working"),
    "evk_coverage_pct": ("Thời gian có số liệu", "Time observed"),
    "evk_outages": ("Số lần hỏng", "Outages"),
    "evk_verdict": ("Kết quả", "Verdict"),
    # reasons, in plain words (codes from the probes)
    "reason_refused": ("Thiết bị từ chối kết nối (mất điện hoặc mất mạng?)", "Connection refused"),
    "reason_timeout": ("Thiết bị không trả lời", "No answer (timeout)"),
    "reason_http_401": ("Sai mật khẩu camera", "Camera password refused"),
    "reason_black": ("Hình ảnh đen", "Picture is black"),
    "reason_frozen": ("Hình ảnh bị đứng", "Picture is frozen"),
    "reason_blurred": ("Hình ảnh bị mờ", "Picture is blurred"),
    "reason_covered": ("Ống kính bị che", "Lens is covered"),
    "reason_moved": ("Camera bị xoay lệch hướng", "Camera has moved"),
    "reason_noisy": ("Hình ảnh bị nhiễu (hạt, sọc)", "Picture is noisy (snow, stripes)"),
    "reason_glare": ("Hình ảnh bị lóa sáng", "Glare or a light spot in the picture"),
    "reason_colour_cast": ("Hình ảnh bị sai màu", "Picture has a colour cast"),
    "reason_ir_stuck": (
        "Camera không chuyển chế độ ngày/đêm (kẹt bộ lọc hồng ngoại)",
        "Day/night switch is stuck (IR-cut filter)",
    ),
    "reason_dark": ("Trời tối hoặc thiếu sáng", "Low light or night"),
    "reason_loss": ("Mất gói tin", "Packet loss"),
    "reason_latency": ("Độ trễ cao", "High latency"),
    "reason_partial": ("Một phần đích không trả lời", "Some targets do not answer"),
    "reason_lan_fault": ("Lỗi mạng nội bộ (máy tính, cáp, bộ định tuyến)", "LAN fault"),
    "reason_uplink_fault": ("Đứt cáp quang hoặc lỗi thiết bị đầu cuối", "Fibre line fault"),
    "reason_upstream_fault": ("Nhà mạng không ra được Internet", "Provider has no internet"),
    "reason_stale": ("Không có báo cáo gần đây", "No recent report"),
    "reason_probe_error": (
        "Máy trạm gặp lỗi khi kiểm tra thiết bị",
        "The agent failed while checking the device",
    ),
    "reason_other": ("Lỗi kỹ thuật khác", "Another technical fault"),
    "technical_detail": ("Chi tiết kỹ thuật", "Technical detail"),
    "reason_silent": ("Máy trạm không gửi báo cáo", "The agent sends no report"),
    "reason_offline": ("Máy trạm mất kết nối", "The agent is disconnected"),
}

STRINGS: dict[str, dict[str, str]] = {
    code: {key: pair[i] for key, pair in CATALOGUE.items()} for i, code in enumerate(LANGUAGES)
}


def choose_language(query: str | None, cookie: str | None) -> str:
    """The ``lang`` query parameter, then the ``lang`` cookie; otherwise Vietnamese.

    The browser's Accept-Language is not consulted: many phones in the villages are set to
    English, and the dashboard speaks Vietnamese unless someone presses the toggle.
    """
    for choice in (query, cookie):
        if choice in LANGUAGES:
            return choice
    return "vi"


def script_strings(language: str) -> dict[str, str]:
    """What the script needs: the whole catalogue in one language (a few kilobytes)."""
    return STRINGS[language]
