"""Audit page: search the hash-chained log, see the last chain verification, export."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy import Select, func, select

from openlfr.api.auth import Caller, need
from openlfr.api.plane import ControlPlane
from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.audit.models import AuditEvent
from openlfr.users.people import people
from openlfr.users.roles import Permission as P
from openlfr.web.access import Page
from openlfr.web.guard import Viewer, viewer_of
from openlfr.web.render import render

router = APIRouter()
AuditViewer = Annotated[Viewer, viewer_of(Page.AUDIT)]
Auditor = Annotated[Caller, need(P.AUDIT_READ)]
PAGE_SIZE = 50
_Q = TypeVar("_Q", bound=Select[Any])
_BATCH = 2000
EXPORT_FIELDS = (
    "seq",
    "at",
    "actor",
    "actor_user_id",
    "action",
    "entity_type",
    "entity_id",
    "deployment_id",
    "details",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True, slots=True)
class AuditSearch:
    """The page's filters; every one optional, all combined."""

    action: str | None
    actor: str | None
    text: str | None
    deployment_id: int | None
    entity_type: str | None
    entity_id: str | None
    since: date | None
    until: date | None

    @property
    def active(self) -> dict[str, str]:
        values = {
            "action": self.action,
            "actor": self.actor,
            "text": self.text,
            "deployment_id": None if self.deployment_id is None else str(self.deployment_id),
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "since": None if self.since is None else self.since.isoformat(),
            "until": None if self.until is None else self.until.isoformat(),
        }
        return {k: v for k, v in values.items() if v}

    def apply(self, query: _Q) -> _Q:
        if self.action:
            query = query.where(AuditEvent.action == self.action)
        if self.actor:
            query = query.where(func.lower(AuditEvent.actor).contains(self.actor.lower()))
        if self.text:
            query = query.where(func.lower(AuditEvent.details).contains(self.text.lower()))
        if self.deployment_id is not None:
            query = query.where(AuditEvent.deployment_id == self.deployment_id)
        if self.entity_type:
            query = query.where(AuditEvent.entity_type == self.entity_type)
        if self.entity_id:
            query = query.where(AuditEvent.entity_id == self.entity_id)
        if self.since is not None:
            query = query.where(AuditEvent.at >= datetime.combine(self.since, time(), UTC))
        if self.until is not None:
            end = datetime.combine(self.until + timedelta(days=1), time(), UTC)
            query = query.where(AuditEvent.at < end)
        return query


def _blank(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def search_params(
    action: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    text: Annotated[str | None, Query(max_length=200)] = None,
    deployment_id: Annotated[str | None, Query(max_length=12)] = None,
    entity_type: Annotated[str | None, Query(max_length=32)] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[str | None, Query(max_length=10)] = None,
    until: Annotated[str | None, Query(max_length=10)] = None,
) -> AuditSearch:
    """Filters from the query string; empty form fields count as absent."""

    def day(value: str | None) -> date | None:
        value = _blank(value)
        try:
            return None if value is None else date.fromisoformat(value)
        except ValueError:
            return None

    dep = _blank(deployment_id)
    return AuditSearch(
        action=_blank(action),
        actor=_blank(actor),
        text=_blank(text),
        deployment_id=int(dep) if dep and dep.isdigit() else None,
        entity_type=_blank(entity_type),
        entity_id=_blank(entity_id),
        since=day(since),
        until=day(until),
    )


Search = Annotated[AuditSearch, Depends(search_params)]


@dataclass(frozen=True, slots=True)
class EventRow:
    event: AuditEvent
    details: str


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    viewer: AuditViewer,
    search: Search,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Events newest first, 50 a page, with the last verification of the chain."""
    db = viewer.caller.ctx.db
    query = search.apply(select(AuditEvent))
    total = db.execute(search.apply(select(func.count()).select_from(AuditEvent))).scalar_one()
    rows = list(
        db.execute(
            query.order_by(AuditEvent.seq.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
        ).scalars()
    )
    last_check = db.execute(
        select(AuditEvent)
        .where(AuditEvent.action == str(Action.AUDIT_VERIFIED))
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).scalar_one_or_none()
    return render(
        request,
        "audit.html",
        viewer,
        title="Audit log",
        rows=[EventRow(e, _compact(e.details)) for e in rows],
        total=int(total),
        page=page,
        pages=max(1, -(-int(total) // PAGE_SIZE)),
        search=search,
        actions=[str(a) for a in Action],
        last_check=last_check,
        who=people(db, [e.actor for e in rows] + ([last_check.actor] if last_check else [])),
        last_check_details=None if last_check is None else audit.details_of(last_check),
    )


def _compact(details: str) -> str:
    """Details as one readable line (the canonical JSON without braces)."""
    try:
        value = json.loads(details)
    except ValueError:
        return details
    if not isinstance(value, dict) or not value:
        return "" if not value else details
    return "; ".join(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in value.items())


def _export_rows(plane: ControlPlane, search: AuditSearch) -> Iterator[AuditEvent]:
    with plane.database.session() as db:
        after = 0
        while True:
            batch = (
                db.execute(
                    search.apply(select(AuditEvent))
                    .where(AuditEvent.seq > after)
                    .order_by(AuditEvent.seq)
                    .limit(_BATCH)
                )
                .scalars()
                .all()
            )
            if not batch:
                return
            yield from batch
            after = batch[-1].seq


def _jsonl(plane: ControlPlane, search: AuditSearch) -> Iterator[bytes]:
    for e in _export_rows(plane, search):
        row = {k: getattr(e, k) for k in EXPORT_FIELDS}
        row["at"] = e.at.isoformat()
        row["details"] = json.loads(e.details)
        yield (json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n").encode()


def _csv(plane: ControlPlane, search: AuditSearch) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_FIELDS)
    for e in _export_rows(plane, search):
        writer.writerow([e.at.isoformat() if k == "at" else getattr(e, k) for k in EXPORT_FIELDS])
        if buffer.tell() > 64_000:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


@router.get("/audit/export", response_class=StreamingResponse)
def export(
    request: Request,
    caller: Auditor,
    search: Search,
    format: Annotated[Literal["jsonl", "csv"], Query()] = "jsonl",
) -> StreamingResponse:
    """The matching events, oldest first, with their hashes (a full export can be re-verified
    by anyone: each event's hash covers the previous one's). The export is audited."""
    plane = request.app.state.plane
    assert isinstance(plane, ControlPlane)
    audit.record(
        caller.ctx,
        Action.AUDIT_EXPORTED,
        entity_type="audit",
        details={"format": format, "filters": dict(search.active)},
    )
    stamp = caller.ctx.now.strftime("%Y%m%dT%H%M%SZ")
    body = _jsonl(plane, search) if format == "jsonl" else _csv(plane, search)
    media = "application/x-ndjson" if format == "jsonl" else "text/csv"
    return StreamingResponse(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="openlfr-audit-{stamp}.{format}"'},
    )
