"""One camera's pipeline: detect, track, best shot, embed, search, decide, alert.

Privacy in memory: a frame lives only while it is processed; crops wait in
per-track buffers bounded in count (``max_looks_per_track`` + 1) and in time
(``retention_s``, on the wall clock); embeddings are searched and discarded
in the same call, except, with track fusion, those of a track's own looks,
held with its crops under the same bounds. What survives is counters.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from openlfr.config.pipeline import PipelineConfig
from openlfr.matching.decision import Decision, DecisionEngine, DecisionRules
from openlfr.privacy.scene import scene_thumbnail
from openlfr.stream.bestshot import Shot, TrackShots, quality_score, usable
from openlfr.stream.schedule import DetectionSchedule
from openlfr.stream.timing import StageTimer
from openlfr.stream.tracker import ByteTracker
from openlfr.types import Alert, Detections, FaceCrop, Frame, Look, Track
from openlfr.vision.pack import ModelPack
from openlfr.watchlist.gallery import Gallery, LiveGallery


@dataclass(frozen=True, slots=True)
class CameraCounters:
    """Everything that survives about what a camera saw: counts only."""

    frames: int = 0
    faces: int = 0
    tracks: int = 0
    embeddings: int = 0
    agreeing_looks: int = 0
    alerts: int = 0
    suppressed: int = 0


@dataclass(frozen=True, slots=True)
class HeldInMemory:
    """What a pipeline holds about faces right now (for the privacy checks)."""

    tracks: int
    crops: int
    looks: int
    embeddings: int = 0  # a track's look embeddings, kept for track fusion

    @property
    def empty(self) -> bool:
        return self.crops == 0 and self.looks == 0 and self.tracks == 0 and self.embeddings == 0


_NO_BOXES = np.zeros((0, 4), np.float32)

FrameObserver = Callable[[Frame, Detections, Sequence[Track], Sequence[Alert]], None]
"""Told of each processed frame: its detections, the tracks matched in it and the alerts it
completed (e.g. the console's blurred preview). Runs on the camera thread: it must return
quickly, copy whatever it keeps, and never raise."""


class ModelMismatch(ValueError):
    """The watchlist's templates come from another recogniser than the pipeline's."""


class CameraPipeline:
    """Turns one camera's frames into alerts. Not thread-safe: one thread per camera.

    Args:
        camera_id: the camera's identifier.
        pack: detector and recogniser (the recogniser may be shared between cameras).
        gallery: the watchlist to search; a :class:`LiveGallery` may be swapped while running.
        rules: the decision rules (threshold, agreeing looks, cooldown).
        config: tracker, best-shot and retention settings.
        watchlist: the watchlist's name, carried by alerts.
        clock: wall clock in seconds since the epoch; retention and ``emitted_at``
            are measured on it (tests inject a fake one).
    """

    def __init__(
        self,
        camera_id: str,
        pack: ModelPack,
        gallery: Gallery | LiveGallery,
        rules: DecisionRules,
        config: PipelineConfig,
        *,
        watchlist: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.camera_id = camera_id
        self._pack = pack
        self._gallery = gallery if isinstance(gallery, LiveGallery) else LiveGallery(gallery)
        current = self._gallery.current
        if current.model_id != pack.model_id:
            raise ModelMismatch(
                f"watchlist {watchlist!r} holds {current.model_id} templates but the pipeline "
                f"runs {pack.model_id}"
            )
        self._config = config
        self._shots_config = config.best_shot
        self.rules = rules
        self._watchlist = watchlist
        self._clock = clock
        self._tracker = ByteTracker(config.tracker, camera_id)
        self._schedule = DetectionSchedule(config.detection, pack.detector)
        self._engine = DecisionEngine(rules)
        self._tracks: dict[int, TrackShots] = {}
        self._frames = 0
        self._faces = 0
        self._embeddings = 0
        self.observer: FrameObserver | None = None
        self.timer: StageTimer | None = None

    @property
    def gallery(self) -> LiveGallery:
        return self._gallery

    def process(self, frame: Frame) -> list[Alert]:
        """Run one frame through every stage; the alerts it completes (usually none)."""
        now = self._clock()
        timer = self.timer
        started = time.perf_counter()
        self._frames += 1
        detections = self._detect(frame, timer)
        self._faces += len(detections)
        mark = time.perf_counter()
        update = self._tracker.update(detections, frame.captured_at)
        if timer is not None:
            timer("track", time.perf_counter() - mark)
        for track_id in update.ended:
            self._forget(track_id)

        offered: list[tuple[Track, TrackShots]] = []
        for track in update.active:
            shots = self._tracks.setdefault(track.track_id, TrackShots())
            shots.last_seen = now
            if shots.done or shots.looks_taken >= self._shots_config.max_looks_per_track:
                continue
            row = track.det_index
            if usable(detections.landmarks[row], float(detections.scores[row]), self._shots_config):
                offered.append((track, shots))
        to_embed: list[tuple[Track, TrackShots, Shot]] = []
        if offered:
            mark = time.perf_counter()
            rows = [t.det_index for t, _ in offered]
            crops = self._pack.crops(frame.image, detections.select(rows))
            if timer is not None:
                timer("crop", time.perf_counter() - mark)
            for (track, shots), crop in zip(offered, crops, strict=True):
                shot = Shot(crop, quality_score(crop.quality), frame.seq, frame.captured_at, now)
                chosen = shots.offer(shot, self._shots_config)
                if chosen is not None:
                    to_embed.append((track, shots, chosen))
        alerts: list[Alert] = []
        if to_embed:
            mark = time.perf_counter()
            alerts = self._recognise(to_embed, now)
            if timer is not None:
                timer("recognise", time.perf_counter() - mark)
        if alerts:
            # Only alerts get a scene thumbnail, obscured before it leaves this frame.
            active = update.active
            alerts = [
                replace(a, scene=scene_thumbnail(frame.image, detections, active, a.track_id))
                for a in alerts
            ]
        self._engine.expire(frame.captured_at)
        self.sweep(now)
        if self.observer is not None:
            self.observer(frame, detections, update.active, alerts)
        if timer is not None:
            timer("frame", time.perf_counter() - started)
        return alerts

    def _detect(self, frame: Frame, timer: StageTimer | None) -> Detections:
        """The whole frame, or only around the tracked faces (``pipeline.detection``)."""
        if self._config.detection.full_interval == 1:
            predicted = _NO_BOXES  # every frame whole: no prediction needed
        else:
            predicted = self._tracker.predicted_boxes(frame.captured_at)
        return self._schedule.detect(frame.image, predicted, timer)[1]

    def _recognise(self, work: list[tuple[Track, TrackShots, Shot]], now: float) -> list[Alert]:
        gallery = self._gallery.current  # one snapshot for the whole batch
        vectors = self._pack.recogniser.embed([shot.crop.image for _, _, shot in work])
        self._embeddings += len(work)
        fused_counts = [0] * len(work)
        if self.rules.track_fusion:
            fused = []
            for i, (_, shots, shot) in enumerate(work):
                template, fused_counts[i] = shots.fuse(vectors[i], shot, self.rules.vote_window_s)
                fused.append(template)
            results = gallery.search(np.concatenate([vectors, np.stack(fused)]), top_k=1)
            del fused
        else:
            results = gallery.search(vectors, top_k=1)
        # Only the search results go on; with track fusion the track keeps its looks'
        # embeddings (TrackShots.fuse), under the crops' bounds.
        del vectors
        alerts: list[Alert] = []
        limit = self._shots_config.max_looks_per_track
        for i, (track, shots, shot) in enumerate(work):
            look = Look(
                camera_id=self.camera_id,
                track_id=track.track_id,
                seq=shot.seq,
                captured_at=shot.captured_at,
                quality=shot.crop.quality,
                quality_score=shot.score,
                candidate=results[i].best,
                fused=results[len(work) + i].best if self.rules.track_fusion else None,
                fused_looks=fused_counts[i],
            )
            shots.remember(look, shot, limit)
            decision = self._engine.observe(look)
            if self._engine.has_decided(track.track_id):
                shots.done = True
            if decision is not None:
                alerts.append(
                    self._alert(track, decision, shots.crop_of(decision.best_look) or shot.crop)
                )
        return alerts

    def _alert(self, track: Track, decision: Decision, probe: FaceCrop) -> Alert:
        best = decision.best_look
        return Alert(
            alert_id=uuid.uuid4().hex,
            camera_id=self.camera_id,
            track_id=track.track_id,
            subject_id=decision.subject_id,
            score=decision.score,
            threshold=self.rules.threshold,
            captured_at=best.captured_at,
            emitted_at=self._clock(),
            probe=probe,
            looks=decision.looks,
            watchlist=self._watchlist,
            model_id=self._pack.model_id,
        )

    def sweep(self, now: float | None = None) -> None:
        """Drop crops older than the retention window, and tracks idle that long.

        Called after every frame; call it also while no frames arrive (the
        runner does), so a stalled stream does not keep faces in memory.
        """
        now = self._clock() if now is None else now
        horizon = now - self._config.retention_s
        for track_id in list(self._tracks):
            shots = self._tracks[track_id]
            shots.expire(horizon)
            if shots.last_seen < horizon:
                self._forget(track_id)

    def flush(self) -> None:
        """Forget every track (the source ended or jumped)."""
        for track_id in list(self._tracks):
            self._forget(track_id)
        self._tracker.reset()
        self._schedule.reset()

    def _forget(self, track_id: int) -> None:
        shots = self._tracks.pop(track_id, None)
        if shots is not None:
            shots.clear()
        self._engine.forget_track(track_id)

    def held(self) -> HeldInMemory:
        """What is held about faces right now (zero once the retention window has passed)."""
        return HeldInMemory(
            tracks=len(self._tracks),
            crops=sum(s.crops_held for s in self._tracks.values()),
            looks=self._engine.held_looks,
            embeddings=sum(s.embeddings_held for s in self._tracks.values()),
        )

    def counters(self) -> CameraCounters:
        decided = self._engine.counters()
        return CameraCounters(
            frames=self._frames,
            faces=self._faces,
            tracks=self._tracker.tracks_confirmed,
            embeddings=self._embeddings,
            agreeing_looks=decided.agreeing_looks,
            alerts=decided.alerts,
            suppressed=decided.suppressed_by_cooldown,
        )
