"""Building one alert's evidence pack from the database (see :mod:`openlfr.evidence.verify`).

The pack is a sealed zip (:mod:`openlfr.evidence.seal`) holding:

* ``manifest.json``: format ``openlfr-evidence-pack/1``; the alert (camera, capture
  time, score, threshold, track, subject reference), its looks, the model and
  threshold with the calibration id and hash, every decision and who made it, the
  alert's episode (its other looks and the two-person verification: who proposed,
  who confirmed or disputed, when), the
  SHA-256 of every image, the audit events concerned, the chain proof (every
  event from the first concerned one up to a signed checkpoint), the checkpoint,
  and the checkpoint key's public PEM and fingerprint;
* ``images/live-crop.<ext>``: the probe crop the camera sent;
* ``images/look-<alert id>.<ext>``: the crop of each other look of the alert's episode;
* ``images/reference-<n>.<ext>``: the subject's watchlist photos, while they exist.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import or_, select

from openlfr.alert_records.models import AlertRecord
from openlfr.alert_records.service import CROP_BLOB
from openlfr.audit.actions import Action
from openlfr.audit.checkpoints import (
    Checkpoint,
    CheckpointError,
    SigningKey,
    chain_proof,
    public_key_pem,
    read_checkpoints,
)
from openlfr.audit.models import AuditEvent
from openlfr.audit.service import details_of
from openlfr.deployments.models import Deployment
from openlfr.episodes import service as episodes
from openlfr.episodes.models import Episode
from openlfr.evidence.events import event_json
from openlfr.evidence.seal import seal
from openlfr.storage.context import Ctx
from openlfr.storage.errors import NotFound
from openlfr.watchlist_records.enrolment import sha256_hex
from openlfr.watchlist_records.models import ReferenceImage, Subject, WatchlistVersion
from openlfr.watchlist_records.service import IMAGE_BLOB

FORMAT = "openlfr-evidence-pack/1"
_EXT = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
# The zip's entries carry this date, so a pack's bytes depend on its content only.
_EPOCH = (1980, 1, 1, 0, 0, 0)

# Deployment events that bear on an alert: how it was authorised and run, at what threshold.
_DEPLOYMENT_ACTIONS = (
    Action.DEPLOYMENT_AUTHORISED,
    Action.DEPLOYMENT_STARTED,
    Action.DEPLOYMENT_STOPPED,
    Action.THRESHOLD_CHANGED,
    Action.EVIDENCE_OVERRIDDEN,
    Action.AUTHORITY_RECORDED,
    Action.URGENT_START,
    Action.SIGNAGE_CONFIRMED,
)
# The episode's events that are decisions: a two-person engagement is two of them, then the
# decision that settles every look.
_EPISODE_DECISIONS = (
    Action.ENGAGEMENT_PROPOSED,
    Action.ENGAGEMENT_CONFIRMED,
    Action.ENGAGEMENT_DISPUTED,
    Action.EPISODE_DECIDED,
)

Checkpointer = Callable[[str], Checkpoint]


@dataclass(frozen=True, slots=True)
class BuiltPack:
    data: bytes
    checkpoint: Checkpoint
    first_seq: int
    events: int


def concerned_events(
    ctx: Ctx, alert: AlertRecord, looks: Sequence[AlertRecord] = ()
) -> list[AuditEvent]:
    """The alert's own events, its deployment's running events up to it, and its subject's;
    with an episode, its events and every look's."""
    ids = sorted({str(alert.id), *(str(look.id) for look in looks)})
    clauses = [(AuditEvent.entity_type == "alert") & AuditEvent.entity_id.in_(ids)]
    if alert.episode_id is not None:
        clauses.append(
            (AuditEvent.entity_type == episodes.ENTITY)
            & (AuditEvent.entity_id == str(alert.episode_id))
        )
    clauses.append(
        (AuditEvent.deployment_id == alert.deployment_id)
        & AuditEvent.action.in_([str(a) for a in _DEPLOYMENT_ACTIONS])
    )
    if alert.subject_id is not None:
        clauses.append(
            (AuditEvent.entity_type == "subject") & (AuditEvent.entity_id == str(alert.subject_id))
        )
    rows = ctx.db.execute(select(AuditEvent).where(or_(*clauses)).order_by(AuditEvent.seq))
    found = list(rows.scalars())
    created = next(
        (e.seq for e in found if e.action == Action.ALERT_CREATED and e.entity_id == str(alert.id)),
        None,
    )
    # Later uses of the deployment say nothing about this alert.
    return [
        e for e in found if e.entity_type != "deployment" or created is None or e.seq <= created
    ]


def covering_checkpoint(path: Path, key: SigningKey, ctx: Ctx, last_seq: int) -> Checkpoint | None:
    """The earliest checkpoint of ``key`` at or after ``last_seq`` that the log still matches."""
    try:
        found = read_checkpoints(path).checkpoints
    except CheckpointError:
        return None
    usable = sorted(
        (c for c in found if c.seq >= last_seq and c.signature_valid(key.public_key)),
        key=lambda c: c.seq,
    )
    for cp in usable:
        stored = ctx.db.execute(select(AuditEvent.hash).where(AuditEvent.seq == cp.seq)).scalar()
        if stored == cp.hash:
            return cp
    return None


def _decisions(events: Sequence[AuditEvent]) -> list[dict[str, object]]:
    """Every decision on the alert, with who made it and when (from the log, not the row)."""
    out: list[dict[str, object]] = []
    for e in events:
        on_alert = e.entity_type == "alert" and e.action == Action.ALERT_ADJUDICATED
        on_episode = e.entity_type == episodes.ENTITY and e.action in _EPISODE_DECISIONS
        if not (on_alert or on_episode):
            continue
        out.append(
            {
                "seq": e.seq,
                "entity": f"{e.entity_type}:{e.entity_id}",
                "action": e.action,
                "at": e.at.astimezone(UTC).isoformat(),
                "by": e.actor,
                "by_user_id": e.actor_user_id,
                **{k: v for k, v in details_of(e).items() if k not in ("seq", "at", "by")},
            }
        )
    return out


def _episode(ep: Episode | None) -> dict[str, object] | None:
    """The queue item the alert was decided in, with its two-person verification."""
    if ep is None:
        return None

    def at(value: datetime | None) -> str | None:
        return None if value is None else value.astimezone(UTC).isoformat()

    return {
        "id": ep.id,
        "first_seen_at": at(ep.first_seen_at),
        "last_seen_at": at(ep.last_seen_at),
        "cameras": ep.camera_list,
        "looks": ep.looks,
        "best_score": ep.best_score,
        "decision": ep.decision,
        "decided_at": at(ep.decided_at),
        "verification": {
            "state": ep.verification,
            "proposed_by": ep.proposed_by,
            "proposed_by_person": ep.proposed_by_person,
            "proposed_at": at(ep.proposed_at),
            "checked_by": ep.checked_by,
            "checked_by_person": ep.checked_by_person,
            "checked_decision": ep.checked_decision,
            "checked_at": at(ep.checked_at),
        },
    }


def build(
    ctx: Ctx,
    alert_id: int,
    *,
    key: SigningKey,
    checkpoint_file: Path,
    take_checkpoint: Checkpointer,
) -> BuiltPack:
    """The sealed pack for ``alert_id``; a new checkpoint is taken if none covers it yet."""
    alert = ctx.db.get(AlertRecord, alert_id)
    if alert is None:
        raise NotFound(f"no alert with id {alert_id}")
    dep = ctx.db.get(Deployment, alert.deployment_id)
    assert dep is not None
    ep = alert.episode
    looks = [alert] if ep is None else episodes.looks(ctx, ep)
    if all(look.id != alert.id for look in looks):
        looks = [alert, *looks]
    concerned = concerned_events(ctx, alert, looks)
    last = max(e.seq for e in concerned)
    cp = covering_checkpoint(checkpoint_file, key, ctx, last)
    if cp is None:
        cp = take_checkpoint(f"evidence pack for alert {alert.id}")
    first = min(e.seq for e in concerned)
    proof = chain_proof(ctx.db, first, cp.seq)

    files: dict[str, bytes] = {}
    crop = ctx.blobs.get(alert.crop_blob_id, CROP_BLOB)
    files[f"images/live-crop.{_EXT.get(alert.crop_media_type, 'bin')}"] = crop
    look_entries: list[dict[str, object]] = []
    for look in looks:
        if look.id == alert.id:
            name = f"images/live-crop.{_EXT.get(alert.crop_media_type, 'bin')}"
        else:
            name = f"images/look-{look.id}.{_EXT.get(look.crop_media_type, 'bin')}"
            files[name] = ctx.blobs.get(look.crop_blob_id, CROP_BLOB)
        look_entries.append(
            {
                "alert_id": look.id,
                "file": name,
                "captured_at": look.captured_at.astimezone(UTC).isoformat(),
                "camera": look.camera,
                "track_id": look.track_id,
                "score": look.score,
                "crop_sha256": look.crop_sha256,
            }
        )
    references: list[dict[str, object]] = []
    wl = ctx.db.get(WatchlistVersion, alert.watchlist_id)
    subject = None if alert.subject_id is None else ctx.db.get(Subject, alert.subject_id)
    if subject is not None:
        images = ctx.db.execute(
            select(ReferenceImage)
            .where(ReferenceImage.subject_id == subject.id)
            .order_by(ReferenceImage.id)
        ).scalars()
        for n, image in enumerate(images, start=1):
            name = f"images/reference-{n}.{_EXT.get(image.media_type, 'bin')}"
            files[name] = ctx.blobs.get(image.blob_id, IMAGE_BLOB)
            references.append(
                {
                    "file": name,
                    "image_id": image.id,
                    "source": image.image_source,
                    "sha256": image.sha256,
                    "model_id": image.model_id,
                }
            )
    manifest = {
        "format": FORMAT,
        "created_at": ctx.now.astimezone(UTC).isoformat(),
        "created_by": ctx.actor.label,
        "alert": {
            "id": alert.id,
            "uid": alert.uid,
            "deployment_id": alert.deployment_id,
            "deployment_name": dep.name,
            "run_id": alert.run_id,
            "camera": alert.camera,
            "captured_at": alert.captured_at.astimezone(UTC).isoformat(),
            "recorded_at": alert.created_at.astimezone(UTC).isoformat(),
            "track_id": alert.track_id,
            "subject_reference": alert.subject_reference,
            "score": alert.score,
            "threshold": alert.threshold,
            "crop_sha256": alert.crop_sha256,
        },
        # Every sighting of the alert's episode (the alert alone when it has none).
        "looks": look_entries,
        "episode": _episode(ep),
        "model": {"model_id": None if wl is None else wl.model_id},
        "threshold": {
            "value": alert.threshold,
            "calibration_id": dep.calibration_id,
            "calibration_sha256": dep.calibration_sha256,
            "evidence_override": dep.evidence_override,
        },
        "references": references,
        "reference_note": None
        if references
        else "the subject's watchlist photos were purged with the watchlist",
        "decisions": _decisions(concerned),
        "files": {name: sha256_hex(data) for name, data in files.items()},
        "concerned_seqs": [e.seq for e in concerned],
        "chain_proof": [event_json(e) for e in proof],
        "checkpoint": cp.to_dict(),
        "public_key_pem": public_key_pem(key.public_key),
        "key_id": key.key_id,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        body = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False).encode()
        _write(zf, "manifest.json", body, compress=True)
        for name, data in files.items():
            _write(zf, name, data, compress=False)
    return BuiltPack(seal(buffer.getvalue(), key), cp, first, len(proof))


def _write(zf: zipfile.ZipFile, name: str, data: bytes, *, compress: bool) -> None:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    zf.writestr(info, data)


def default_name(alert_id: int, at: datetime) -> str:
    return f"evidence-alert-{alert_id}-{at.astimezone(UTC):%Y%m%dT%H%M%SZ}.zip"
