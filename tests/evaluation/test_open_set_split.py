"""The seeded open-set split and search scoring, on hand-made identities and embeddings."""

from __future__ import annotations

import numpy as np
import pytest

from openlfr.evaluation.identification import score_open_set, split_open_set
from openlfr.watchlist.gallery import Gallery

IDS = ["a", "a", "a", "b", "b", "c", "d", "d", "e", "e"]


def test_split_roles_follow_the_number_of_photos() -> None:
    acquired = [True] * len(IDS)
    split = split_open_set(IDS, acquired, seed=0)
    assert split.enrolled == ("a", "b", "d", "e")  # c has one photo: non-mated
    assert [len(r) for r in split.references] == [1, 1, 1, 1]
    refs = {i for r in split.references for i in r}
    assert set(split.mated) == set(range(len(IDS))) - refs - {5}
    assert split.nonmated == (5,)


def test_split_is_reproducible_and_seed_dependent() -> None:
    acquired = [True] * len(IDS)
    assert split_open_set(IDS, acquired, seed=4) == split_open_set(IDS, acquired, seed=4)
    refs = {split_open_set(IDS, acquired, seed=s).references for s in range(10)}
    assert len(refs) > 1


def test_references_need_a_face_and_identities_without_one_are_non_mated() -> None:
    acquired = [False, True, False, False, False, True, True, True, True, True]
    split = split_open_set(IDS, acquired, seed=0)
    assert dict(zip(split.enrolled, split.references, strict=True))["a"] == (1,)
    assert "b" in split.failed_enrolment
    assert {3, 4} <= set(split.nonmated)  # b's photos search as a non-mated person
    assert {0, 2} <= set(split.mated)  # a's faceless photos stay mated: failures to acquire


def test_held_out_share_and_k_references() -> None:
    acquired = [True] * len(IDS)
    held = split_open_set(IDS, acquired, nonmated_share=0.5, seed=1)
    assert len(held.held_out) == 2 and len(held.enrolled) == 2
    two = split_open_set(IDS, acquired, references_per_identity=2, seed=0)
    assert two.enrolled == ("a",) and len(two.references[0]) == 2
    with pytest.raises(ValueError):
        split_open_set(IDS, acquired[:-1])
    with pytest.raises(ValueError):
        split_open_set(IDS, acquired, nonmated_share=1.5)


def _unit(*values: float) -> np.ndarray:
    v = np.array(values, np.float32)
    return v / np.linalg.norm(v)


def test_scoring_ranks_mates_and_counts_missing_faces() -> None:
    gallery = Gallery(["x", "y"], np.stack([_unit(1, 0, 0), _unit(0, 1, 0)]), "m")
    mated = [_unit(1, 0.2, 0), None, _unit(0.3, 1, 0), _unit(1, 1.5, 0)]
    scores = score_open_set(gallery, mated, ["x", "x", "y", "x"], [_unit(0, 0, 1), None])
    assert scores.mated.tolist() == [0, 2, 3]
    assert scores.mated_unacquired.tolist() == [1]
    assert scores.mate_ranks.tolist() == [1, 1, 2]  # the last one looks more like y
    assert scores.mate_scores[0] == pytest.approx(float(_unit(1, 0.2, 0)[0]), abs=1e-6)
    assert scores.nonmated_unacquired.tolist() == [1]
    assert scores.nonmated_top_scores.tolist() == pytest.approx([0.0], abs=1e-6)
    with pytest.raises(ValueError, match="not on the watchlist"):
        score_open_set(gallery, [_unit(1, 0, 0)], ["z"], [])
