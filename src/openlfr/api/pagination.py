"""Offset pagination: the query parameters and the page every list route returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field

from openlfr.storage.fields import DB_INT_MAX

MAX_LIMIT = 500
T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list, newest or oldest first as the route documents."""

    items: list[T]
    total: int = Field(description="How many items match in all.")
    offset: int
    limit: int


@dataclass(frozen=True, slots=True)
class PageParams:
    offset: int
    limit: int


def _page_params(
    offset: Annotated[int, Query(ge=0, le=DB_INT_MAX, description="Items to skip.")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")] = 50,
) -> PageParams:
    return PageParams(offset, limit)


Paging = Annotated[PageParams, Depends(_page_params)]
