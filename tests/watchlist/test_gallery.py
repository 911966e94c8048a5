"""Exact 1:N search: brute-force agreement, per-subject maxima, empty galleries, atomic swap."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from openlfr.watchlist.gallery import Gallery, LiveGallery, TemplateFusion


def unit(rng: np.random.Generator, n: int, d: int = 32) -> np.ndarray:
    v = rng.standard_normal((n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_top_k_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    templates = unit(rng, 500)
    ids = [f"s{i:03d}" for i in range(500)]
    gallery = Gallery(ids, templates, "m")
    probes = unit(rng, 7)
    results = gallery.search(probes, top_k=5)
    for probe, result in zip(probes, results, strict=True):
        scores = templates @ probe
        expected = [ids[i] for i in np.argsort(-scores)[:5]]
        assert [c.subject_id for c in result.candidates] == expected
        assert [c.rank for c in result.candidates] == [1, 2, 3, 4, 5]
        assert result.candidates[0].score == pytest.approx(float(scores.max()), abs=1e-6)


def test_a_subject_scores_the_mean_of_its_references() -> None:
    rng = np.random.default_rng(3)
    a1, a2, b1 = unit(rng, 3)
    gallery = Gallery(["a", "b", "a"], np.stack([a1, b1, a2]), "m")
    assert gallery.fusion is TemplateFusion.MEAN
    assert len(gallery) == 2 and gallery.template_count == 3
    centroid = (a1 + a2) / np.linalg.norm(a1 + a2)
    probe = unit(rng, 1)
    scores = gallery.subject_scores(probe)[0]
    assert scores[gallery.subjects.index("a")] == pytest.approx(
        float(centroid @ probe[0]), abs=1e-6
    )
    assert scores[gallery.subjects.index("b")] == pytest.approx(float(b1 @ probe[0]), abs=1e-6)
    # A probe halfway between two references scores higher on their mean than on either.
    assert gallery.subject_scores(centroid[None])[0, gallery.subjects.index("a")] == (
        pytest.approx(1.0, abs=1e-6)
    )


def test_with_max_fusion_a_subject_scores_its_best_template() -> None:
    rng = np.random.default_rng(1)
    a1, a2, b1 = unit(rng, 3)
    gallery = Gallery(["a", "b", "a"], np.stack([a1, b1, a2]), "m", fusion=TemplateFusion.MAX)
    assert len(gallery) == 2 and gallery.template_count == 3
    result = gallery.search(a2[None], top_k=5)[0]
    assert result.best is not None and result.best.subject_id == "a"
    assert result.best.score == pytest.approx(1.0, abs=1e-6)
    assert [c.subject_id for c in result.candidates] == ["a", "b"]


def test_threshold_keeps_only_candidates_at_or_above_it() -> None:
    gallery = Gallery(["a", "b"], np.eye(2, dtype=np.float32), "m")
    probe = np.array([[0.8, 0.6]], np.float32)
    assert [c.subject_id for c in gallery.search(probe, threshold=0.6)[0].candidates] == ["a", "b"]
    assert [c.subject_id for c in gallery.search(probe, threshold=0.7)[0].candidates] == ["a"]
    assert gallery.search(probe, threshold=0.9)[0].candidates == ()


def test_searching_an_empty_gallery_returns_no_candidates() -> None:
    gallery = Gallery.empty(16, "m")
    results = gallery.search(np.ones((3, 16), np.float32) / 4)
    assert [r.candidates for r in results] == [(), (), ()]


def test_wrong_dimension_is_a_clear_error() -> None:
    gallery = Gallery(["a"], np.ones((1, 8), np.float32), "m")
    with pytest.raises(ValueError, match="dimension 4"):
        gallery.search(np.ones((1, 4), np.float32))


def test_replacing_the_watchlist_is_atomic_for_concurrent_searches() -> None:
    # Gallery A holds only "old-*" subjects, B only "new-*". Every search result
    # must come wholly from one of them, however the swap interleaves.
    rng = np.random.default_rng(2)
    old = Gallery([f"old-{i}" for i in range(200)], unit(rng, 200), "m")
    new = Gallery([f"new-{i}" for i in range(300)], unit(rng, 300), "m")
    live = LiveGallery(old)
    probes = unit(rng, 4)
    mixed: list[list[str]] = []
    stop = threading.Event()

    def searcher() -> None:
        while not stop.is_set():
            for result in live.search(probes, top_k=10):
                prefixes = {c.subject_id.split("-")[0] for c in result.candidates}
                if len(prefixes) != 1:
                    mixed.append([c.subject_id for c in result.candidates])

    threads = [threading.Thread(target=searcher) for _ in range(3)]
    for t in threads:
        t.start()
    for i in range(200):
        live.replace(new if i % 2 == 0 else old)
    stop.set()
    for t in threads:
        t.join()
    assert mixed == []
    assert live.current is old
