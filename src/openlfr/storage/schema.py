"""The complete schema: imports every table so ``Base.metadata`` knows them all."""

from __future__ import annotations

from sqlalchemy import MetaData

from openlfr.storage.base import Base


def metadata() -> MetaData:
    """``Base.metadata`` with every domain's tables registered."""
    # Imported here, not at module level: the domains import storage themselves.
    import openlfr.alert_records.claims
    import openlfr.alert_records.models
    import openlfr.audit.models
    import openlfr.calibrations.models
    import openlfr.deployments.models
    import openlfr.episodes.models
    import openlfr.notify.models
    import openlfr.privacy.keys
    import openlfr.reports.publication
    import openlfr.users.models
    import openlfr.watchlist_records.models  # noqa: F401

    return Base.metadata
