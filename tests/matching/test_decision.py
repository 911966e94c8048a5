"""Decision rules over a track's looks: threshold, agreeing looks, one alert, cooldown."""

from __future__ import annotations

import pytest

from openlfr.config import Settings
from openlfr.matching import DecisionEngine, DecisionRules, rules_from_settings
from openlfr.types import Candidate, FaceQuality, Look

QUALITY = FaceQuality(40.0, 200.0, 0.0, 0.0, 0.0, 0.9)


def look(track: int, t: float, subject: str | None, score: float, seq: int = 0) -> Look:
    candidate = None if subject is None else Candidate(subject, score, 1)
    return Look("cam", track, seq, t, QUALITY, 0.8, candidate)


def test_threshold_tie_agrees_and_below_does_not() -> None:
    engine = DecisionEngine(DecisionRules(threshold=0.5, min_agreeing_looks=1))
    assert engine.observe(look(1, 0.0, "a", 0.4999)) is None
    decision = engine.observe(look(1, 0.1, "a", 0.5))
    assert decision is not None and decision.subject_id == "a"


def test_needs_min_agreeing_looks_of_the_same_subject() -> None:
    engine = DecisionEngine(DecisionRules(threshold=0.5, min_agreeing_looks=3))
    assert engine.observe(look(1, 0.0, "a", 0.7, seq=1)) is None
    assert engine.observe(look(1, 0.5, "b", 0.9, seq=2)) is None  # another subject: own tally
    assert (
        engine.observe(look(1, 1.0, "a", 0.3, seq=3)) is None
    )  # below: neither counts nor cancels
    assert engine.observe(look(1, 1.5, "a", 0.6, seq=4)) is None
    decision = engine.observe(look(1, 2.0, "a", 0.65, seq=5))
    assert decision is not None
    assert [x.seq for x in decision.looks] == [1, 4, 5]
    assert decision.score == pytest.approx(0.7)
    assert decision.best_look.seq == 1


def test_other_tracks_votes_do_not_add_up() -> None:
    engine = DecisionEngine(DecisionRules(threshold=0.5, min_agreeing_looks=2, cooldown_s=0))
    assert engine.observe(look(1, 0.0, "a", 0.9)) is None
    assert engine.observe(look(2, 0.1, "a", 0.9)) is None
    assert engine.observe(look(2, 0.2, "a", 0.9)) is not None


def test_a_track_alerts_at_most_once_per_subject() -> None:
    engine = DecisionEngine(DecisionRules(threshold=0.5, min_agreeing_looks=1, cooldown_s=0))
    assert engine.observe(look(1, 0.0, "a", 0.9)) is not None
    assert all(engine.observe(look(1, 0.1 * i, "a", 0.95)) is None for i in range(1, 5))
    assert engine.has_decided(1)
    assert engine.counters().alerts == 1


def test_cooldown_is_per_camera_subject_across_tracks() -> None:
    engine = DecisionEngine(DecisionRules(threshold=0.5, min_agreeing_looks=1, cooldown_s=10))
    assert engine.observe(look(1, 100.0, "a", 0.9)) is not None
    assert engine.observe(look(2, 105.0, "a", 0.9)) is None  # new track, same subject: suppressed
    assert engine.observe(look(3, 105.0, "b", 0.9)) is not None  # other subject: not affected
    assert engine.observe(look(4, 110.0, "a", 0.9)) is not None  # cooldown over
    assert engine.counters().suppressed_by_cooldown == 1


def test_zero_cooldown_alerts_every_track() -> None:
    engine = DecisionEngine(DecisionRules(threshold=0.5, min_agreeing_looks=1, cooldown_s=0))
    assert all(engine.observe(look(i, 1.0, "a", 0.9)) is not None for i in range(1, 4))


def test_votes_older_than_the_window_expire() -> None:
    engine = DecisionEngine(DecisionRules(threshold=0.5, min_agreeing_looks=2, vote_window_s=2))
    engine.observe(look(1, 0.0, "a", 0.9))
    assert engine.held_looks == 1
    assert engine.observe(look(1, 2.5, "a", 0.9)) is None  # first vote expired
    assert engine.observe(look(1, 3.0, "a", 0.9)) is not None


def test_forget_track_drops_everything_held() -> None:
    engine = DecisionEngine(DecisionRules(threshold=0.5, min_agreeing_looks=5))
    for i in range(3):
        engine.observe(look(7, float(i), "a", 0.9))
    assert engine.held_looks == 3 and engine.held_tracks == 1
    engine.forget_track(7)
    assert engine.held_looks == 0 and engine.held_tracks == 0


def test_empty_watchlist_looks_never_alert() -> None:
    engine = DecisionEngine(DecisionRules(threshold=-1.0, min_agreeing_looks=1))
    assert engine.observe(look(1, 0.0, None, 0.0)) is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"threshold": 1.5},
        {"threshold": 0.5, "min_agreeing_looks": 0},
        {"threshold": 0.5, "vote_window_s": 0},
        {"threshold": 0.5, "cooldown_s": -1},
    ],
)
def test_invalid_rules_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        DecisionRules(**kwargs)  # type: ignore[arg-type]


def test_rules_come_from_settings_and_threshold_overrides() -> None:
    settings = Settings()
    rules = rules_from_settings(settings)
    assert rules.threshold == settings.matching.threshold
    assert rules.min_agreeing_looks == settings.pipeline.decision.min_agreeing_looks
    assert rules.vote_window_s == settings.pipeline.retention_s
    assert rules_from_settings(settings, threshold=0.9).threshold == 0.9
