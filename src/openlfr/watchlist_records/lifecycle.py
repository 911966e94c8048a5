"""A watchlist version's life after enrolment: copy, freeze, load for search, purge."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select

from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.storage.context import Ctx, put_blob
from openlfr.storage.errors import Conflict
from openlfr.watchlist.gallery import Gallery
from openlfr.watchlist_records.enrolment import embedding_from
from openlfr.watchlist_records.models import (
    ReferenceImage,
    Subject,
    WatchlistState,
    WatchlistVersion,
)
from openlfr.watchlist_records.service import (
    ENTITY,
    IMAGE_BLOB,
    delete_subject,
    delete_subject_rows,
    require_open,
    template_purpose,
)


def new_version(ctx: Ctx, base: WatchlistVersion) -> WatchlistVersion:
    """An open copy of ``base`` (images and templates re-sealed under new ids).

    Subjects that have expired are left behind.
    """
    if base.state == WatchlistState.PURGED:
        raise Conflict(f"watchlist {base.name} v{base.version} is purged", code="purged")
    latest = ctx.db.execute(
        select(func.max(WatchlistVersion.version)).where(WatchlistVersion.name == base.name)
    ).scalar_one()
    copy = WatchlistVersion(
        name=base.name,
        version=int(latest) + 1,
        description=base.description,
        model_id=base.model_id,
        dim=base.dim,
        state=WatchlistState.OPEN,
        parent_id=base.id,
        created_at=ctx.now,
        created_by=ctx.actor.label,
    )
    ctx.db.add(copy)
    for old in base.subjects:
        if old.expires_at <= ctx.now:
            continue
        subject = Subject(
            watchlist=copy,
            reference=old.reference,
            name=old.name,
            category=old.category,
            priority=old.priority,
            notes=old.notes,
            added_at=old.added_at,
            added_by=old.added_by,
            expires_at=old.expires_at,
        )
        ctx.db.add(subject)
        for img in old.images:
            blob_id = put_blob(ctx, ctx.blobs.get(img.blob_id, IMAGE_BLOB), IMAGE_BLOB)
            template = ctx.blobs.open_inline(img.template, template_purpose(img.blob_id))
            subject.images.append(
                ReferenceImage(
                    blob_id=blob_id,
                    template=ctx.blobs.seal_inline(template, template_purpose(blob_id)),
                    **{
                        k: getattr(img, k)
                        for k in (
                            "media_type",
                            "source_name",
                            "image_source",
                            "sha256",
                            "model_id",
                            "inter_eye_px",
                            "sharpness",
                            "yaw",
                            "pitch",
                            "roll",
                            "det_score",
                            "enrolled_at",
                            "added_by",
                        )
                    },
                )
            )
    ctx.db.flush()
    audit.record(
        ctx,
        Action.WATCHLIST_VERSIONED,
        entity_type=ENTITY,
        entity_id=copy.id,
        details={"name": copy.name, "version": copy.version, "from_id": base.id},
    )
    return copy


def content_digest(wl: WatchlistVersion) -> str:
    """SHA-256 over every subject and the hashes of its images, in a fixed order."""
    h = hashlib.sha256(f"{wl.name}\n{wl.version}\n{wl.model_id}\n".encode())
    for s in sorted(wl.subjects, key=lambda s: s.reference):
        shas = ",".join(sorted(i.sha256 for i in s.images))
        h.update(f"{s.reference}\t{s.category}\t{s.expires_at.isoformat()}\t{shas}\n".encode())
    return h.hexdigest()


def freeze(ctx: Ctx, wl: WatchlistVersion, *, deployment_id: int) -> None:
    """Fix the watchlist's content for a deployment; later changes need a new version."""
    if wl.state == WatchlistState.FROZEN:
        return
    require_open(wl)
    wl.state = WatchlistState.FROZEN
    wl.frozen_at = ctx.now
    wl.content_digest = content_digest(wl)
    audit.record(
        ctx,
        Action.WATCHLIST_FROZEN,
        entity_type=ENTITY,
        entity_id=wl.id,
        deployment_id=deployment_id,
        details={"digest": wl.content_digest, "subjects": len(wl.subjects)},
    )


@dataclass(frozen=True, slots=True)
class LoadedGallery:
    """A frozen watchlist ready to search: the gallery and who each row is."""

    gallery: Gallery
    references: dict[str, str]  # gallery subject id (the Subject row id) -> subject reference


def load_gallery(
    ctx: Ctx, wl: WatchlistVersion, *, deployment_id: int | None, by_reference: bool = False
) -> LoadedGallery:
    """Decrypt the templates of unexpired subjects into a searchable gallery (audited).

    Gallery rows are keyed by the Subject row id, or with ``by_reference`` by the
    subject's reference (a search outside any deployment, from the command line)."""
    ids: list[str] = []
    rows = []
    refs: dict[str, str] = {}
    for s in wl.subjects:
        if s.expires_at <= ctx.now:
            continue
        for img in s.images:
            ids.append(s.reference if by_reference else str(s.id))
            rows.append(
                embedding_from(ctx.blobs.open_inline(img.template, template_purpose(img.blob_id)))
            )
            refs[str(s.id)] = s.reference
    gallery = (
        Gallery(ids, np.stack(rows), wl.model_id) if rows else Gallery.empty(wl.dim, wl.model_id)
    )
    audit.record(
        ctx,
        Action.TEMPLATES_LOADED,
        entity_type=ENTITY,
        entity_id=wl.id,
        deployment_id=deployment_id,
        details={"subjects": len(gallery), "templates": gallery.template_count},
    )
    return LoadedGallery(gallery, refs)


def purge(ctx: Ctx, wl: WatchlistVersion, *, deployment_id: int | None, reason: str) -> int:
    """Delete every subject, image and template of ``wl``; the version row keeps the counts."""
    if wl.state == WatchlistState.PURGED:
        return 0
    subjects = list(wl.subjects)
    images = sum(delete_subject_rows(ctx, s) for s in subjects)
    wl.state = WatchlistState.PURGED
    wl.purged_at = ctx.now
    wl.subjects_purged = len(subjects)
    wl.images_purged = images
    ctx.db.flush()
    audit.record(
        ctx,
        Action.WATCHLIST_PURGED,
        entity_type=ENTITY,
        entity_id=wl.id,
        deployment_id=deployment_id,
        details={"subjects": len(subjects), "images": images, "reason": reason},
    )
    return images


def purge_expired_subjects(ctx: Ctx) -> int:
    """Remove expired subjects from open watchlists (frozen ones are purged with their
    deployment, and authorisation refuses subjects that expire before it ends)."""
    expired = (
        ctx.db.execute(
            select(Subject)
            .join(WatchlistVersion)
            .where(WatchlistVersion.state == WatchlistState.OPEN, Subject.expires_at <= ctx.now)
        )
        .scalars()
        .all()
    )
    for subject in expired:
        delete_subject(ctx, subject, Action.SUBJECT_EXPIRED)
    ctx.db.flush()
    return len(expired)
