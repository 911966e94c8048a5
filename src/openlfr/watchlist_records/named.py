"""Watchlists by name, as the command line uses them: the newest version of each name.

Everything goes through the same services as the API (the quality gate, sealing,
audit, purge); this module only finds the version a name means and combines steps.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.config.server import GovernanceConfig
from openlfr.deployments.models import Deployment, DeploymentState
from openlfr.storage.context import Ctx
from openlfr.storage.errors import Conflict, NotFound
from openlfr.watchlist.gallery import Gallery
from openlfr.watchlist.models import Template
from openlfr.watchlist.rejections import ImageRejected, Rejection
from openlfr.watchlist_records import lifecycle, service
from openlfr.watchlist_records.enrolment import (
    EnrolmentRefused,
    GateTemplateSource,
    TemplateSource,
)
from openlfr.watchlist_records.models import (
    Subject,
    WatchlistCreate,
    WatchlistState,
    WatchlistVersion,
)
from openlfr.watchlist_records.service import SubjectDetails


def newest(ctx: Ctx, name: str) -> WatchlistVersion | None:
    """The newest version of ``name`` that is not purged, or None."""
    return ctx.db.execute(
        select(WatchlistVersion)
        .where(WatchlistVersion.name == name, WatchlistVersion.state != WatchlistState.PURGED)
        .order_by(WatchlistVersion.version.desc())
        .limit(1)
    ).scalar_one_or_none()


def require(ctx: Ctx, name: str) -> WatchlistVersion:
    wl = newest(ctx, name)
    if wl is None:
        raise NotFound(f"no watchlist named {name!r}")
    return wl


def names(ctx: Ctx) -> list[WatchlistVersion]:
    """The newest unpurged version of every watchlist name, by name."""
    newest_ids = (
        select(func.max(WatchlistVersion.id))
        .where(WatchlistVersion.state != WatchlistState.PURGED)
        .group_by(WatchlistVersion.name)
    )
    rows = ctx.db.execute(
        select(WatchlistVersion)
        .where(WatchlistVersion.id.in_(newest_ids))
        .order_by(WatchlistVersion.name)
    )
    return list(rows.scalars().all())


@dataclass(frozen=True, slots=True)
class Enrolled:
    """What one enrolment added, and where."""

    watchlist: WatchlistVersion
    subject: Subject
    images_added: int
    created_watchlist: bool


def enrol(
    ctx: Ctx,
    name: str,
    details: SubjectDetails,
    images: list[tuple[str, bytes]],
    *,
    source: TemplateSource,
    policy: GovernanceConfig,
) -> Enrolled:
    """Add a subject's photos to the newest version of ``name`` (created if there is none):
    a new subject with its details, or more photos of one already on it. Every photo
    passes the quality gate, or nothing changes."""
    wl = newest(ctx, name)
    created = wl is None
    if wl is None:
        # A new watchlist exists only once its first subject passes the gate: check the
        # photos first, keeping each template so the models run once per photo.
        source = _checked_first(ctx, name, details.reference, images, source)
        wl = service.create(
            ctx, WatchlistCreate(name=name), model_id=source.model_id, dim=source.dim
        )
    existing = next((s for s in wl.subjects if s.reference == details.reference), None)
    if existing is None:
        subject = service.enrol_subject(ctx, wl, details, images, source=source, policy=policy)
        return Enrolled(wl, subject, len(images), created)
    added = service.add_images(
        ctx, existing, images, image_source=details.image_source, source=source
    )
    return Enrolled(wl, existing, len(added), created)


def _checked_first(
    ctx: Ctx, name: str, reference: str, images: list[tuple[str, bytes]], source: TemplateSource
) -> TemplateSource:
    """Run the gate on ``images``; refuse (audited) if any fails, else a source that
    returns the templates already made."""
    made: dict[tuple[str, bytes], Template] = {}
    rejections: list[Rejection] = []
    for image_name, data in images:
        try:
            made[(image_name, data)] = source.template_for(data, image_name)
        except ImageRejected as exc:
            rejections.append(Rejection(image_name, exc.reason, exc.message))
    if rejections:
        audit.record(
            ctx,
            Action.SUBJECT_ENROLMENT_REJECTED,
            entity_type=service.ENTITY,
            details={
                "name": name,
                "reference": reference,
                "rejections": [{"image": r.source, "reason": str(r.reason)} for r in rejections],
            },
        )
        raise EnrolmentRefused(rejections)

    def template_for(data: bytes, image_name: str) -> Template:
        return made.get((image_name, data)) or source.template_for(data, image_name)

    return GateTemplateSource(model_id=source.model_id, dim=source.dim, template_for=template_for)


@dataclass(frozen=True, slots=True)
class Searchable:
    """A watchlist's gallery keyed by subject reference, for a search from the command line."""

    watchlist: WatchlistVersion
    gallery: Gallery


def gallery(ctx: Ctx, name: str) -> Searchable:
    """Decrypt the newest version's templates of unexpired subjects (audited as loaded)."""
    wl = require(ctx, name)
    loaded = lifecycle.load_gallery(ctx, wl, deployment_id=None, by_reference=True)
    return Searchable(wl, loaded.gallery)


def read_subjects(ctx: Ctx, wl: WatchlistVersion) -> list[Subject]:
    """Who is on the watchlist and each photo's provenance (audited, as the API's read)."""
    audit.record(
        ctx,
        Action.WATCHLIST_READ,
        entity_type=service.ENTITY,
        entity_id=wl.id,
        details={"subjects": len(wl.subjects)},
    )
    return list(wl.subjects)


def remove_subject(ctx: Ctx, name: str, reference: str) -> WatchlistVersion:
    """Delete one subject, its photos and templates from the newest (open) version."""
    wl = require(ctx, name)
    subject = next((s for s in wl.subjects if s.reference == reference), None)
    if subject is None:
        raise NotFound(f"watchlist {name!r} has no subject {reference!r}")
    service.remove_subject(ctx, subject)
    return wl


def purge(ctx: Ctx, name: str, *, reason: str) -> tuple[int, int]:
    """Purge every version of ``name`` (subjects, photos, templates; the version rows keep
    the counts), unless a deployment that is not closed uses one. Returns (versions, images)."""
    versions = list(
        ctx.db.execute(
            select(WatchlistVersion).where(
                WatchlistVersion.name == name, WatchlistVersion.state != WatchlistState.PURGED
            )
        )
        .scalars()
        .all()
    )
    if not versions:
        raise NotFound(f"no watchlist named {name!r}")
    in_use = ctx.db.execute(
        select(Deployment.id).where(
            Deployment.watchlist_id.in_([v.id for v in versions]),
            Deployment.state != DeploymentState.CLOSED,
        )
    ).first()
    if in_use is not None:
        raise Conflict(
            f"watchlist {name!r} is used by deployment {in_use[0]}, which is not closed; "
            "closing the deployment purges it",
            code="watchlist_in_use",
        )
    images = sum(lifecycle.purge(ctx, v, deployment_id=None, reason=reason) for v in versions)
    return len(versions), images
