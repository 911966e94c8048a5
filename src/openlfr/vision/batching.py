"""One model call for the work of several cameras: crops to embed, windows to search.

Camera threads call a shared :class:`Batcher` at the same time; the first to
arrive leads a batch, waits up to ``max_wait_s`` (or until ``expected``
callers or ``max_batch`` items have joined), runs the model once on all their
items, and hands each caller its own slice. No extra thread: nothing to start
or stop, and a caller never waits longer than the wait plus one model call. On
a GPU one call of 20 crops costs about what one of 2 does; on a CPU batching
buys little and the wait costs latency, so it is on where the models run on a
GPU (``pipeline.batching``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import numpy as np

from openlfr.types import Detection, FloatArray, ImageArray
from openlfr.vision.recogniser import FaceRecogniser

In = TypeVar("In")
Out = TypeVar("Out")


@dataclass(slots=True)
class _Batch(Generic[In, Out]):
    items: list[In] = field(default_factory=list)
    callers: int = 0
    closed: bool = False
    done: threading.Event = field(default_factory=threading.Event)
    result: list[Out] | None = None
    error: BaseException | None = None


@dataclass(frozen=True, slots=True)
class BatchStats:
    """How many model calls served how many requests and items."""

    calls: int
    requests: int
    items: int


class Batcher(Generic[In, Out]):
    """Runs ``run(items) -> outputs`` (one output per item) for several threads at once.

    Args:
        run: the model call; gets every joined item, returns one output per item.
        max_wait_s: longest a batch waits for other callers after its first.
        max_batch: most items in one call (a request larger than this runs alone).
        expected: callers that may join (the cameras sharing it); a batch that has
            them all runs at once. 1 never waits.
    """

    def __init__(
        self,
        run: Callable[[list[In]], Sequence[Out]],
        *,
        max_wait_s: float,
        max_batch: int,
        expected: int = 2,
    ) -> None:
        self._run = run
        self.max_wait_s = max_wait_s
        self.max_batch = max_batch
        self.expected = expected
        self._cond = threading.Condition()
        self._open: _Batch[In, Out] | None = None
        self._calls = self._requests = self._items = 0

    def __call__(self, items: Sequence[In]) -> list[Out]:
        if not items:
            return []
        with self._cond:
            batch = self._open
            leader = batch is None or batch.closed or len(batch.items) + len(items) > self.max_batch
            if leader:
                batch = _Batch()
                self._open = batch
            assert batch is not None
            start = len(batch.items)
            batch.items.extend(items)
            batch.callers += 1
            self._cond.notify_all()
        if leader:
            self._lead(batch)
        else:
            batch.done.wait()
        if batch.error is not None:
            raise batch.error
        assert batch.result is not None
        return batch.result[start : start + len(items)]

    def _lead(self, batch: _Batch[In, Out]) -> None:
        deadline = time.monotonic() + self.max_wait_s
        with self._cond:
            while (
                batch.callers < self.expected
                and len(batch.items) < self.max_batch
                and (left := deadline - time.monotonic()) > 0
            ):
                self._cond.wait(left)
            batch.closed = True
            if self._open is batch:
                self._open = None
            self._calls += 1
            self._requests += batch.callers
            self._items += len(batch.items)
        try:
            result = list(self._run(batch.items))
            if len(result) != len(batch.items):
                raise RuntimeError(
                    f"batched call gave {len(result)} outputs for {len(batch.items)}"
                )
            batch.result = result
        except BaseException as exc:  # every caller of the batch hears of it
            batch.error = exc
        finally:
            batch.done.set()

    def stats(self) -> BatchStats:
        with self._cond:
            return BatchStats(self._calls, self._requests, self._items)


class BatchingRecogniser(FaceRecogniser):
    """A recogniser shared by a worker's cameras whose embeddings run batched together."""

    def __init__(self, inner: FaceRecogniser, batcher_wait_s: float, expected: int) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dim = inner.dim
        self.batcher: Batcher[ImageArray, FloatArray] = Batcher(
            self._embed_all, max_wait_s=batcher_wait_s, max_batch=64, expected=expected
        )

    def _embed_all(self, crops: list[ImageArray]) -> list[FloatArray]:
        return list(self.inner.embed(crops))

    def crop(self, image: ImageArray, detection: Detection) -> ImageArray:
        return self.inner.crop(image, detection)

    def embed(self, crops: Sequence[ImageArray]) -> FloatArray:
        if len(crops) == 0:
            return np.zeros((0, self.dim), np.float32)
        return np.stack(self.batcher(list(crops))).astype(np.float32, copy=False)
