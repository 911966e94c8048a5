"""The control plane's runtime: services wired for the server, background workers, lifecycle."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from openlfr.alert_records.models import AlertRecord
from openlfr.alert_records.recorder import AlertRecorder
from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.audit.anchoring import CheckpointPublisher
from openlfr.config import Settings
from openlfr.deployments import camera_sources
from openlfr.deployments.live import LiveManager, PipelineLauncher
from openlfr.notify.broker import AlertBroker
from openlfr.notify.dispatcher import Dispatcher
from openlfr.notify.feed import ALERTS_CHANNEL, Follow, HubFeed, Seen
from openlfr.notify.messages import AlertMessage
from openlfr.notify.mqtt import MqttPublisher
from openlfr.notify.webhook import WebhookSender
from openlfr.privacy import keys
from openlfr.privacy.retention import RetentionScheduler
from openlfr.services import Services
from openlfr.storage import migrate
from openlfr.storage.clock import Clock, SystemClock
from openlfr.storage.context import Actor, Ctx
from openlfr.users.credentials import Passwords
from openlfr.users.throttle import LoginThrottle
from openlfr.watchlist_records.enrolment import TemplateSource
from openlfr.workers.hub import WorkerHub

log = logging.getLogger(__name__)


class ControlPlane:
    """Everything the API needs, built once from :class:`Services`.

    Args:
        services: the composition root (settings, database, blob store, models).
        clock: the time source; tests pass a manual clock.
        launcher: starts live pipelines; with None, deployments can be planned,
            authorised and recorded, but starting one records that it could not run.
        webhook_transport: an httpx transport for webhook delivery (tests).
        background: run the dispatcher and retention threads.
    """

    def __init__(
        self,
        services: Services,
        *,
        clock: Clock | None = None,
        launcher: PipelineLauncher | None = None,
        webhook_transport: httpx.BaseTransport | None = None,
        background: bool = True,
    ) -> None:
        self.services = services
        self.settings: Settings = services.settings
        self.clock: Clock = clock or SystemClock()
        self.database = services.database
        self.blobs = services.blobs
        self.passwords = Passwords(self.settings.auth)
        self.throttle = LoginThrottle(self.settings.auth)
        self.broker = AlertBroker()
        notify = self.settings.notify
        # Alerts any hub process stored reach this one's streams once each (see notify.feed).
        self.alerts_seen = Seen()
        self.feed = HubFeed(self.database, poll_s=notify.feed_poll_s)
        self.feed.follow(
            Follow(AlertRecord.__tablename__, ALERTS_CHANNEL, self.alerts_seen, self._from_feed)
        )
        self.mqtt = MqttPublisher(notify.mqtt) if notify.mqtt.enabled else None
        self.dispatcher = Dispatcher(
            self.database,
            self.blobs,
            self.clock,
            notify,
            webhooks=WebhookSender(timeout_s=notify.webhook_timeout_s, transport=webhook_transport),
            mqtt=self.mqtt,
        )
        self.recorder = AlertRecorder(
            self.database,
            self.blobs,
            self.clock,
            mqtt_enabled=notify.mqtt.enabled,
            listeners=[self._announce],
            episode_window=timedelta(seconds=self.settings.governance.episode_window_s),
        )
        # Where the launcher is the workers' hub, its routes serve the workers.
        self.worker_hub = launcher if isinstance(launcher, WorkerHub) else None
        # Alarms are raised inside a worker's sync request, whose transaction holds SQLite's
        # write lock: recorded on that thread, each would wait for the lock until it timed
        # out, stalling every alert delivery meanwhile. One thread records them, in order,
        # once the request has committed.
        self._alarm_writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alarms")
        if self.worker_hub is not None:
            self.worker_hub.on_alarm = self._queue_camera_alarm
        self.checkpoints = CheckpointPublisher(
            self.settings,
            self.database,
            services.signing_key,
            self.clock,
            mqtt=self.mqtt,
            webhooks=WebhookSender(timeout_s=notify.webhook_timeout_s, transport=webhook_transport),
        )
        self.live = LiveManager(self.database, self.blobs, self.clock, self.recorder, launcher)
        self.retention = RetentionScheduler(
            self.database,
            self.blobs,
            self.clock,
            self.settings.retention,
            authorisation=self.settings.authorisation,
            on_stopped=self.live.stop,
        )
        self._background = background

    def _announce(self, alert: AlertRecord) -> None:
        if self.alerts_seen.first(alert.id):
            self.broker.publish(AlertMessage.of(alert))
        self.dispatcher.wake()

    def _from_feed(self, db: Session, ids: list[int]) -> None:
        """Alerts another hub process stored (or this one, not yet announced)."""
        rows = db.execute(
            select(AlertRecord).where(AlertRecord.id.in_(ids)).order_by(AlertRecord.id)
        ).scalars()
        for alert in rows:
            if self.alerts_seen.first(alert.id):
                self.broker.publish(AlertMessage.of(alert))

    def _queue_camera_alarm(
        self, deployment_id: int, camera: str, state: str, error: str | None
    ) -> None:
        self._alarm_writer.submit(self._camera_alarm_logged, deployment_id, camera, state, error)

    def wait_for_alarms(self, timeout: float = 60.0) -> None:
        """Return once every camera alarm raised so far is on the audit log."""
        self._alarm_writer.submit(lambda: None).result(timeout)

    def _camera_alarm_logged(
        self, deployment_id: int, camera: str, state: str, error: str | None
    ) -> None:
        try:
            self._camera_alarm(deployment_id, camera, state, error)
        except Exception:  # the hub's log still has it (WorkerHub logs every alarm)
            log.exception("camera alarm of deployment %s not recorded", deployment_id)

    def _camera_alarm(self, deployment_id: int, camera: str, state: str, error: str | None) -> None:
        """A camera stalled, failed, dropped frames beyond the limit or filled its spool: on the
        audit log (the console and the API show it from the hub's live state)."""
        with self.work(Actor.system("hub")) as ctx:
            audit.record(
                ctx,
                Action.CAMERA_ALARM,
                entity_type="camera",
                entity_id=camera,
                deployment_id=deployment_id,
                details={"state": state, "error": error},
            )

    def template_source(self) -> TemplateSource:
        """The quality gate over the configured models (loaded on first enrolment)."""
        return self.services.template_source

    @contextmanager
    def work(self, actor: Actor) -> Iterator[Ctx]:
        """A committed unit of work outside any request (CLI, background jobs, tests)."""
        with self.database.session() as db:
            yield Ctx(db=db, actor=actor, now=self.clock.now(), blobs=self.blobs)

    def start(self) -> None:
        if self.settings.database.auto_migrate:
            migrate.upgrade(self.database)
        with self.database.session() as db:
            # A fresh database learns its data key now that its tables exist.
            keys.record_fingerprint(db, self.services.cipher.fingerprint, now=self.clock.now())
        with self.work(Actor.system("startup")) as ctx:
            if sealed := camera_sources.seal_plain_sources(ctx):
                log.info("sealed the credentials of %d camera address(es)", sealed)
        self.live.resume_or_stop_orphans(resume=False)
        self.feed.start()
        if self._background:
            self.dispatcher.start()
            self.retention.start()
            self.checkpoints.start()

    def stop(self) -> None:
        self._alarm_writer.shutdown(wait=True)
        self.feed.stop()
        self.broker.close()
        self.live.shutdown()
        self.checkpoints.stop()
        if self._background:
            self.retention.stop()
            self.dispatcher.stop()
