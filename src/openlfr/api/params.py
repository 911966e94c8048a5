"""Path and query parameters every router shares: record ids within the database's range."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from openlfr.storage.fields import DB_INT_MAX

RowId = Annotated[int, Path(ge=1, le=DB_INT_MAX, description="A record's id.")]
"""A record's id in a path: ``deployment_id: RowId``."""

QueryRowId = Annotated[int | None, Query(ge=1, le=DB_INT_MAX)]
"""An optional id filter in a query string (``?deployment_id=``)."""
