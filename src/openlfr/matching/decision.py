"""Recognition over time: when a track's looks become an alert (threshold, votes, cooldown).

Every rule that turns similarity scores into alerts lives here, configured by
:class:`DecisionRules`; nothing else in openlfr compares a score with a
threshold for the live pipeline.

The rules, per camera:

1. A look *agrees* with a subject when the subject is the look's best candidate
   and its score is at or above ``threshold`` (a tie with the threshold agrees).
2. A track alerts for a subject once it holds ``min_agreeing_looks`` agreeing
   looks no older than ``vote_window_s`` (measured on the frames' capture
   timeline). Looks that disagree do not cancel earlier ones: a person who turns
   away for one look is still the same person.
3. A track raises at most one alert per subject, ever.
4. After an alert for a subject, that subject cannot alert again on the same
   camera for ``cooldown_s`` (on the capture timeline), whichever track it is
   on; a decision suppressed this way is counted and the track is treated as
   having alerted for that subject.

With ``track_fusion``, rules 1 and 2 read on the track's fused template instead
of single looks: a look agrees when the best candidate of the template fusing
it with the track's earlier looks in the window (:attr:`Look.fused`) is at or
above ``threshold``, and the track alerts on the first agreeing look whose
template fuses at least ``min_agreeing_looks`` looks. Rules 3 and 4 are unchanged.

Times are capture times (:attr:`openlfr.types.Look.captured_at`): for a live
camera that is wall-clock time; for a file read as fast as possible it is the
file's own timeline, so decisions do not depend on how fast the machine is.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from openlfr.config import Settings
from openlfr.types import Candidate, Look


@dataclass(frozen=True, slots=True)
class DecisionRules:
    """The knobs of the decision, each documented with what moving it does.

    Attributes:
        threshold: cosine similarity at or above which a look agrees with its best
            candidate. Raising it lowers false alerts (FPIR) and raises misses
            (FNIR); its default is ``matching.threshold`` in the settings.
        min_agreeing_looks: agreeing looks a track needs before it alerts. Raising
            it suppresses alerts caused by one unlucky crop and misses people seen
            only briefly or from poor angles; 1 alerts on the first agreeing look.
        vote_window_s: only looks this recent count; the pipeline sets it to the
            privacy retention window, since older looks are forgotten anyway.
            Raising it lets slow-building evidence count.
        cooldown_s: after an alert for a subject on a camera, that subject cannot
            alert again there for this long. Raising it cuts repeated alerts for
            someone who lingers and re-enters; lowering it re-alerts sooner. 0
            disables the cooldown.
        track_fusion: decide on each track's fused template (the quality-weighted
            mean of its looks' embeddings) rather than on votes of single looks.
    """

    threshold: float
    min_agreeing_looks: int = 2
    vote_window_s: float = 5.0
    cooldown_s: float = 60.0
    track_fusion: bool = False

    def __post_init__(self) -> None:
        if not -1.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must be in [-1, 1], got {self.threshold}")
        if self.min_agreeing_looks < 1:
            raise ValueError("min_agreeing_looks must be at least 1")
        if self.vote_window_s <= 0:
            raise ValueError("vote_window_s must be positive")
        if self.cooldown_s < 0:
            raise ValueError("cooldown_s must not be negative")


@dataclass(frozen=True, slots=True)
class Decision:
    """A track that now alerts for a subject.

    Attributes:
        subject_id: the subject.
        score: best score among the agreeing looks.
        looks: the agreeing looks, oldest first.
    """

    subject_id: str
    score: float
    looks: tuple[Look, ...]

    @property
    def best_look(self) -> Look:
        """The look that alone scores highest for the subject (its crop becomes the probe).

        With track fusion a fused look may alone have another best candidate; such
        looks come after every look whose own best candidate is the subject.
        """
        return max(self.looks, key=lambda x: _look_score(x, self.subject_id))


def _look_score(look: Look, subject_id: str | None = None) -> float:
    if look.candidate is None:
        return -3.0
    if subject_id is not None and look.candidate.subject_id != subject_id:
        return -2.0 + look.quality_score  # then the best quality
    return look.candidate.score


@dataclass(slots=True)
class _TrackVotes:
    # Agreeing looks per subject, oldest first; bounded by the vote window.
    agreeing: dict[str, deque[Look]] = field(default_factory=dict)
    decided: set[str] = field(default_factory=set)
    # With track fusion: every look of the window, the ones its template fuses.
    recent: deque[Look] = field(default_factory=deque)


@dataclass(frozen=True, slots=True)
class DecisionCounters:
    """What the engine decided so far (counts only)."""

    looks: int
    agreeing_looks: int
    alerts: int
    suppressed_by_cooldown: int


class DecisionEngine:
    """Applies :class:`DecisionRules` to the looks of every track of one camera.

    Not thread-safe: one engine per camera pipeline, used by its thread.
    """

    def __init__(self, rules: DecisionRules) -> None:
        self.rules = rules
        self._tracks: dict[int, _TrackVotes] = {}
        self._last_alert: dict[str, float] = {}  # subject -> capture time of its last alert
        self._looks = 0
        self._agreeing = 0
        self._alerts = 0
        self._suppressed = 0

    def agrees(self, look: Look) -> bool:
        """Whether ``look`` votes for its best candidate (rule 1; fused with track fusion)."""
        candidate = self._candidate(look)
        return candidate is not None and candidate.score >= self.rules.threshold

    def _candidate(self, look: Look) -> Candidate | None:
        return look.fused if self.rules.track_fusion else look.candidate

    def observe(self, look: Look) -> Decision | None:
        """Count one look of a track; the decision it completes, if any."""
        self._looks += 1
        votes = self._tracks.setdefault(look.track_id, _TrackVotes())
        self._expire(votes, look.captured_at)
        if self.rules.track_fusion:
            votes.recent.append(look)
        if not self.agrees(look):
            return None
        candidate = self._candidate(look)
        assert candidate is not None
        self._agreeing += 1
        subject = candidate.subject_id
        if subject in votes.decided:
            return None
        if self.rules.track_fusion:
            if look.fused_looks < self.rules.min_agreeing_looks:
                return None
            looks = tuple(votes.recent)[-look.fused_looks :]
            score = candidate.score
        else:
            agreeing = votes.agreeing.setdefault(subject, deque())
            agreeing.append(look)
            if len(agreeing) < self.rules.min_agreeing_looks:
                return None
            looks = tuple(agreeing)
            del votes.agreeing[subject]
            score = max(_look_score(x) for x in looks)
        votes.decided.add(subject)
        last = self._last_alert.get(subject)
        if last is not None and look.captured_at - last < self.rules.cooldown_s:
            self._suppressed += 1
            return None
        self._last_alert[subject] = look.captured_at
        self._alerts += 1
        return Decision(subject, score, looks)

    def has_decided(self, track_id: int) -> bool:
        """Whether the track has alerted (or been suppressed) for any subject."""
        votes = self._tracks.get(track_id)
        return bool(votes and votes.decided)

    def forget_track(self, track_id: int) -> None:
        """Drop everything held about a track that has ended."""
        self._tracks.pop(track_id, None)

    def expire(self, now: float) -> None:
        """Drop looks older than the vote window on every track (``now``: capture timeline)."""
        for votes in self._tracks.values():
            self._expire(votes, now)

    def _expire(self, votes: _TrackVotes, now: float) -> None:
        horizon = now - self.rules.vote_window_s
        while votes.recent and votes.recent[0].captured_at < horizon:
            votes.recent.popleft()
        for subject in list(votes.agreeing):
            looks = votes.agreeing[subject]
            while looks and looks[0].captured_at < horizon:
                looks.popleft()
            if not looks:
                del votes.agreeing[subject]

    @property
    def held_looks(self) -> int:
        """Looks currently held for voting (zero once every track is forgotten)."""
        return sum(
            len(v.recent) + sum(len(d) for d in v.agreeing.values()) for v in self._tracks.values()
        )

    @property
    def held_tracks(self) -> int:
        return len(self._tracks)

    def counters(self) -> DecisionCounters:
        return DecisionCounters(self._looks, self._agreeing, self._alerts, self._suppressed)


def rules_from_settings(settings: Settings, threshold: float | None = None) -> DecisionRules:
    """The rules configured in ``settings``; ``threshold`` overrides ``matching.threshold``."""
    decision = settings.pipeline.decision
    return DecisionRules(
        threshold=settings.matching.threshold if threshold is None else threshold,
        min_agreeing_looks=decision.min_agreeing_looks,
        vote_window_s=settings.pipeline.retention_s,
        cooldown_s=decision.cooldown_s,
        track_fusion=decision.track_fusion,
    )
