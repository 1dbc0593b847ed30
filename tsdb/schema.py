"""The names of the InfluxDB schema (docs/influxdb.md), spelled once: ingest writes them, the
API reads them. ``Q_*`` are the same names quoted for InfluxQL.
"""

from __future__ import annotations

from contract.models import DeviceKind
from tsdb.influxql import identifier

# Tags of every point ingest writes (device points also carry DEVICE).
AREA = "area"
AGENT = "agent"
DEVICE = "device"
# Measurements: one per device kind, one point per report, one per presence change.
DEVICE_MEASUREMENTS = tuple(kind.value for kind in DeviceKind)
AGENT_REPORT = "agent_report"
AGENT_PRESENCE = "agent_presence"
HOURLY = "_hourly"  # suffix of the hourly roll-ups the continuous queries write

Q_AREA, Q_AGENT, Q_DEVICE = identifier(AREA), identifier(AGENT), identifier(DEVICE)
Q_AGENT_REPORT, Q_AGENT_PRESENCE = identifier(AGENT_REPORT), identifier(AGENT_PRESENCE)
Q_DEVICE_MEASUREMENTS = ",".join(identifier(name) for name in DEVICE_MEASUREMENTS)
