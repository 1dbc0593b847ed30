"""Every table of the catalog database, in one metadata.

SQLAlchemy learns a table when its module is imported; this module imports them all, so the
migrations compare against the whole schema and no session meets a half-known mapping.
"""

from catalog import criteria, incidents, limits, models

METADATA = models.Base.metadata
MODULES = (models, incidents, criteria, limits)
