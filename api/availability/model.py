"""What an availability answer contains, and the rules it states (Vietnamese first, English)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from contract.models import DeviceKind

RULES_VI = (
    "Mỗi kết quả kiểm tra có giá trị đến kết quả kế tiếp, nhưng tối đa {cap} lần chu kỳ kiểm tra "
    "ghi trong chính báo cáo chứa kết quả đó; quá mức đó thời gian là 'không rõ' (không ai quan "
    "sát). Thời gian 'không rõ' không bao giờ được tính là hoạt động hay hỏng. Thiết bị trong danh "
    "mục mà không báo cáo vẫn được liệt kê, toàn bộ thời gian là 'không rõ'. Thời gian trước ngày "
    "lắp đặt (installed_on) và khung bảo trì bị loại khỏi cả tử số và mẫu số và được báo cáo "
    "riêng; bảo trì khai báo sau khi đã bắt đầu là 'bảo trì hồi tố' (phần trước lúc khai báo), "
    "ghi rõ người và thời điểm khai báo. Khung bảo trì của một thiết bị chỉ áp dụng cho thiết bị "
    "đó; bảo trì một đường truyền dự phòng không trừ thời gian của camera khi còn đường truyền "
    "khác. Độ sẵn sàng = thời gian hoạt động / (hoạt động + hỏng); trạng thái 'suy giảm' được "
    "tính là hoạt động và được báo cáo riêng. Độ phủ = thời gian quan sát được / (khung thời gian "
    "− bảo trì − trước lắp đặt). Một sự cố là một quãng 'hỏng' liên tục, chỉ kết thúc khi thiết bị "
    "được thấy hoạt động hoặc suy giảm trở lại; thời gian không rõ và bảo trì bên trong không được "
    "tính vào thời lượng sự cố. MTTR = thời gian hỏng trung bình của các sự cố được thấy bắt đầu "
    "và kết thúc trong khung (sự cố bị cắt ở biên không tính). Chuỗi theo ngày dùng ngày giờ Việt "
    "Nam (Asia/Ho_Chi_Minh, UTC+7). Khả dụng từ xa của camera = camera tốt VÀ đường truyền của "
    "khu cùng lúc hoạt động (nhiều đường truyền: một đường hoạt động là đủ; một đường hỏng, đường "
    "kia không rõ: không rõ)."
)
RULES_EN = (
    "Each probe result holds until the next one, but at most {cap} times the probe interval "
    "stated in the very report that carried it; beyond that the time is 'unknown' (nobody "
    "observed it). Unknown time is never counted as up or as down. Catalog devices that never "
    "report are listed, all their time unknown. Time before a device's installed_on date and "
    "maintenance windows are excluded from both numerator and denominator and reported "
    "separately; maintenance declared after it began is 'retroactive' (the part before it was "
    "declared), listed with who declared it and when. A single device's window applies to that "
    "device only; a backup uplink's window takes nothing from the cameras while another uplink "
    "serves. Availability = up time / (up + down time); 'degraded' counts as up and is reported "
    "separately. Coverage = observed time / (window − maintenance − before installation). An "
    "outage is a stretch of 'down' that ends only when the device is seen up or degraded again; "
    "unknown and maintenance time inside it do not count towards its duration. MTTR = mean down "
    "time of the outages seen to begin and end inside the window (outages cut by its edges are "
    "counted, but not in MTTR). Daily series use Vietnam's calendar days (Asia/Ho_Chi_Minh, "
    "UTC+7). Remote availability of a camera = camera healthy AND the area's uplink up at the "
    "same instant (several uplinks: connected while any is up; one down and another unknown is "
    "unknown)."
)


# A certificate rests on at least this much time: shorter windows say nothing about a service
# (a 13-minute window could pass any threshold). docs/availability.md.
MIN_CERTIFICATE_WINDOW = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class CatalogDevice:
    """A device the catalog says the area has, and the local date it went into service."""

    device_id: str
    kind: DeviceKind
    installed_on: date | None = None


@dataclass(frozen=True, slots=True)
class MaintenanceSpan:
    """One occurrence of a maintenance window (UTC), and who declared it when: the part before
    ``created_at`` was declared after the fact (retroactive)."""

    start: datetime
    end: datetime
    created_at: datetime | None = None
    created_by: str | None = None
    reason: str | None = None
    window_id: int | None = None


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Rules(_Frozen):
    vi: str
    en: str
    stale_after_intervals: float
    degraded_policy: str = Field(
        "degraded_counts_as_up", description="how degraded time enters availability"
    )
    timezone: str = "Asia/Ho_Chi_Minh"


class Figures(_Frozen):
    """Seconds per state within a span, and what follows from them."""

    up_s: float
    degraded_s: float
    down_s: float
    unknown_s: float = Field(description="nobody observed it (after installation)")
    maintenance_s: float = Field(description="planned + retroactive maintenance, excluded")
    planned_maintenance_s: float = Field(description="maintenance declared before it began")
    retroactive_maintenance_s: float = Field(
        description="maintenance declared after it began (the part before its declaration)"
    )
    before_installation_s: float = Field(
        description="before the catalog's installed_on (local date): excluded, not unknown"
    )
    availability: float | None = Field(
        description="percent, (up + degraded) / (up + degraded + down); null when nothing observed"
    )
    coverage: float | None = Field(
        description="percent, observed / (window − maintenance − before installation)"
    )
    outages: int = Field(description="every outage with down time in the span, cut ones too")
    outages_resolved: int = Field(
        description="outages seen to begin and end inside the span (working before and after)"
    )
    longest_outage_s: float
    mttr_s: float | None = Field(
        description="mean down time of the resolved outages; null without any"
    )


class Bucket(_Frozen):
    start: datetime
    end: datetime
    figures: Figures


class Outage(_Frozen):
    start: datetime
    end: datetime
    down_s: float = Field(description="down time inside the outage (unknown time not counted)")


class MaintenanceWindow(_Frozen):
    start: datetime
    end: datetime
    retroactive: bool = Field(
        False, description="declared after it began: the part before created_at is retroactive"
    )
    created_by: str | None = None
    created_at: datetime | None = None
    reason: str | None = None
    window_id: int | None = None


class DeviceAvailability(_Frozen):
    device_id: str
    kind: DeviceKind
    agent_id: str | None = Field(description="null for a catalog device never heard from")
    health: Figures = Field(description="the device as probed from the LAN")
    remote: Figures | None = Field(
        None, description="cameras only: camera healthy and the area's uplink up"
    )
    outages: list[Outage]
    maintenance: list[MaintenanceWindow] = Field(
        default_factory=list,
        description="windows of this device alone (the area's are in the area's list), excluded",
    )
    series: list[Bucket]
    remote_series: list[Bucket] | None = None


class Aggregate(_Frozen):
    devices: int
    health: Figures
    remote: Figures | None = None
    series: list[Bucket]


class AreaAvailability(_Frozen):
    area_id: str
    window_from: datetime
    window_to: datetime
    resolution_s: float | None = Field(description="series bucket length; null = calendar days")
    rules: Rules
    maintenance: list[MaintenanceWindow]
    devices: list[DeviceAvailability]
    kinds: dict[DeviceKind, Aggregate]
    area: Aggregate
    sources: dict[str, int] = Field(
        description="how the figures were read: run rows from the roll-up and from raw points"
    )
