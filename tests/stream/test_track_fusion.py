"""Track fusion: a track's looks fused by quality, and decisions on the fused template."""

from __future__ import annotations

import numpy as np
import pytest

from openlfr.config import Settings
from openlfr.matching import DecisionEngine, DecisionRules, rules_from_settings
from openlfr.stream.bestshot import Shot, TrackShots
from openlfr.types import Candidate, Detection, FaceCrop, FaceQuality, Look

QUALITY = FaceQuality(40.0, 200.0, 0.0, 0.0, 0.0, 0.9)


def shot(score: float, t: float, held_since: float = 0.0) -> Shot:
    crop = FaceCrop(
        np.zeros((112, 112, 3), np.uint8),
        Detection(np.zeros(4, np.float32), np.zeros((5, 2), np.float32), 0.9),
        QUALITY,
    )
    return Shot(crop, score, 0, t, held_since)


def unit(*values: float) -> np.ndarray:
    v = np.asarray(values, np.float32)
    return v / np.linalg.norm(v)


def test_the_fused_template_is_the_quality_weighted_mean_of_unit_looks() -> None:
    track = TrackShots()
    first, count = track.fuse(unit(1, 0, 0), shot(0.9, 0.0), window_s=5.0)
    assert count == 1
    np.testing.assert_allclose(first, unit(1, 0, 0), atol=1e-6)
    fused, count = track.fuse(unit(0, 1, 0), shot(0.3, 0.5), window_s=5.0)
    assert count == 2
    np.testing.assert_allclose(fused, unit(0.9, 0.3, 0), atol=1e-6)
    assert np.linalg.norm(fused) == pytest.approx(1.0, abs=1e-6)


def test_looks_older_than_the_window_leave_the_template() -> None:
    track = TrackShots()
    track.fuse(unit(1, 0), shot(0.9, 0.0), window_s=1.0)
    track.fuse(unit(1, 1), shot(0.5, 0.8), window_s=1.0)
    fused, count = track.fuse(unit(0, 1), shot(0.5, 1.5), window_s=1.0)
    assert count == 2
    np.testing.assert_allclose(fused, unit(unit(1, 1)[0], unit(1, 1)[1] + 1), atol=1e-6)


def test_fused_embeddings_expire_with_the_crops_and_clear() -> None:
    track = TrackShots()
    track.fuse(unit(1, 0), shot(0.9, 0.0, held_since=10.0), window_s=5.0)
    track.fuse(unit(0, 1), shot(0.9, 0.1, held_since=12.0), window_s=5.0)
    assert track.embeddings_held == 2
    track.expire(horizon=11.0)
    assert track.embeddings_held == 1
    track.clear()
    assert track.embeddings_held == 0


def fused_look(t: float, single: float, fused: float, count: int, subject: str = "a") -> Look:
    return Look(
        "cam",
        1,
        int(t * 10),
        t,
        QUALITY,
        0.8,
        Candidate(subject, single, 1),
        fused=Candidate(subject, fused, 1),
        fused_looks=count,
    )


def test_fusion_alerts_when_the_template_of_enough_looks_crosses_the_threshold() -> None:
    rules = DecisionRules(threshold=0.5, min_agreeing_looks=2, track_fusion=True)
    engine = DecisionEngine(rules)
    # One look alone is never enough, however high it scores.
    assert engine.observe(fused_look(0.0, 0.9, 0.9, 1)) is None
    decision = engine.observe(fused_look(0.5, 0.45, 0.6, 2))  # this look alone is below
    assert decision is not None and decision.subject_id == "a"
    assert decision.score == pytest.approx(0.6)
    assert [x.seq for x in decision.looks] == [0, 5]
    assert decision.best_look.seq == 0


def test_votes_need_each_look_to_agree_where_fusion_does_not() -> None:
    looks = [fused_look(0.0, 0.6, 0.6, 1), fused_look(0.5, 0.45, 0.53, 2)]
    votes = DecisionEngine(DecisionRules(threshold=0.5, min_agreeing_looks=2))
    fused = DecisionEngine(DecisionRules(threshold=0.5, min_agreeing_looks=2, track_fusion=True))
    assert [votes.observe(x) for x in looks] == [None, None]
    assert fused.observe(looks[0]) is None and fused.observe(looks[1]) is not None


def test_a_fused_template_below_the_threshold_does_not_alert() -> None:
    engine = DecisionEngine(DecisionRules(threshold=0.5, min_agreeing_looks=2, track_fusion=True))
    assert engine.observe(fused_look(0.0, 0.7, 0.7, 1)) is None
    assert engine.observe(fused_look(0.5, 0.6, 0.49, 2)) is None
    assert engine.counters().alerts == 0
    assert engine.held_looks == 2
    engine.forget_track(1)
    assert engine.held_looks == 0


def test_the_setting_reaches_the_rules() -> None:
    base = Settings()
    assert rules_from_settings(base).track_fusion is base.pipeline.decision.track_fusion
    on = base.model_copy(
        update={
            "pipeline": base.pipeline.model_copy(
                update={
                    "decision": base.pipeline.decision.model_copy(update={"track_fusion": True})
                }
            )
        }
    )
    assert rules_from_settings(on).track_fusion
