"""Batched model calls shared by several camera threads."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import pytest

from openlfr.config import Settings
from openlfr.stream.build import batching_on, pipeline_factory
from openlfr.types import Detection, FloatArray, ImageArray
from openlfr.vision import ModelPack
from openlfr.vision.batching import Batcher, BatchingRecogniser
from openlfr.vision.detector import YuNetDetector
from openlfr.vision.recogniser import FaceRecogniser
from openlfr.watchlist import Gallery, LiveGallery


def in_threads(batcher: Batcher[int, int], requests: list[list[int]]) -> list[list[int]]:
    results: list[list[int]] = [[] for _ in requests]
    start = threading.Barrier(len(requests))

    def call(i: int) -> None:
        start.wait()
        results[i] = batcher(requests[i])

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
        assert not t.is_alive()
    return results


def test_callers_that_arrive_together_share_one_call_and_get_their_own_outputs() -> None:
    calls: list[list[int]] = []

    def run(items: list[int]) -> list[int]:
        calls.append(list(items))
        return [x * 10 for x in items]

    # A long wait that ends as soon as both expected callers have joined.
    batcher = Batcher(run, max_wait_s=30.0, max_batch=16, expected=2)
    got = in_threads(batcher, [[1, 2, 3], [4]])
    assert got == [[10, 20, 30], [40]]
    assert len(calls) == 1 and sorted(calls[0]) == [1, 2, 3, 4]
    stats = batcher.stats()
    assert (stats.calls, stats.requests, stats.items) == (1, 2, 4)
    assert batcher([]) == []


def test_a_full_batch_runs_without_waiting_and_a_lone_caller_never_waits() -> None:
    calls: list[int] = []
    batcher = Batcher(lambda xs: calls.append(len(xs)) or xs, max_wait_s=30.0, max_batch=3)
    assert in_threads(batcher, [[1, 2, 3]]) == [[1, 2, 3]]  # full: no wait for a second
    alone = Batcher(lambda xs: xs, max_wait_s=30.0, max_batch=8, expected=1)
    assert in_threads(alone, [[7]]) == [[7]]
    assert calls == [3]


def test_an_error_reaches_every_caller_of_the_batch() -> None:
    def run(items: list[int]) -> list[int]:
        raise ValueError("model failed")

    batcher = Batcher(run, max_wait_s=30.0, max_batch=16, expected=2)
    errors: list[str] = []

    def call(items: list[int]) -> None:
        try:
            batcher(items)
        except ValueError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=call, args=([i],)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == ["model failed", "model failed"]


class Doubling(FaceRecogniser):
    model_id = "fake"
    dim = 2

    def __init__(self) -> None:
        self.batches: list[int] = []

    def crop(self, image: ImageArray, detection: Detection) -> ImageArray:
        return image

    def embed(self, crops: Sequence[ImageArray]) -> FloatArray:
        self.batches.append(len(crops))
        return np.array([[float(c[0, 0, 0]), 1.0] for c in crops], np.float32)


def test_batching_recogniser_gives_each_camera_its_own_embeddings() -> None:
    inner = Doubling()
    shared = BatchingRecogniser(inner, batcher_wait_s=30.0, expected=2)
    crops = [[np.full((4, 4, 3), v, np.uint8) for v in (1, 2)], [np.full((4, 4, 3), 9, np.uint8)]]
    out: list[FloatArray] = [np.zeros(0, np.float32)] * 2
    start = threading.Barrier(2)

    def call(i: int) -> None:
        start.wait()
        out[i] = shared.embed(crops[i])

    threads = [threading.Thread(target=call, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert out[0][:, 0].tolist() == [1.0, 2.0] and out[1][:, 0].tolist() == [9.0]
    assert inner.batches == [3]
    assert shared.embed([]).shape == (0, 2)


@pytest.mark.parametrize(("mode", "expected"), [("on", True), ("off", False), ("auto", False)])
def test_factory_shares_batched_models_when_batching_is_on(
    pack: ModelPack, mode: str, expected: bool
) -> None:
    # 'auto' is off here: this machine runs the models on its CPU.
    settings = Settings(pipeline={"batching": {"mode": mode}})
    assert batching_on(settings) is expected
    gallery = LiveGallery(Gallery([], np.zeros((0, 128), np.float32), pack.model_id))
    build = pipeline_factory(settings, pack, gallery, watchlist="t", cameras=2)
    a, b = build("a"), build("b")
    rec_a, rec_b = a._pack.recogniser, b._pack.recogniser
    assert (rec_a is rec_b and isinstance(rec_a, BatchingRecogniser)) is expected
    det = a._pack.detector
    assert isinstance(det, YuNetDetector) and (det.patch_runner is not None) is expected
    assert det is not b._pack.detector  # each camera keeps its own full-frame session
