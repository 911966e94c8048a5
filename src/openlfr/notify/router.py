"""Routes for webhook subscriptions and the delivery outbox."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from openlfr.api.auth import Caller, need
from openlfr.api.pagination import Page, Paging
from openlfr.api.params import RowId
from openlfr.notify import service
from openlfr.notify.models import (
    DeliveryRead,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionRead,
)
from openlfr.users.roles import Permission as P

router = APIRouter(tags=["notifications"])
Manager = Annotated[Caller, need(P.SUBSCRIPTIONS_MANAGE)]


@router.get("/subscriptions", response_model=list[SubscriptionRead])
def list_subscriptions(caller: Manager) -> list[SubscriptionRead]:
    return [SubscriptionRead.model_validate(s) for s in service.list_subscriptions(caller.ctx)]


@router.post("/subscriptions", response_model=SubscriptionCreated, status_code=201)
def create_subscription(body: SubscriptionCreate, caller: Manager) -> SubscriptionCreated:
    """A webhook that receives every new alert (or one deployment's), signed with HMAC-SHA256
    in the ``X-Openlfr-Signature`` header (``t=<unix>,v1=<hex>`` over ``"<t>." + body``)."""
    sub, secret = service.create_subscription(caller.ctx, body)
    return SubscriptionCreated.model_validate(
        {**SubscriptionRead.model_validate(sub).model_dump(), "secret": secret}
    )


@router.delete("/subscriptions/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_subscription(subscription_id: RowId, caller: Manager) -> None:
    service.remove_subscription(caller.ctx, subscription_id)


@router.get("/deliveries", response_model=Page[DeliveryRead])
def list_deliveries(
    caller: Manager,
    page: Paging,
    pending: Annotated[bool, Query(description="Only deliveries not yet made.")] = False,
) -> Page[DeliveryRead]:
    """The outbox, newest first: what reached each subscriber, and what is still retrying."""
    rows, total = service.list_deliveries(
        caller.ctx, offset=page.offset, limit=page.limit, pending_only=pending
    )
    return Page(
        items=[DeliveryRead.model_validate(d) for d in rows],
        total=total,
        offset=page.offset,
        limit=page.limit,
    )
