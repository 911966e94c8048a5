"""The frame source interface: a decoding thread, a newest-frame slot, reconnects with backoff."""

from __future__ import annotations

import abc
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import partial

from openlfr.config.pipeline import SourceConfig
from openlfr.stream.sources.spec import SourceSpec, scrub
from openlfr.stream.timing import StageTimer
from openlfr.types import Frame, ImageArray

log = logging.getLogger("openlfr.stream")

Clock = Callable[[], float]


class SourceError(RuntimeError):
    """A source cannot be opened or decoded. The message is safe to log (no credentials)."""


class EndOfSource(Exception):
    """The source has no more frames: a file ended, or the source was stopped or failed."""


class SourceState(StrEnum):
    """Where a source is in its life."""

    CREATED = "created"
    RUNNING = "running"
    RECONNECTING = "reconnecting"
    ENDED = "ended"
    FAILED = "failed"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch of time a live source delivered nothing (wall-clock seconds)."""

    started_at: float
    ended_at: float | None
    reason: str

    @property
    def duration_s(self) -> float | None:
        return None if self.ended_at is None else self.ended_at - self.started_at


@dataclass(frozen=True, slots=True)
class SourceStats:
    """Counters of one source (never anything about the pictures)."""

    state: SourceState
    decoded: int
    delivered: int
    dropped: int
    unreadable: int
    reconnects: int
    gaps: tuple[Gap, ...]
    error: str | None


def _same(image: ImageArray) -> ImageArray:
    return image


@dataclass(frozen=True, slots=True)
class _Raw:
    # A decoded picture not yet converted to BGR: frames dropped by the slot are
    # never converted, which saves a third of the decoding cost at 1080p.
    seq: int
    captured_at: float
    convert: Callable[[], ImageArray]


class NewestFrameSlot:
    """Holds at most ``depth`` frames between the decoder and the pipeline.

    ``put(wait=False)`` into a full slot drops the oldest waiting frame and counts
    it, so a pipeline that stays behind always gets recent frames and never a
    growing backlog; ``put(wait=True)`` waits for room (files read as fast as the
    pipeline goes, where every frame counts). A depth above one absorbs a short
    stall (a burst of new faces to embed, an alert being sealed) without losing
    frames: each frame waits at most ``depth`` frame intervals.
    """

    def __init__(self, depth: int = 1) -> None:
        if depth < 1:
            raise ValueError("a frame slot holds at least one frame")
        self._cond = threading.Condition()
        self._items: deque[_Raw] = deque()
        self._depth = depth
        self._closed = False
        self.dropped = 0

    def put(self, item: _Raw, *, wait: bool) -> bool:
        """Offer a frame; False if the slot was closed meanwhile."""
        with self._cond:
            if wait:
                while len(self._items) >= self._depth and not self._closed:
                    self._cond.wait()
            if self._closed:
                return False
            while len(self._items) >= self._depth:
                self._items.popleft()
                self.dropped += 1
            self._items.append(item)
            self._cond.notify_all()
            return True

    def get(self, timeout: float | None) -> _Raw | None:
        """The oldest waiting frame; None after ``timeout`` s; EndOfSource once closed and empty."""
        with self._cond:
            if not self._items and not self._closed:
                self._cond.wait(timeout)
            item = self._items.popleft() if self._items else None
            if item is None and self._closed:
                raise EndOfSource
            self._cond.notify_all()
            return item

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def clear(self) -> None:
        """Drop the waiting frames, if any (not counted: nobody will ask for them)."""
        with self._cond:
            self._items.clear()
            self._cond.notify_all()

    @property
    def held(self) -> int:
        return len(self._items)


class FrameSource(abc.ABC):
    """One camera's frames, decoded on a thread of their own.

    Call :meth:`open` (raises :class:`SourceError` at once for a bad source),
    then :meth:`start`, then :meth:`read` until it raises :class:`EndOfSource`;
    :meth:`stop` ends it from any thread. Every frame carries the camera id, a
    sequence number (gaps in it are frames dropped by the newest-frame rule)
    and its capture time.
    """

    def __init__(self, spec: SourceSpec, config: SourceConfig, *, clock: Clock = time.time) -> None:
        self.spec = spec
        self.config = config
        self._clock = clock
        self._slot = NewestFrameSlot(config.buffer_frames)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._state = SourceState.CREATED
        self._decoded = 0
        self._delivered = 0
        self._unreadable = 0
        self._reconnects = 0
        self._gaps: list[Gap] = []
        self._error: str | None = None
        self._seq = 0
        self._lock = threading.Lock()
        self.timer: StageTimer | None = None

    # -- what each kind implements ------------------------------------------------

    @property
    def live(self) -> bool:
        """Live sources are reconnected when they stop; others end."""
        return self.spec.live

    @abc.abstractmethod
    def _open(self) -> None:
        """Open the underlying file, stream or device; raise :class:`SourceError`."""

    @abc.abstractmethod
    def _decode(self) -> Iterator[tuple[float | None, Callable[[], ImageArray]]]:
        """Decoded pictures: (seconds on the media's own timeline or None, BGR converter)."""

    @abc.abstractmethod
    def _close(self) -> None:
        """Release the underlying file, stream or device (idempotent)."""

    @property
    def frame_interval_s(self) -> float:
        """Nominal time between frames (pacing a looped file)."""
        return 0.04

    def _duration_s(self) -> float | None:
        """Length of the opened file or folder on its own timeline, if known."""
        return None

    # -- public interface ---------------------------------------------------------

    def open(self) -> None:
        """Open the source now, in the caller's thread, so a bad one fails loudly."""
        try:
            self._open()
        except SourceError:
            self._state = SourceState.FAILED
            raise
        self._state = SourceState.RUNNING

    def start(self) -> None:
        """Start decoding (opens the source first if :meth:`open` was not called)."""
        if self._state is SourceState.CREATED:
            self.open()
        self._thread = threading.Thread(
            target=self._run, name=f"source-{self.spec.camera_id}", daemon=True
        )
        self._thread.start()

    def read(self, timeout: float | None = None) -> Frame | None:
        """The next (newest) frame, None after ``timeout`` s; :class:`EndOfSource` at the end."""
        raw = self._slot.get(timeout)
        if raw is None:
            return None
        started = time.perf_counter()
        image = raw.convert()
        if self.timer is not None:
            self.timer("convert", time.perf_counter() - started)
        with self._lock:
            self._delivered += 1
        return Frame(
            image=image, camera_id=self.spec.camera_id, seq=raw.seq, captured_at=raw.captured_at
        )

    def stop(self, timeout: float = 5.0) -> None:
        """Stop decoding and release the source; waiting readers get :class:`EndOfSource`."""
        self._stop.set()
        self._slot.close()
        self._slot.clear()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        if self._thread is None or not self._thread.is_alive():
            self._close()
        if self._state not in (SourceState.ENDED, SourceState.FAILED):
            self._state = SourceState.STOPPED

    @property
    def held_frames(self) -> int:
        """Frames waiting in memory for the pipeline (at most ``source.buffer_frames``)."""
        return self._slot.held

    def stats(self) -> SourceStats:
        with self._lock:
            return SourceStats(
                state=self._state,
                decoded=self._decoded,
                delivered=self._delivered,
                dropped=self._slot.dropped,
                unreadable=self._unreadable,
                reconnects=self._reconnects,
                gaps=tuple(self._gaps),
                error=self._error,
            )

    def __enter__(self) -> FrameSource:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the decoding thread ------------------------------------------------------

    def _run(self) -> None:
        try:
            self._loop()
        except Exception as exc:  # a bug must end this camera, not the process
            self._fail(f"{type(exc).__name__}: {scrub(str(exc), self.spec.location)}")
        finally:
            self._slot.close()
            self._close()

    def _loop(self) -> None:
        """Decode until the end (or forever for live sources), stamping each frame's capture time.

        Capture times, which alerts report as ``time``: a live source's frame is
        stamped with the wall clock when it arrives. A file keeps its own
        timeline (frames the file's spacing apart, whatever the machine's speed),
        anchored on the wall clock: paced, the file plays from the moment it is
        opened and each frame is handed over once its time has come; read as
        fast as possible, it is a recording of the past, placed so that it ends
        at the moment it was opened. Either way no frame is stamped later than
        the wall clock when it is read, so an alert's ``time`` never follows its
        ``emitted`` (which the pipeline stamps from the wall clock). A looped
        file read faster than it plays would run into the future: there the
        stamps are held back to the wall clock.
        """
        paced = not self.live and self.config.realtime
        keep_all = not self.live and not self.config.realtime
        anchor = self._clock()
        if keep_all:
            anchor -= self._duration_s() or 0.0
        last_media = 0.0
        while not self._stop.is_set():
            try:
                decoding = time.perf_counter()
                for media_t, convert in self._decode():
                    if self.timer is not None:
                        self.timer("decode", time.perf_counter() - decoding)
                    if self._stop.is_set():
                        return
                    if self.live or media_t is None:
                        captured = self._clock()
                    else:
                        last_media = media_t
                        captured = anchor + media_t
                        if paced and self._stop.wait(max(0.0, captured - self._clock())):
                            return
                        if keep_all:
                            captured = min(captured, self._clock())
                    with self._lock:
                        seq, self._seq = self._seq, self._seq + 1
                        self._decoded += 1
                    if keep_all:
                        # Every frame will be used: convert here, in parallel with the
                        # pipeline working on the previous frame.
                        convert = partial(_same, convert())
                    if not self._slot.put(_Raw(seq, captured, convert), wait=keep_all):
                        return
                    decoding = time.perf_counter()
            except SourceError as exc:
                if not self.live:
                    self._fail(str(exc))
                    return
                self._reconnect(str(exc))
                continue
            except Exception as exc:  # FFmpeg raises many types for a broken stream
                reason = f"{type(exc).__name__}: {scrub(str(exc), self.spec.location)}"
                if not self.live:
                    self._fail(f"{self.spec.camera_id}: decoding failed ({reason})")
                    return
                self._reconnect(reason)
                continue
            if self.live:
                self._reconnect("the stream ended")
                continue
            if self.config.loop and not self._stop.is_set():
                anchor += last_media + self.frame_interval_s
                self._close()
                self._open()
                continue
            self._state = SourceState.ENDED
            return

    def _reconnect(self, reason: str) -> None:
        """Reopen a live source with exponential backoff until it works or we stop."""
        started = self._clock()
        with self._lock:
            self._state = SourceState.RECONNECTING
            self._gaps.append(Gap(started, None, reason))
        log.warning("camera %s: stream lost (%s); reconnecting", self.spec.camera_id, reason)
        self._close()
        delay = self.config.reconnect_initial_s
        while not self._stop.wait(delay):
            try:
                self._open()
            except SourceError as exc:
                log.info("camera %s: reconnection failed (%s)", self.spec.camera_id, exc)
                delay = min(delay * 2, self.config.reconnect_max_s)
                continue
            ended = self._clock()
            with self._lock:
                self._reconnects += 1
                self._gaps[-1] = Gap(started, ended, reason)
                self._state = SourceState.RUNNING
            log.warning(
                "camera %s: reconnected after %.1f s without frames",
                self.spec.camera_id,
                ended - started,
            )
            return

    def _fail(self, message: str) -> None:
        with self._lock:
            self._state = SourceState.FAILED
            self._error = message
        log.error("camera %s: %s", self.spec.camera_id, message)

    def _count_unreadable(self) -> None:
        with self._lock:
            self._unreadable += 1
