"""Where the catalog database is: ``SMARTAREA_DATABASE_URL``, shared by every service using it."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CatalogSettings(BaseSettings):
    # ``ignore``: this reads the same environment as the service it is deployed beside.
    model_config = SettingsConfigDict(env_prefix="SMARTAREA_", extra="ignore", frozen=True)

    database_url: str = Field(
        default="sqlite:///catalog.sqlite",
        description="the catalog: sqlite:///PATH (default) or postgresql+psycopg://USER@HOST/DB",
    )
