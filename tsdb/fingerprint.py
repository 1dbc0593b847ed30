"""The fingerprint of a set of device ids: ingest stores it with each report (``agent_report``
field ``devices_digest``), the API compares it with the catalog's devices of the area. Equal
fingerprints let a roll-up count an area from the report's own status counts instead of reading
each device's series (see api/rollup.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

_SEPARATOR = "\x1f"  # a control character: the contract refuses it in ids, so no two sets collide


def device_set_digest(device_ids: Iterable[str]) -> str:
    """16 hex digits of SHA-256 over the sorted, distinct ids (order and repeats do not matter)."""
    joined = _SEPARATOR.join(sorted(set(device_ids)))
    return hashlib.sha256(joined.encode()).hexdigest()[:16]
