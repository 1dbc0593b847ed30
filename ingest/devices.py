"""A bound on the device ids one agent may introduce, so no agent can exhaust what all share.

Every distinct device id becomes an InfluxDB series (and a value of the ``device`` tag). Left
unbounded, one agent sending reports with ever new ids grows the index without limit, and with
InfluxDB 1.x's ``max-values-per-tag`` in force it stops every *other* area from adding devices.
So ingest counts the distinct ids it has stored for each agent and refuses, whole, a report that
would take an agent past ``limit`` (reason ``too_many_devices``, counted). The count lives in
this process: after a restart each agent may again introduce up to ``limit`` new ids, which still
bounds the index by agents × limit × restarts; the dev and compose InfluxDB run without the
global per-tag limit (see docs/influxdb.md), so the bound here is the one that matters.
"""

from __future__ import annotations

from collections.abc import Iterable


class DeviceBound:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._known: dict[tuple[str, str], set[str]] = {}

    def admit(self, area_id: str, agent_id: str, device_ids: Iterable[str]) -> str | None:
        """Record the ids and return None, or say why the report is refused (nothing recorded)."""
        known = self._known.setdefault((area_id, agent_id), set())
        new = [device for device in device_ids if device not in known]
        if not new:
            return None
        if len(known) + len(new) > self.limit:
            return (
                f"{len(new)} new device id(s) would give agent {area_id}/{agent_id} "
                f"{len(known) + len(new)} devices; the limit is {self.limit} "
                "(SMARTAREA_MAX_DEVICES_PER_AGENT)"
            )
        known.update(new)
        return None

    def __len__(self) -> int:
        return len(self._known)
