"""Availability of one area's devices over a window: runs from InfluxDB, figures from timeline."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from api.availability.model import (
    RULES_EN,
    RULES_VI,
    Aggregate,
    AreaAvailability,
    Bucket,
    CatalogDevice,
    DeviceAvailability,
    Figures,
    MaintenanceSpan,
    MaintenanceWindow,
    Outage,
    Rules,
)
from api.availability.source import ROLLUP_SPLIT_INTERVALS, DeviceKey, read_runs
from api.availability.timeline import (
    Buckets,
    Holes,
    Segment,
    Tally,
    best_uplink,
    outage_spans,
    remote,
    segments,
    tally,
)
from api.status import ExpectedDevice
from contract.models import DeviceKind
from tsdb.influxql import InfluxQL

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
MAX_BUCKETS = 5000
_ALWAYS = -(1 << 62)  # earlier than any instant, in ms
Maintenance = tuple[datetime, datetime] | MaintenanceSpan


def _ms(value: datetime) -> int:
    if value.tzinfo is None:
        raise ValueError("times must carry a time zone")
    return round(value.timestamp() * 1000)


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def bucket_edges(start_ms: int, end_ms: int, resolution: timedelta | None) -> list[int]:
    """Bucket boundaries from ``start`` to ``end``: local (UTC+7) midnights, or steps of
    ``resolution`` counted from the local midnight that begins the window's first day."""
    first_day = _at(start_ms).astimezone(LOCAL).replace(hour=0, minute=0, second=0, microsecond=0)
    edges = [start_ms]
    if resolution is None:
        day = first_day
        while True:
            day = (day + timedelta(days=1)).replace(hour=0)  # calendar days, whatever the offset
            at = _ms(day)
            if at >= end_ms:
                break
            edges.append(at)
            if len(edges) > MAX_BUCKETS:
                raise ValueError(f"more than {MAX_BUCKETS} buckets")
    else:
        step = round(resolution.total_seconds() * 1000)
        if step <= 0:
            raise ValueError("resolution must be positive")
        if (end_ms - start_ms) / step > MAX_BUCKETS:
            raise ValueError(f"more than {MAX_BUCKETS} buckets: choose a coarser resolution")
        at = _ms(first_day) + step
        while at < end_ms:
            if at > start_ms:
                edges.append(at)
            at += step
    edges.append(end_ms)
    return edges


def figures(t: Tally) -> Figures:
    available = t.up_ms + t.degraded_ms
    judged = available + t.down_ms
    open_ms = t.observed_ms + t.unknown_ms
    resolved = len(t.resolved_ms)
    return Figures(
        up_s=t.up_ms / 1000,
        degraded_s=t.degraded_ms / 1000,
        down_s=t.down_ms / 1000,
        unknown_s=t.unknown_ms / 1000,
        maintenance_s=t.maintenance_ms / 1000,
        planned_maintenance_s=(t.maintenance_ms - t.retroactive_ms) / 1000,
        retroactive_maintenance_s=t.retroactive_ms / 1000,
        before_installation_s=t.before_install_ms / 1000,
        availability=100 * available / judged if judged else None,
        coverage=100 * t.observed_ms / open_ms if open_ms else None,
        outages=len(t.outages_ms),
        outages_resolved=resolved,
        longest_outage_s=max(t.outages_ms, default=0) / 1000,
        mttr_s=sum(t.resolved_ms) / resolved / 1000 if resolved else None,
    )


def _sum(tallies: Sequence[Tally]) -> Tally:
    up = degraded = down = unknown = maintenance = retroactive = before_install = 0
    outages: list[int] = []
    resolved: list[int] = []
    for t in tallies:
        up += t.up_ms
        degraded += t.degraded_ms
        down += t.down_ms
        unknown += t.unknown_ms
        maintenance += t.maintenance_ms
        retroactive += t.retroactive_ms
        before_install += t.before_install_ms
        outages.extend(t.outages_ms)
        resolved.extend(t.resolved_ms)
    return Tally(
        up,
        degraded,
        down,
        unknown,
        maintenance,
        tuple(outages),
        tuple(resolved),
        retroactive,
        before_install,
    )


def _series(buckets: Buckets, edges: list[datetime]) -> list[Bucket]:
    return [
        Bucket(start=edges[i], end=edges[i + 1], figures=figures(t))
        for i, t in enumerate(buckets.tallies())
    ]


def _spans(
    maintenance: Sequence[Maintenance],
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Planned and retroactive parts (ms) of maintenance occurrences: the part of a window
    before it was declared (``created_at``) is retroactive; plain tuples are planned."""
    planned: list[tuple[int, int]] = []
    retroactive: list[tuple[int, int]] = []
    for item in maintenance:
        if isinstance(item, MaintenanceSpan):
            a, b = _ms(item.start), _ms(item.end)
            declared = _ms(item.created_at) if item.created_at is not None else _ALWAYS
        else:
            a, b = _ms(item[0]), _ms(item[1])
            declared = _ALWAYS
        if declared > a:
            retroactive.append((a, min(b, declared)))
        if b > declared:
            planned.append((max(a, declared), b))
    return planned, retroactive


def _listed(maintenance: Sequence[Maintenance], start: int, end: int) -> list[MaintenanceWindow]:
    out = []
    for item in maintenance:
        span = item if isinstance(item, MaintenanceSpan) else MaintenanceSpan(item[0], item[1])
        a, b = _ms(span.start), _ms(span.end)
        if b <= start or a >= end or b <= a:
            continue
        out.append(
            MaintenanceWindow(
                start=_at(a),
                end=_at(b),
                retroactive=span.created_at is not None and _ms(span.created_at) > a,
                created_by=span.created_by,
                created_at=span.created_at,
                reason=span.reason,
                window_id=span.window_id,
            )
        )
    return sorted(out, key=lambda w: (w.start, w.end, w.window_id or 0))


def _installed(device: ExpectedDevice | CatalogDevice) -> list[tuple[int, int]]:
    """The time before the device's installation date (local midnight that begins it)."""
    day = getattr(device, "installed_on", None)
    if day is None:
        return []
    return [(_ALWAYS, _ms(datetime.combine(day, time(0), tzinfo=LOCAL)))]


def _remotes(
    device_segs: Mapping[DeviceKey, list[Segment]],
    holes_of: Callable[[DeviceKey], Holes],
    own_of: Callable[[DeviceKey], Holes],
    start: int,
    end: int,
    edges: list[int],
    device_series: bool,
) -> tuple[dict[DeviceKey, Tally], dict[DeviceKey, Buckets]]:
    """Each camera's remote totals (and buckets, for device series): camera healthy and the
    area connected through its uplinks (``best_uplink``). Remote figures have no kind or area
    series."""
    uplink_keys = [key for key in device_segs if key.kind is DeviceKind.UPLINK]
    totals: dict[DeviceKey, Tally] = {}
    buckets: dict[DeviceKey, Buckets] = {}
    if not uplink_keys:
        return totals, buckets
    connection, out_of_service = best_uplink([(device_segs[k], own_of(k)) for k in uplink_keys])
    for key, segs in device_segs.items():
        if key.kind is DeviceKind.CAMERA:
            remote_segs = remote(segs, connection)
            remote_holes = holes_of(key)
            if out_of_service.all:
                remote_holes = remote_holes.union(out_of_service)
            totals[key] = tally(remote_segs, start, end, remote_holes)
            if device_series:
                buckets[key] = Buckets.of(edges, remote_segs, remote_holes)
    return totals, buckets


def device_availability(
    influx: InfluxQL,
    area_id: str,
    window_from: datetime,
    window_to: datetime,
    maintenance: Sequence[Maintenance],
    resolution: timedelta | None = None,
    stale_after_intervals: float = 3.0,
    use_rollup: bool = True,
    device_series: bool = True,
    expected: Sequence[ExpectedDevice | CatalogDevice] = (),
    device_maintenance: Mapping[str, Sequence[Maintenance]] | None = None,
) -> AreaAvailability:
    """Availability of every device of ``area_id`` over [window_from, window_to).

    ``maintenance``: the area's maintenance windows (any time zone; overlapping is fine), as
    ``(start, end)`` (planned) or ``MaintenanceSpan`` (its part before ``created_at`` is
    retroactive).
    ``device_maintenance``: windows of single devices, by device id: excluded from that device's
    figures only (an uplink's also from the cameras' remote figures while no other uplink serves).
    ``resolution``: series bucket length; ``None`` = calendar days in Vietnam.
    ``device_series=False`` leaves out each device's series (the kind and area series stay): a
    year of days for 20 devices is 14,000 buckets, most of the time spent here.
    ``use_rollup=False`` reads raw points only (slower; for an auditor's cross-check, and it sees
    late data before the roll-up job has rebuilt the blocks it touched). Both give the same
    answer for any window (docs/availability.md).
    ``expected``: the devices the catalog says the area has; one never heard from in the window
    appears with all its time unknown (and lowers its kind's and the area's coverage); the time
    before its ``installed_on`` (a ``CatalogDevice``) is excluded as before installation. A device
    the catalog lacks appears when a result of it holds inside the window.
    """
    start, end = _ms(window_from), _ms(window_to)
    if end <= start:
        raise ValueError("window_to must be after window_from")
    if stale_after_intervals < ROLLUP_SPLIT_INTERVALS:
        raise ValueError(f"stale_after_intervals must be at least {ROLLUP_SPLIT_INTERVALS}")
    area_planned, area_retro = _spans(maintenance)
    area_holes = Holes.of(area_planned, area_retro)
    installed = {device.device_id: _installed(device) for device in expected}
    own_cache: dict[str, Holes] = {}
    device_windows = device_maintenance or {}

    def own_of(key: DeviceKey) -> Holes:
        """The device's own holes: its maintenance and the time before its installation."""
        if key.device_id not in own_cache:
            planned, retro = _spans(device_windows.get(key.device_id, ()))
            own_cache[key.device_id] = Holes.of(planned, retro, installed.get(key.device_id, ()))
        return own_cache[key.device_id]

    def holes_of(key: DeviceKey) -> Holes:
        own = own_of(key)
        return area_holes.union(own) if own.all else area_holes

    edges = bucket_edges(start, end, resolution)
    edge_times = [_at(e) for e in edges]
    runs = read_runs(influx, area_id, start, end, use_rollup, stale_after_intervals)
    device_segs = {}
    for key, device_runs in runs.by_device.items():
        segs = segments(device_runs, stale_after_intervals)
        # Listed when a result of it holds inside the window (the same on every path: blocks
        # that stick out of the window carry devices heard only outside it).
        if any(seg.end_ms > start and seg.start_ms < end for seg in segs):
            device_segs[key] = segs
    heard = set(device_segs)
    for device in expected:
        device_segs.setdefault(DeviceKey(device.kind, device.device_id), [])
    totals = {key: tally(segs, start, end, holes_of(key)) for key, segs in device_segs.items()}
    # Daily (or ``resolution``) buckets: per kind always, per device when asked for.
    kind_buckets = {kind: Buckets(edges) for kind in DeviceKind}
    device_buckets: dict[DeviceKey, Buckets] = {}
    for key, segs in device_segs.items():
        if device_series:
            device_buckets[key] = Buckets.of(edges, segs, holes_of(key))
            kind_buckets[key.kind].merge(device_buckets[key])
        else:
            kind_buckets[key.kind].add(segs, holes_of(key))
    remote_totals, remote_buckets = _remotes(
        device_segs, holes_of, own_of, start, end, edges, device_series
    )
    devices = []
    for key in sorted(device_segs, key=lambda k: (k.kind.value, k.device_id)):
        remote_total = remote_totals.get(key)
        devices.append(
            DeviceAvailability(
                device_id=key.device_id,
                kind=key.kind,
                agent_id=runs.agents.get(key) if key in heard else None,
                health=figures(totals[key]),
                remote=figures(remote_total) if remote_total else None,
                outages=[
                    Outage(
                        start=_at(o[0].start_ms),
                        end=_at(o[-1].end_ms),
                        down_s=sum(s.end_ms - s.start_ms for s in o) / 1000,
                    )
                    for o in outage_spans(device_segs[key], start, end, holes_of(key))
                ],
                maintenance=_listed(device_windows.get(key.device_id, ()), start, end),
                series=_series(device_buckets[key], edge_times) if device_series else [],
                remote_series=(
                    _series(remote_buckets[key], edge_times) if key in remote_buckets else None
                ),
            )
        )
    kinds: dict[DeviceKind, Aggregate] = {}
    area_buckets = Buckets(edges)
    for kind, buckets in kind_buckets.items():
        members = [key for key in device_segs if key.kind is kind]
        if not members:
            continue
        area_buckets.merge(buckets)
        kind_remotes = [remote_totals[key] for key in members if key in remote_totals]
        kinds[kind] = Aggregate(
            devices=len(members),
            health=figures(_sum([totals[key] for key in members])),
            remote=figures(_sum(kind_remotes)) if kind_remotes else None,
            series=_series(buckets, edge_times),
        )
    cap = f"{stale_after_intervals:g}"
    return AreaAvailability(
        area_id=area_id,
        window_from=_at(start),
        window_to=_at(end),
        resolution_s=resolution.total_seconds() if resolution else None,
        rules=Rules(
            vi=RULES_VI.format(cap=cap),
            en=RULES_EN.format(cap=cap),
            stale_after_intervals=stale_after_intervals,
        ),
        maintenance=_listed(maintenance, start, end),
        devices=devices,
        kinds=kinds,
        area=Aggregate(
            devices=len(device_segs),
            health=figures(_sum(list(totals.values()))),
            remote=figures(_sum(list(remote_totals.values()))) if remote_totals else None,
            series=_series(area_buckets, edge_times),
        ),
        sources={"rollup_rows": runs.rollup_rows, "raw_rows": runs.raw_rows},
    )
