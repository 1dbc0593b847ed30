"""Where the catalog database is: ``SMARTAREA_DATABASE_URL``, shared by every service using it
(api and alerts settings derive from this class)."""

from __future__ import annotations

from pydantic import Field

from servicekit.settings import ServiceSettings


class CatalogSettings(ServiceSettings):
    database_url: str = Field(
        default="sqlite:///catalog.sqlite",
        description="the catalog: sqlite:///PATH (default) or postgresql+psycopg://USER@HOST/DB",
    )
