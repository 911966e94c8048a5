"""Routes for watchlist versions, subjects and reference images (thin: the service decides)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from openlfr.api.auth import Caller, need
from openlfr.api.deps import Plane
from openlfr.api.intake import upload
from openlfr.api.pagination import Page, Paging
from openlfr.api.params import RowId
from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.storage.errors import InvalidInput
from openlfr.users.roles import Permission as P
from openlfr.watchlist_records import lifecycle, service
from openlfr.watchlist_records.models import (
    ImageData,
    ImagesAdd,
    ReferenceImageRead,
    SubjectEnrol,
    SubjectRead,
    WatchlistCreate,
    WatchlistRead,
)

router = APIRouter(tags=["watchlists"])
Reader = Annotated[Caller, need(P.WATCHLISTS_READ)]
Writer = Annotated[Caller, need(P.WATCHLISTS_WRITE)]
Viewer = Annotated[Caller, need(P.REFERENCE_IMAGES_VIEW)]


@router.get("/watchlists", response_model=Page[WatchlistRead])
def list_watchlists(
    caller: Reader, page: Paging, name: Annotated[str | None, Query(max_length=64)] = None
) -> Page[WatchlistRead]:
    rows, total = service.list_versions(caller.ctx, offset=page.offset, limit=page.limit, name=name)
    return Page(
        items=[service.read(caller.ctx, wl) for wl in rows],
        total=total,
        offset=page.offset,
        limit=page.limit,
    )


@router.post("/watchlists", response_model=WatchlistRead, status_code=201)
def create_watchlist(body: WatchlistCreate, caller: Writer, plane: Plane) -> WatchlistRead:
    """A new, empty watchlist for the configured recognition model."""
    source = plane.template_source()
    wl = service.create(caller.ctx, body, model_id=source.model_id, dim=source.dim)
    return service.read(caller.ctx, wl)


@router.get("/watchlists/{watchlist_id}", response_model=WatchlistRead)
def get_watchlist(watchlist_id: RowId, caller: Reader) -> WatchlistRead:
    return service.read(caller.ctx, service.get(caller.ctx, watchlist_id))


@router.post("/watchlists/{watchlist_id}/versions", response_model=WatchlistRead, status_code=201)
def new_version(watchlist_id: RowId, caller: Writer) -> WatchlistRead:
    """An open copy of a (frozen) watchlist to make changes in; expired subjects are left out."""
    wl = lifecycle.new_version(caller.ctx, service.get(caller.ctx, watchlist_id))
    return service.read(caller.ctx, wl)


@router.get("/watchlists/{watchlist_id}/subjects", response_model=list[SubjectRead])
def list_subjects(watchlist_id: RowId, caller: Reader) -> list[SubjectRead]:
    """Who is on the watchlist and each photo's provenance (the photos themselves: see
    /reference-images). Audited."""
    wl = service.get(caller.ctx, watchlist_id)
    audit.record(
        caller.ctx,
        Action.WATCHLIST_READ,
        entity_type=service.ENTITY,
        entity_id=wl.id,
        details={"subjects": len(wl.subjects)},
    )
    return [SubjectRead.model_validate(s) for s in wl.subjects]


@router.post("/watchlists/{watchlist_id}/subjects", response_model=SubjectRead, status_code=201)
@upload
def enrol_subject(
    watchlist_id: RowId, body: SubjectEnrol, caller: Writer, plane: Plane
) -> SubjectRead:
    """Add a subject with reference photos. Each photo must pass the quality gate; if any
    is refused, nothing is stored and every rejection is listed with what to do about it."""
    wl = service.get(caller.ctx, watchlist_id, lock=True)
    _check_names(body.images)
    subject = service.enrol_subject(
        caller.ctx,
        wl,
        service.SubjectDetails(
            reference=body.reference,
            category=body.category,
            image_source=body.image_source,
            name=body.name,
            notes=body.notes,
            expires_at=body.expires_at,
        ),
        [(i.name, bytes(i.data)) for i in body.images],
        source=plane.template_source(),
        policy=plane.settings.governance,
    )
    return SubjectRead.model_validate(subject)


def _check_names(images: list[ImageData]) -> None:
    names = [i.name for i in images]
    if len(set(names)) != len(names):
        raise InvalidInput("image names must be unique within a request", field="images")


@router.get("/subjects/{subject_id}", response_model=SubjectRead)
def get_subject(subject_id: RowId, caller: Reader) -> SubjectRead:
    subject = service.get_subject(caller.ctx, subject_id)
    audit.record(
        caller.ctx,
        Action.WATCHLIST_READ,
        entity_type="subject",
        entity_id=subject.id,
        details={"watchlist_id": subject.watchlist_id},
    )
    return SubjectRead.model_validate(subject)


@router.post(
    "/subjects/{subject_id}/images", response_model=list[ReferenceImageRead], status_code=201
)
@upload
def add_images(
    subject_id: RowId, body: ImagesAdd, caller: Writer, plane: Plane
) -> list[ReferenceImageRead]:
    """More photos of an existing subject (all pass the gate, or none are stored)."""
    _check_names(body.images)
    stored = service.add_images(
        caller.ctx,
        service.get_subject(caller.ctx, subject_id),
        [(i.name, bytes(i.data)) for i in body.images],
        image_source=body.image_source,
        source=plane.template_source(),
    )
    return [ReferenceImageRead.model_validate(i) for i in stored]


@router.delete("/subjects/{subject_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_subject(subject_id: RowId, caller: Writer) -> None:
    """Delete a subject with its photos and templates (open watchlists only)."""
    service.remove_subject(caller.ctx, service.get_subject(caller.ctx, subject_id))


@router.get(
    "/reference-images/{image_id}",
    response_class=Response,
    responses={200: {"content": {"image/*": {}}, "description": "The photo's bytes."}},
)
def reference_image(image_id: RowId, caller: Viewer) -> Response:
    """A reference photo, for comparison with a live crop. Every view is audited."""
    image, data = service.reference_image(caller.ctx, image_id)
    return Response(
        content=data,
        media_type=image.media_type,
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )
