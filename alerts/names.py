"""Display names for messages: area, commune, province and device names from the catalog.

Read once per area and kept for a few minutes (a renamed device shows in the next messages);
a catalog that cannot be read gives no names, and the message falls back to ids.
"""

from __future__ import annotations

import logging
import threading
import time
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from alerts.messages import Names
from catalog.db import Catalog
from catalog.models import Area, Device

logger = logging.getLogger(__name__)
CACHE_S = 300.0


class CatalogNames:
    """``names(area_id)`` for the senders; ``dashboard_url`` makes the link to the area page."""

    def __init__(self, catalog: Catalog, dashboard_url: str | None = None) -> None:
        self.catalog = catalog
        self.dashboard_url = dashboard_url.rstrip("/") if dashboard_url else None
        self._cache: dict[str, tuple[float, Names]] = {}
        self._lock = threading.Lock()

    def link(self, area_id: str) -> str | None:
        if self.dashboard_url is None:
            return None
        return f"{self.dashboard_url}/ui/areas/{quote(area_id, safe='')}"

    def __call__(self, area_id: str) -> Names:
        with self._lock:
            cached = self._cache.get(area_id)
            if cached is not None and time.monotonic() - cached[0] < CACHE_S:
                return cached[1]
        try:
            names = self._read(area_id)
        except SQLAlchemyError as exc:
            logger.warning("names of %s unavailable (%s); the message uses ids", area_id, exc)
            return Names(link=self.link(area_id))
        with self._lock:
            self._cache[area_id] = (time.monotonic(), names)
        return names

    def _read(self, area_id: str) -> Names:
        with self.catalog.sessions() as session:
            area = session.get(Area, area_id)
            if area is None:
                return Names(link=self.link(area_id))
            devices = {
                d.id: d.name
                for d in session.execute(select(Device).where(Device.area_id == area_id)).scalars()
                if d.name
            }
            return Names(
                area=area.name,
                commune=area.commune.name,
                province=area.commune.province.name,
                devices=devices,
                link=self.link(area_id),
            )
