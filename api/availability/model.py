"""What an availability answer contains, and the rules it states (Vietnamese first, English)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from contract.models import DeviceKind

RULES_VI = (
    "Mỗi kết quả kiểm tra có giá trị đến kết quả kế tiếp, nhưng tối đa {cap} lần chu kỳ kiểm tra "
    "của máy trạm; quá mức đó thời gian là 'không rõ' (không ai quan sát). Thời gian 'không rõ' "
    "không bao giờ được tính là hoạt động hay hỏng. Khung bảo trì bị loại khỏi cả tử số và mẫu số "
    "và được liệt kê riêng; khung bảo trì của một thiết bị chỉ áp dụng cho thiết bị đó. "
    "Độ sẵn sàng = thời gian hoạt động / (hoạt động + hỏng); trạng thái "
    "'suy giảm' được tính là hoạt động trong độ sẵn sàng và được báo cáo riêng. Độ phủ = thời gian "
    "quan sát được / (khung thời gian − bảo trì). Một sự cố là một quãng 'hỏng' liên tục, chỉ kết "
    "thúc khi thiết bị được thấy hoạt động hoặc suy giảm trở lại; thời gian không rõ và bảo trì "
    "bên trong không được tính vào thời lượng sự cố. MTTR = tổng thời gian hỏng / số sự cố. "
    "Chuỗi theo ngày dùng ngày giờ Việt Nam (Asia/Ho_Chi_Minh, UTC+7). Khả dụng từ xa của "
    "camera = camera tốt VÀ đường truyền của khu cùng lúc hoạt động."
)
RULES_EN = (
    "Each probe result holds until the next one, but at most {cap} times the agent's probe "
    "interval; beyond that the time is 'unknown' (nobody observed it). Unknown time is never "
    "counted as up or as down. Maintenance windows are excluded from both numerator and "
    "denominator and listed; a single device's window applies to that device only. "
    "Availability = up time / (up + down time); 'degraded' counts as up "
    "for availability and is reported separately. Coverage = observed time / (window − "
    "maintenance). An outage is a stretch of 'down' that ends only when the device is seen up or "
    "degraded again; unknown and maintenance time inside it do not count towards its duration. "
    "MTTR = total down time / number of outages. Daily series use Vietnam's calendar days "
    "(Asia/Ho_Chi_Minh, UTC+7). Remote availability of a camera = camera healthy AND the area's "
    "uplink up at the same instant."
)


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
    unknown_s: float
    maintenance_s: float
    availability: float | None = Field(
        description="percent, (up + degraded) / (up + degraded + down); null when nothing observed"
    )
    coverage: float | None = Field(description="percent, observed / (window − maintenance)")
    outages: int
    longest_outage_s: float
    mttr_s: float | None = Field(description="mean down time per outage; null without outages")


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
