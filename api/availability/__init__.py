"""Availability figures an auditor can reproduce (issue #7 items 4 and 5); rules in
docs/availability.md. The lead's routes call ``device_availability``; the roll-up job calls
``materialize``."""

from api.availability.model import AreaAvailability, DeviceAvailability, Figures
from api.availability.service import device_availability
from api.availability.source import materialize, refresh, stale_blocks

__all__ = [
    "AreaAvailability",
    "DeviceAvailability",
    "Figures",
    "device_availability",
    "materialize",
    "refresh",
    "stale_blocks",
]
