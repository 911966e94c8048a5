"""The pipeline on the real clips: who alerts, who does not, and the crowd's best impostor score."""

from __future__ import annotations

from pathlib import Path

import pytest

from openlfr.config import Settings
from openlfr.matching import rules_from_settings
from openlfr.stream import CameraPipeline, EndOfSource, open_source, parse_source
from openlfr.types import Alert, Look
from openlfr.vision import ModelPack
from openlfr.watchlist import Gallery

pytestmark = pytest.mark.realdata


def run_clip(
    pack: ModelPack, gallery: Gallery, clip: Path, track_fusion: bool | None = None
) -> tuple[list[Alert], CameraPipeline, list[Look]]:
    """Every frame of ``clip`` through a pipeline on the default settings; alerts and looks."""
    settings = Settings()
    if track_fusion is not None:
        decision = settings.pipeline.decision.model_copy(update={"track_fusion": track_fusion})
        pipeline_config = settings.pipeline.model_copy(update={"decision": decision})
        settings = settings.model_copy(update={"pipeline": pipeline_config})
    pipeline = CameraPipeline(
        "cam", pack, gallery, rules_from_settings(settings), settings.pipeline, watchlist="test"
    )
    looks: list[Look] = []
    observe = pipeline._engine.observe

    def spy(look: Look) -> object:
        looks.append(look)
        return observe(look)

    pipeline._engine.observe = spy  # type: ignore[method-assign]
    alerts: list[Alert] = []
    with open_source(parse_source(str(clip)), settings.pipeline.source) as source:
        while True:
            try:
                frame = source.read(10.0)
            except EndOfSource:
                break
            if frame is not None:
                alerts += pipeline.process(frame)
    return alerts, pipeline, looks


def test_hamilton_alerts_on_miranda_only(
    clips: Path, pack: ModelPack, stills_gallery: Gallery
) -> None:
    alerts, pipeline, looks = run_clip(pack, stills_gallery, clips / "short_hamilton_clip.mp4")
    assert [a.subject_id for a in alerts] == ["lin_manuel_miranda"]
    alert = alerts[0]
    assert alert.score >= pipeline.rules.threshold
    assert len(alert.looks) >= pipeline.rules.min_agreeing_looks
    assert alert.probe.image.shape == (112, 112, 3)
    # Lacamoire plays in profile: his best look stays well below the threshold.
    lacamoire = [
        x.candidate.score
        for x in looks
        if x.candidate and x.candidate.subject_id == "alex_lacamoire"
    ]
    assert max(lacamoire, default=0.0) < pipeline.rules.threshold
    counters = pipeline.counters()
    assert counters.embeddings < counters.faces / 10  # best shot, not every face


def test_fused_templates_alert_on_miranda_no_later_than_votes_of_single_looks(
    clips: Path, pack: ModelPack, stills_gallery: Gallery
) -> None:
    clip = clips / "short_hamilton_clip.mp4"
    fused, pipeline, fused_looks = run_clip(pack, stills_gallery, clip, track_fusion=True)
    voted, _, _ = run_clip(pack, stills_gallery, clip, track_fusion=False)
    assert [a.subject_id for a in fused] == [a.subject_id for a in voted] == ["lin_manuel_miranda"]
    assert fused[0].captured_at <= voted[0].captured_at
    # The fused alert's score is its template's, of at least two looks of the track.
    deciding = [x for x in fused_looks if x.fused and x.fused.score == fused[0].score]
    assert deciding and deciding[0].fused_looks >= pipeline.rules.min_agreeing_looks
    assert fused[0].score >= pipeline.rules.threshold


def test_obama_clip_alerts_on_obama(clips: Path, pack: ModelPack, stills_gallery: Gallery) -> None:
    alerts, _, _ = run_clip(pack, stills_gallery, clips / "obama_whcd_clip.mp4")
    assert [a.subject_id for a in alerts] == ["barack_obama"]


def test_crowd_raises_no_alert_against_lfw_watchlist(
    clips: Path, pack: ModelPack, lfw_gallery: Gallery
) -> None:
    assert len(lfw_gallery) > 750
    alerts, pipeline, looks = run_clip(pack, lfw_gallery, clips / "facenet_pytorch_video.mp4")
    best = max(x.candidate.score for x in looks if x.candidate)
    print(f"crowd clip: {len(looks)} looks, highest non-mated score {best:.3f}")
    assert alerts == []
    assert pipeline.counters().tracks >= 5 and looks
    assert best < 1.0
