"""Watchlist versions: create, enrol behind the quality gate, freeze, copy, search, purge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.config.server import GovernanceConfig
from openlfr.storage.context import Ctx, drop_blob, put_blob
from openlfr.storage.errors import Conflict, InvalidInput, NotFound
from openlfr.watchlist.models import Template
from openlfr.watchlist.rejections import ImageRejected, Rejection
from openlfr.watchlist_records.enrolment import (
    EnrolmentRefused,
    TemplateSource,
    embedding_bytes,
    media_type,
)
from openlfr.watchlist_records.models import (
    ReferenceImage,
    Subject,
    WatchlistCreate,
    WatchlistRead,
    WatchlistState,
    WatchlistVersion,
)

IMAGE_BLOB = "reference-image"
ENTITY = "watchlist"


@dataclass(frozen=True, slots=True)
class SubjectDetails:
    """What a watchlist manager records about a subject besides the photos."""

    reference: str
    category: str
    image_source: str
    name: str | None = None
    notes: str = ""
    expires_at: datetime | None = None


def get(ctx: Ctx, watchlist_id: int, *, lock: bool = False) -> WatchlistVersion:
    query = select(WatchlistVersion).where(WatchlistVersion.id == watchlist_id)
    if lock:
        query = query.with_for_update()
    wl = ctx.db.execute(query).scalar_one_or_none()
    if wl is None:
        raise NotFound(f"no watchlist with id {watchlist_id}")
    return wl


def read(ctx: Ctx, wl: WatchlistVersion) -> WatchlistRead:
    subjects = len(wl.subjects)
    images = sum(len(s.images) for s in wl.subjects)
    return WatchlistRead.model_validate(
        {
            **{k: getattr(wl, k) for k in WatchlistRead.model_fields if hasattr(wl, k)},
            "subject_count": subjects,
            "image_count": images,
        }
    )


def list_versions(
    ctx: Ctx, *, offset: int, limit: int, name: str | None = None
) -> tuple[list[WatchlistVersion], int]:
    query = select(WatchlistVersion)
    count = select(func.count()).select_from(WatchlistVersion)
    if name is not None:
        query = query.where(WatchlistVersion.name == name)
        count = count.where(WatchlistVersion.name == name)
    rows = ctx.db.execute(
        query.options(selectinload(WatchlistVersion.subjects).selectinload(Subject.images))
        .order_by(WatchlistVersion.id)
        .offset(offset)
        .limit(limit)
    )
    return list(rows.scalars().all()), int(ctx.db.execute(count).scalar_one())


def create(ctx: Ctx, data: WatchlistCreate, *, model_id: str, dim: int) -> WatchlistVersion:
    """A new, empty, open watchlist: version 1 of its name, or the next version of a name
    whose every version is purged (the purged ones keep their counts and history)."""
    versions = ctx.db.execute(
        select(WatchlistVersion.version, WatchlistVersion.state).where(
            WatchlistVersion.name == data.name
        )
    ).all()
    if any(state != WatchlistState.PURGED for _, state in versions):
        raise Conflict(
            f"a watchlist named {data.name!r} exists; add a version to it instead",
            code="name_taken",
        )
    wl = WatchlistVersion(
        name=data.name,
        version=max((v for v, _ in versions), default=0) + 1,
        description=data.description,
        model_id=model_id,
        dim=dim,
        state=WatchlistState.OPEN,
        created_at=ctx.now,
        created_by=ctx.actor.label,
    )
    ctx.db.add(wl)
    ctx.db.flush()
    audit.record(
        ctx,
        Action.WATCHLIST_CREATED,
        entity_type=ENTITY,
        entity_id=wl.id,
        details={"name": wl.name, "version": wl.version, "model_id": model_id},
    )
    return wl


def require_open(wl: WatchlistVersion) -> None:
    if wl.state != WatchlistState.OPEN:
        raise Conflict(
            f"watchlist {wl.name} v{wl.version} is {wl.state}; make a new version to change it",
            code="watchlist_frozen",
        )


def _templates(
    source: TemplateSource, wl: WatchlistVersion, images: list[tuple[str, bytes]]
) -> list[tuple[str, bytes, Template]]:
    if source.model_id != wl.model_id:
        raise Conflict(
            f"watchlist {wl.name} holds {wl.model_id} templates but the configured model is "
            f"{source.model_id}",
            code="model_mismatch",
        )
    accepted: list[tuple[str, bytes, Template]] = []
    rejections: list[Rejection] = []
    for name, data in images:
        try:
            accepted.append((name, data, source.template_for(data, name)))
        except ImageRejected as exc:
            rejections.append(Rejection(name, exc.reason, exc.message))
    if rejections:
        raise EnrolmentRefused(rejections)
    return accepted


def _store_images(
    ctx: Ctx,
    subject: Subject,
    accepted: list[tuple[str, bytes, Template]],
    image_source: str,
) -> list[ReferenceImage]:
    stored = []
    for name, data, template in accepted:
        blob_id = put_blob(ctx, data, IMAGE_BLOB)
        q = template.quality
        image = ReferenceImage(
            blob_id=blob_id,
            media_type=media_type(data),
            source_name=name[:255],
            image_source=image_source,
            sha256=template.source_sha256,
            model_id=subject.watchlist.model_id,
            template=ctx.blobs.seal_inline(
                embedding_bytes(template.embedding), template_purpose(blob_id)
            ),
            inter_eye_px=q.inter_eye_px,
            sharpness=q.sharpness,
            yaw=q.yaw,
            pitch=q.pitch,
            roll=q.roll,
            det_score=q.det_score,
            enrolled_at=ctx.now,
            added_by=ctx.actor.label,
        )
        subject.images.append(image)
        stored.append(image)
    return stored


def template_purpose(blob_id: str) -> str:
    return f"template:{blob_id}"


def enrol_subject(
    ctx: Ctx,
    wl: WatchlistVersion,
    details: SubjectDetails,
    images: list[tuple[str, bytes]],
    *,
    source: TemplateSource,
    policy: GovernanceConfig,
) -> Subject:
    """Add a subject with its reference images: every image passes the gate, or nothing changes."""
    require_open(wl)
    if details.category not in policy.offence_categories:
        raise InvalidInput(
            f"category {details.category!r} is not allowed; use one of "
            + ", ".join(policy.offence_categories),
            field="category",
        )
    expires = details.expires_at or ctx.now + timedelta(days=policy.subject_default_expiry_days)
    if expires <= ctx.now:
        raise InvalidInput("expiry must be in the future", field="expires_at")
    if not images:
        raise InvalidInput("at least one reference image is required", field="images")
    if any(s.reference == details.reference for s in wl.subjects):
        raise Conflict(
            f"subject {details.reference!r} is already on {wl.name} v{wl.version}; add images "
            "to it instead",
            code="subject_exists",
        )
    try:
        accepted = _templates(source, wl, images)
    except EnrolmentRefused as exc:
        audit.record(
            ctx,
            Action.SUBJECT_ENROLMENT_REJECTED,
            entity_type=ENTITY,
            entity_id=wl.id,
            details={
                "reference": details.reference,
                "rejections": [
                    {"image": r.source, "reason": str(r.reason)} for r in exc.rejections
                ],
            },
        )
        raise
    subject = Subject(
        watchlist=wl,
        reference=details.reference,
        name=details.name,
        category=details.category,
        priority=policy.category_priorities.get(details.category, 0),
        notes=details.notes,
        added_at=ctx.now,
        added_by=ctx.actor.label,
        expires_at=expires,
    )
    ctx.db.add(subject)
    stored = _store_images(ctx, subject, accepted, details.image_source)
    ctx.db.flush()
    audit.record(
        ctx,
        Action.SUBJECT_ENROLLED,
        entity_type="subject",
        entity_id=subject.id,
        details={
            "watchlist_id": wl.id,
            "reference": subject.reference,
            "category": subject.category,
            "expires_at": expires.isoformat(),
            "images": [{"id": i.id, "sha256": i.sha256, "source": i.image_source} for i in stored],
        },
    )
    return subject


def get_subject(ctx: Ctx, subject_id: int) -> Subject:
    subject = ctx.db.get(Subject, subject_id)
    if subject is None:
        raise NotFound(f"no subject with id {subject_id}")
    return subject


def add_images(
    ctx: Ctx,
    subject: Subject,
    images: list[tuple[str, bytes]],
    *,
    image_source: str,
    source: TemplateSource,
) -> list[ReferenceImage]:
    """More reference images for an existing subject (all accepted, or none)."""
    require_open(subject.watchlist)
    if not images:
        raise InvalidInput("at least one reference image is required", field="images")
    accepted = _templates(source, subject.watchlist, images)
    stored = _store_images(ctx, subject, accepted, image_source)
    ctx.db.flush()
    audit.record(
        ctx,
        Action.SUBJECT_ENROLLED,
        entity_type="subject",
        entity_id=subject.id,
        details={
            "watchlist_id": subject.watchlist_id,
            "reference": subject.reference,
            "images": [{"id": i.id, "sha256": i.sha256, "source": i.image_source} for i in stored],
        },
    )
    return stored


def delete_subject_rows(ctx: Ctx, subject: Subject) -> int:
    n = len(subject.images)
    for image in subject.images:
        drop_blob(ctx, image.blob_id)
    ctx.db.delete(subject)
    return n


def delete_subject(ctx: Ctx, subject: Subject, action: Action) -> None:
    """Delete a subject with its images and templates, audited as ``action``."""
    audit.record(
        ctx,
        action,
        entity_type="subject",
        entity_id=subject.id,
        details={
            "watchlist_id": subject.watchlist_id,
            "reference": subject.reference,
            "images": delete_subject_rows(ctx, subject),
        },
    )


def remove_subject(ctx: Ctx, subject: Subject) -> None:
    """Delete a subject, its images and templates from an open watchlist."""
    require_open(subject.watchlist)
    delete_subject(ctx, subject, Action.SUBJECT_REMOVED)
    ctx.db.flush()


def reference_image(ctx: Ctx, image_id: int) -> tuple[ReferenceImage, bytes]:
    """A reference photo's bytes, for the side-by-side comparison (audited)."""
    image = ctx.db.get(ReferenceImage, image_id)
    if image is None:
        raise NotFound(f"no reference image with id {image_id}")
    data = ctx.blobs.get(image.blob_id, IMAGE_BLOB)
    audit.record(
        ctx,
        Action.REFERENCE_IMAGE_VIEWED,
        entity_type="reference_image",
        entity_id=image.id,
        details={"subject_id": image.subject_id, "sha256": image.sha256},
    )
    return image, data
