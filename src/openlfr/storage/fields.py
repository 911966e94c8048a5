"""Field types every domain's request schemas share: ids and counts a database can hold, and
update fields that may be left out but never set to null.

An id beyond what a column can store is refused as invalid (422) when the request is read,
rather than reaching the database and failing there: PostgreSQL refuses a bind beyond its
``integer``, SQLite one beyond 64 bits. tests/api/test_input_ranges.py holds every integer
the API accepts to a bound.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator, Field
from pydantic.json_schema import SkipJsonSchema

# PostgreSQL's `integer`, the narrowest integer column of either backend (SQLite's are 64-bit).
DB_INT_MAX = 2**31 - 1
# What a counter may reach: the largest integer every JSON reader holds exactly.
COUNT_MAX = 2**53 - 1

RefId = Annotated[int, Field(ge=1, le=DB_INT_MAX)]
"""A record's id in a body, referring to another record."""

Count = Annotated[int, Field(ge=0, le=COUNT_MAX)]
"""A non-negative counter."""

T = TypeVar("T")


def _not_null(value: Any) -> Any:
    if value is None:
        raise ValueError("may be left out, but not null")
    return value


Omittable = Annotated[T | SkipJsonSchema[None], BeforeValidator(_not_null)]
"""An update's field that may be left out (keeping its value) but never set to null:
``name: Omittable[str] = None``. Its schema does not offer null."""
