"""Scheduled purges: expired alerts (unless on legal hold), closed deployments' watchlists,
expired subjects, stale sessions and orphaned blobs, each audited with counts; and the law's
clock (urgent starts past their deadline, authorised ends), checked more often.

Audit events are never purged here: the log is append-only (the database refuses
DELETE on it), so ``retention.audit_floor_days`` holds trivially."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from openlfr.alert_records import service as alerts
from openlfr.alert_records.models import AlertRecord
from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.config.authorisation import AuthorisationConfig
from openlfr.config.server import RetentionConfig
from openlfr.deployments import legal_clock
from openlfr.deployments import service as deployments
from openlfr.deployments.models import Deployment, DeploymentState
from openlfr.storage.blobs import BlobStore
from openlfr.storage.clock import Clock
from openlfr.storage.context import Actor, Ctx
from openlfr.storage.engine import Database
from openlfr.users import service as users
from openlfr.watchlist_records import lifecycle
from openlfr.watchlist_records.models import ReferenceImage

log = logging.getLogger(__name__)
SYSTEM = Actor.system("retention")


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """What one purge run deleted (the same counts go into the audit log)."""

    at: datetime
    alerts_purged: int
    deployments_purged: int
    reference_images_purged: int
    subjects_expired: int
    sessions_ended: int
    orphan_blobs_deleted: int
    # Deployments the law's clock revoked (stopped, data purged) or stopped at their end.
    deployments_revoked: list[int] = field(default_factory=list)
    deployments_stopped: list[int] = field(default_factory=list)


Stopped = Callable[[int], None]


def run_clock(
    database: Database,
    blobs: BlobStore,
    clock: Clock,
    config: AuthorisationConfig,
    *,
    actor: Actor = SYSTEM,
    on_stopped: Stopped | None = None,
) -> legal_clock.ClockReport:
    """Apply the law's clock once, as of ``clock.now()``; ``on_stopped`` stops the cameras
    of each deployment it stopped, once that is committed."""
    with database.session() as db:
        ctx = Ctx(db=db, actor=actor, now=clock.now(), blobs=blobs)
        report = legal_clock.enforce(ctx, config)
    if on_stopped is not None:
        for dep_id in report.stopped:
            on_stopped(dep_id)
    return report


def run_purge(
    database: Database,
    blobs: BlobStore,
    clock: Clock,
    config: RetentionConfig,
    *,
    actor: Actor = SYSTEM,
    authorisation: AuthorisationConfig | None = None,
    on_stopped: Stopped | None = None,
) -> PurgeReport:
    """Apply every retention rule once, as of ``clock.now()``.

    Each rule runs in its own transaction, so one failure does not undo the
    others; blob files are deleted only after the rows that named them are gone.
    With ``authorisation`` the law's clock runs first (:func:`run_clock`).
    """
    now = clock.now()
    lawful = legal_clock.ClockReport()
    if authorisation is not None:
        lawful = run_clock(
            database, blobs, clock, authorisation, actor=actor, on_stopped=on_stopped
        )
    with database.session() as db:
        ctx = Ctx(db=db, actor=actor, now=now, blobs=blobs)
        cutoff = now - timedelta(days=config.alert_days)
        alerts_purged = len(alerts.purge_expired(ctx, cutoff=cutoff))

    deployments_purged = images = 0
    with database.session() as db:
        ctx = Ctx(db=db, actor=actor, now=now, blobs=blobs)
        due = db.execute(
            select(Deployment)
            .where(
                Deployment.state == DeploymentState.CLOSED,
                Deployment.purged_at.is_(None),
                Deployment.purge_due_at <= now,
            )
            .order_by(Deployment.id)
            .with_for_update()
        ).scalars()
        for dep in list(due):
            images += deployments.purge_closed(ctx, dep)
            deployments_purged += 1

    with database.session() as db:
        ctx = Ctx(db=db, actor=actor, now=now, blobs=blobs)
        subjects_expired = lifecycle.purge_expired_subjects(ctx)
        sessions = users.purge_expired_sessions(db, now=now)

    orphans = sweep_orphan_blobs(
        database, blobs, older_than=now - timedelta(minutes=config.orphan_blob_minutes)
    )
    report = PurgeReport(
        at=now,
        alerts_purged=alerts_purged,
        deployments_purged=deployments_purged,
        reference_images_purged=images,
        subjects_expired=subjects_expired,
        sessions_ended=sessions,
        orphan_blobs_deleted=orphans,
        deployments_revoked=lawful.revoked,
        deployments_stopped=lawful.stopped,
    )
    with database.session() as db:
        details = {k: v for k, v in asdict(report).items() if k != "at"}
        audit.append(db, actor, now, Action.RETENTION_RUN, entity_type="retention", details=details)
    return report


def sweep_orphan_blobs(database: Database, blobs: BlobStore, *, older_than: datetime) -> int:
    """Delete sealed files no row refers to (left by a crash between commit and delete).

    Only files older than ``older_than`` are considered, so a blob written by a
    transaction that has not committed yet is never mistaken for an orphan.
    """
    candidates = [blob_id for blob_id, mtime in blobs.stored() if mtime < older_than]
    if not candidates:
        return 0
    with database.session() as db:
        referenced = set(db.execute(select(ReferenceImage.blob_id)).scalars())
        referenced |= set(db.execute(select(AlertRecord.crop_blob_id)).scalars())
        referenced |= {
            b for b in db.execute(select(AlertRecord.scene_blob_id)).scalars() if b is not None
        }
    deleted = 0
    for blob_id in candidates:
        if blob_id not in referenced and blobs.delete(blob_id):
            deleted += 1
    return deleted


class RetentionScheduler:
    """Runs :func:`run_purge` every ``purge_interval_minutes`` and, with ``authorisation``,
    :func:`run_clock` every ``authorisation.check_interval_s``, on a background thread."""

    def __init__(
        self,
        database: Database,
        blobs: BlobStore,
        clock: Clock,
        config: RetentionConfig,
        *,
        authorisation: AuthorisationConfig | None = None,
        on_stopped: Stopped | None = None,
    ) -> None:
        self._args = (database, blobs, clock, config)
        self._interval = config.purge_interval_minutes * 60.0
        self._authorisation = authorisation
        self._on_stopped = on_stopped
        self._tick = min(
            self._interval,
            self._interval if authorisation is None else authorisation.check_interval_s,
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._loop, name="openlfr-retention", daemon=True
            )
            self._thread.start()

    def _loop(self) -> None:
        due = 0.0  # monotonic time of the next full purge
        while not self._stop.is_set():
            try:
                if time.monotonic() >= due:
                    due = time.monotonic() + self._interval
                    report = run_purge(
                        *self._args, authorisation=self._authorisation, on_stopped=self._on_stopped
                    )
                    log.info("retention run: %s", report)
                elif self._authorisation is not None:
                    run_clock(*self._args[:3], self._authorisation, on_stopped=self._on_stopped)
            except Exception:  # the next run tries again; a failure must not end the schedule
                log.exception("retention run failed")
            self._stop.wait(self._tick)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
