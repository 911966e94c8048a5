"""The demo's cast and its synthetic street scene: neutral, deterministic, and it raises the
alerts it should on the real models (listed walkers found, nobody else)."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import av
import numpy as np
import pytest

from openlfr.alerts.sink import CollectingSink
from openlfr.config import Settings
from openlfr.config.pipeline import SourceConfig
from openlfr.demo.cast import ABSENT_FROM_SCENE, DEMO_CATEGORY, demo_watchlist, scene_cast
from openlfr.demo.scene import SceneConfig, SceneRenderer, ensure_clip, plan_scene
from openlfr.demo.setup import detector_locate
from openlfr.stream import Runner, parse_source, pipeline_factory
from openlfr.vision.pack import ModelPack
from openlfr.watchlist import Gallery, QualityGate
from openlfr.watchlist.gallery import LiveGallery


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_watchlist_is_neutral_and_uses_other_photos_than_the_scene() -> None:
    subjects = demo_watchlist()
    assert len(subjects) == 10
    assert len({s.reference for s in subjects}) == len(subjects)
    for s in subjects:
        assert s.reference.startswith("DEMO-") and s.name.startswith("Demo subject ")
        assert "demo kit" in s.image_source
    enrolled = {s.identity: _sha(s.photo) for s in subjects}
    cast = scene_cast()
    listed = [p for p in cast if p.listed_as is not None]
    assert listed, "no listed person walks by"
    for person in listed:
        assert _sha(person.photo) != enrolled[person.identity], "the enrolled photo walks by"
    assert not {p.identity for p in cast} & ABSENT_FROM_SCENE
    assert len({p.identity for p in cast}) == len(cast)
    assert sum(p.listed_as is None for p in cast) > len(listed), "too few passers-by"
    assert DEMO_CATEGORY == "demo"


def test_the_plan_follows_the_seed_and_loops_cleanly() -> None:
    cast = scene_cast()
    a, b = plan_scene(cast), plan_scene(cast)
    assert a == b
    other = plan_scene(cast, SceneConfig(seed=7))
    assert [w.identity for w in other.walkers] != [w.identity for w in a.walkers]
    assert a.walkers[0].listed_as is not None and a.walkers[0].blur_px == 0
    assert {w.identity for w in a.walkers} == {p.identity for p in cast}
    assert any(w.blur_px for w in a.walkers), "no blurred walker"
    # Empty at both ends, so the looping clip never cuts anyone in half.
    assert not any(w.visible_at(0.0) or w.visible_at(a.duration_s) for w in a.walkers)


@pytest.mark.parametrize("cast_size", [0, 3])
def test_plan_handles_small_casts(cast_size: int) -> None:
    scene = plan_scene(scene_cast()[:cast_size])
    assert len(scene.walkers) == cast_size
    assert scene.frames >= 1


def test_frames_are_identical_between_renderers(pack: ModelPack) -> None:
    cast = scene_cast()[:6]
    scene = plan_scene(cast)
    photos = {p.identity: p.photo for p in cast}
    one = SceneRenderer(scene, photos, detector_locate(pack))
    two = SceneRenderer(scene, photos, detector_locate(pack))
    for i in (0, scene.frames // 3, scene.frames // 2, scene.frames - 1):
        assert np.array_equal(one.frame(i), two.frame(i))
    assert one.frame(scene.frames // 2).std() > 10  # not a blank picture


def test_a_photo_without_a_face_is_refused(pack: ModelPack) -> None:
    cast = scene_cast()[:1]
    with pytest.raises(ValueError, match="no face found"):
        SceneRenderer(plan_scene(cast), {cast[0].identity: cast[0].photo}, lambda image: None)


@pytest.fixture(scope="module")
def small_scene(tmp_path_factory: pytest.TempPathFactory, pack: ModelPack) -> tuple[Path, list]:
    """Two listed walkers and three passers-by, encoded like the demo's clip."""
    cast = scene_cast()
    listed = [p for p in cast if p.listed_as][:2]
    others = [p for p in cast if not p.listed_as][:3]
    config = SceneConfig(spacing_s=1.6, crossing_s=(5.0, 6.0))
    folder = tmp_path_factory.mktemp("scene")
    clip = ensure_clip(folder, [*listed, *others], detector_locate(pack), config)
    return clip.path, [*listed, *others]


def test_the_clip_is_written_once_and_reused(
    small_scene: tuple[Path, list], pack: ModelPack
) -> None:
    path, cast = small_scene
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (960, 540)
    before = path.stat().st_mtime_ns
    again = ensure_clip(
        path.parent, cast, detector_locate(pack), SceneConfig(spacing_s=1.6, crossing_s=(5.0, 6.0))
    )
    assert again.path == path and path.stat().st_mtime_ns == before
    assert not list(path.parent.glob("*.partial"))


def test_the_scene_alerts_for_listed_walkers_and_nobody_else(
    small_scene: tuple[Path, list], pack: ModelPack
) -> None:
    path, cast = small_scene
    gate = QualityGate(pack, Settings().enrolment)
    listed = demo_watchlist()
    templates = [gate.template_for(s.photo.read_bytes(), s.photo.name) for s in listed]
    gallery = Gallery(
        [s.reference for s in listed], np.stack([t.embedding for t in templates]), pack.model_id
    )
    settings = Settings()
    sink = CollectingSink()
    factory = pipeline_factory(settings, pack, LiveGallery(gallery), watchlist="demo")
    runner = Runner([parse_source(f"street={path}")], factory, sink, SourceConfig())
    runner.start()
    assert runner.wait(timeout=300)
    alerted = {a.subject_id for a in sink.alerts}
    walked = {p.listed_as for p in cast if p.listed_as}
    assert alerted <= walked, f"alerts for people who did not walk by: {alerted - walked}"
    # Every frame is processed (no real-time dropping), so this is deterministic.
    assert alerted == walked, f"listed walkers missed: {walked - alerted}"
    tracks = runner.status()[0].counters.tracks
    assert len(cast) <= tracks <= 2 * len(cast)


def test_scene_config_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        SceneConfig().fps = 1  # type: ignore[misc]
