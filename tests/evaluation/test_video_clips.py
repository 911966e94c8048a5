"""The clip-level video protocol on a real clip: sampling, caching and consistent counts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from openlfr.config import DetectorConfig
from openlfr.evaluation.cache import EmbeddingCache, ExtractionSettings
from openlfr.evaluation.datasets import LabelledVideo, load_dataset
from openlfr.evaluation.extraction import DecodeLimits, extract_faces
from openlfr.evaluation.faces import FaceRule
from openlfr.evaluation.video import VideoError, sample_clip, score_clip, video_report
from openlfr.privacy.crypto import BlobCipher
from openlfr.vision import ModelPack
from openlfr.watchlist.gallery import Gallery

pytestmark = pytest.mark.realdata


def test_a_clip_is_scored_against_a_watchlist_of_stills(
    shared_data: Path, pack: ModelPack, tmp_path: Path
) -> None:
    stills = load_dataset(shared_data / "small" / "face_recognition_examples")
    chosen = [
        i for i, img in enumerate(stills.images) if img.identity in ("barack_obama", "joe_biden")
    ]
    faces = extract_faces(
        pack,
        [stills.images[i].path for i in chosen],
        cache=None,
        pad=0.0,
        limits=DecodeLimits(20_000_000, 40_000_000),
    )
    names, vectors = [], []
    for i, f in zip(chosen, faces, strict=True):
        vector = f.labelled_embedding(FaceRule.LARGEST)
        if vector is not None:
            names.append(stills.images[i].identity)
            vectors.append(vector)
    gallery = Gallery(names, np.stack(vectors), pack.model_id)

    clip_path = shared_data / "videos" / "obama_whcd_clip.mp4"
    video = LabelledVideo("obama_whcd_clip.mp4", clip_path, ("barack_obama", "someone_else"))
    settings = ExtractionSettings.from_config(pack.model_id, pack.name, DetectorConfig(), 0.0)
    cache = EmbeddingCache(tmp_path, BlobCipher(b"v" * 32), settings)
    clip = sample_clip(pack, video, per_second=1.0, cache=cache)
    assert 3 <= len(clip.frames) <= 6 and clip.frames[0] == 0
    assert cache.misses == len(clip.frames)
    again = sample_clip(pack, video, per_second=1.0, cache=cache)
    assert cache.hits == len(clip.frames) and again.frames == clip.frames

    thresholds = np.round(np.arange(0.0, 1.01, 0.05), 2)
    result = score_clip(clip, gallery, thresholds, configured=0.55)
    assert result.expected == ("barack_obama",)
    assert result.expected_elsewhere == ("someone_else",)
    assert np.all(result.true_alerts + result.missed == 1)
    assert np.all(np.diff(result.true_alerts) <= 0) and np.all(np.diff(result.false_alerts) <= 0)
    assert result.false_alerts[0] == 1  # at threshold 0 everyone on the list is raised
    report = video_report(
        [clip],
        gallery,
        watchlist_source="stills",
        per_second=1.0,
        thresholds=thresholds,
        configured=0.55,
    )
    totals = report.totals()
    assert [t.tolist() for t in totals] == [
        result.true_alerts.tolist(),
        result.missed.tolist(),
        result.false_alerts.tolist(),
    ]


def test_a_file_that_is_not_a_video_is_refused(pack: ModelPack, tmp_path: Path) -> None:
    fake = tmp_path / "clip.mp4"
    fake.write_bytes(b"not a video")
    with pytest.raises(VideoError):
        sample_clip(pack, LabelledVideo("clip.mp4", fake, ()), per_second=1.0, cache=None)
