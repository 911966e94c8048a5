"""Track-level fusion against votes of single looks, on the real clips and the demo scene.

Run:  nice .venv/bin/python bench/track_fusion.py [--data ../shared/data] [--scene-dir DIR]

Every frame of each clip goes through the live pipeline on the default settings,
once with ``pipeline.decision.track_fusion`` off (each look searched alone; two
agreeing looks alert) and once on (the track's looks fused into one quality-weighted
template, searched after each look; it alerts once a template of two or more looks
scores at or above the threshold). Clips: Hamilton (Miranda must alert, Lacamoire in
profile must not) and Obama against the stills watchlist of tests/stream; the 1080p
crowd against the lfw-dev watchlist (nobody may alert); the demo's street scene
against the demo watchlist enrolled through the quality gate (each listed walker
must alert, nobody else).

For each alert: looks the track had taken when it alerted, and seconds on the clip's
timeline from the track's first look to the deciding look. For each clip, the highest
score a look of a person who should not alert reached, single and fused, against the
threshold: the margin a false alert would have to cross. Clips are few, so these are
counts and times, not rates.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from openlfr.config import DetectorConfig, RuntimeConfig, Settings, SFacePackConfig
from openlfr.demo.cast import demo_watchlist, scene_cast
from openlfr.demo.scene import ensure_clip
from openlfr.demo.setup import detector_locate
from openlfr.demokit import STREET_CLIP
from openlfr.matching import rules_from_settings
from openlfr.stream import CameraPipeline, EndOfSource, open_source, parse_source
from openlfr.types import Look
from openlfr.vision import ModelPack, load_pack
from openlfr.watchlist import Gallery, QualityGate
from openlfr.watchlist.images import load_reference_image

REPO = Path(__file__).resolve().parents[1]
STILLS = {
    "lin_manuel_miranda": ["lin_manuel_miranda_01.png"],
    "alex_lacamoire": ["alex_lacamoire_0*"],
    "barack_obama": ["obama_*"],
    "joe_biden": ["biden_0*"],
}


@dataclass
class ClipRun:
    alerts: list[tuple[str, int, float]] = field(default_factory=list)  # subject, looks, s
    looks: int = 0
    best_wrong_single: float = -1.0
    best_wrong_fused: float = -1.0
    # Per subject present: the best top-1 score of a single look and of a fused template.
    best_single: dict[str, float] = field(default_factory=dict)
    best_fused: dict[str, float] = field(default_factory=dict)


def main_face(pack: ModelPack, image: np.ndarray, centre: bool = False) -> np.ndarray | None:
    faces = pack.analyse(image)
    if not faces:
        return None
    if centre:
        h, w = image.shape[:2]
        return min(
            faces,
            key=lambda f: float(
                np.hypot(
                    (f.crop.detection.box[0] + f.crop.detection.box[2]) / 2 - w / 2,
                    (f.crop.detection.box[1] + f.crop.detection.box[3]) / 2 - h / 2,
                )
            ),
        ).embedding
    return max(faces, key=lambda f: f.crop.quality.inter_eye_px).embedding


def stills_gallery(pack: ModelPack, data: Path) -> Gallery:
    root = data / "small/face_recognition_examples/images"
    ids, vectors = [], []
    for subject, patterns in STILLS.items():
        for path in sorted(p for pattern in patterns for p in root.glob(pattern)):
            image = load_reference_image(path.read_bytes(), max_bytes=10**8, max_pixels=10**8)
            vector = main_face(pack, image)
            if vector is not None:
                ids.append(subject)
                vectors.append(vector)
    return Gallery(ids, np.stack(vectors), pack.model_id)


def lfw_gallery(pack: ModelPack, data: Path) -> Gallery:
    first: dict[str, str] = {}
    with (data / "lfw-dev/labels.csv").open() as fh:
        for row in csv.DictReader(fh):
            if int(row["n_images_identity"]) >= 2:
                first.setdefault(row["identity"], row["file"])
    ids, vectors = [], []
    for identity, rel in sorted(first.items()):
        image = cv2.imread(str(data / "lfw-dev" / rel), cv2.IMREAD_COLOR)
        vector = None if image is None else main_face(pack, image, centre=True)
        if vector is not None:
            ids.append(identity)
            vectors.append(vector)
    return Gallery(ids, np.stack(vectors), pack.model_id)


def demo_gallery(pack: ModelPack) -> Gallery:
    gate = QualityGate(pack, Settings().enrolment)
    listed = demo_watchlist()
    templates = [gate.template_for(s.photo.read_bytes(), s.photo.name) for s in listed]
    return Gallery(
        [s.reference for s in listed], np.stack([t.embedding for t in templates]), pack.model_id
    )


def run(
    pack: ModelPack, gallery: Gallery, clip: Path, fusion: bool, wrong: Callable[[str], bool]
) -> ClipRun:
    """Every frame of ``clip``; ``wrong(subject)``: whether an alert for it would be false."""
    base = Settings()
    settings = base.model_copy(
        update={
            "pipeline": base.pipeline.model_copy(
                update={
                    "decision": base.pipeline.decision.model_copy(update={"track_fusion": fusion})
                }
            )
        }
    )
    pipeline = CameraPipeline(
        "bench", pack, gallery, rules_from_settings(settings), settings.pipeline, watchlist="b"
    )
    out = ClipRun()
    per_track: dict[int, list[Look]] = defaultdict(list)
    observe = pipeline._engine.observe

    def spy(look: Look) -> object:
        per_track[look.track_id].append(look)
        out.looks += 1
        for cand, attr in ((look.candidate, "best_wrong_single"), (look.fused, "best_wrong_fused")):
            if cand is not None and wrong(cand.subject_id):
                setattr(out, attr, max(getattr(out, attr), cand.score))
        for cand, best in ((look.candidate, out.best_single), (look.fused, out.best_fused)):
            if cand is not None and not wrong(cand.subject_id):
                best[cand.subject_id] = max(best.get(cand.subject_id, -1.0), cand.score)
        decision = observe(look)
        if decision is not None:
            first = per_track[look.track_id][0].captured_at
            out.alerts.append(
                (decision.subject_id, len(per_track[look.track_id]), look.captured_at - first)
            )
        return decision

    pipeline._engine.observe = spy  # type: ignore[method-assign]
    with open_source(parse_source(str(clip)), settings.pipeline.source) as source:
        while True:
            try:
                frame = source.read(30.0)
            except EndOfSource:
                break
            if frame is not None:
                pipeline.process(frame)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("OPENLFR_SHARED_DATA", REPO.parent / "shared" / "data")),
    )
    parser.add_argument("--scene-dir", type=Path, default=REPO / ".openlfr" / "bench-scene")
    parser.add_argument("--skip-crowd", action="store_true", help="leave out the 1080p crowd")
    parser.add_argument("--only", default="", help="comma-separated clip names to run")
    args = parser.parse_args()
    pack = load_pack(SFacePackConfig(), DetectorConfig(), RuntimeConfig())
    threshold = Settings().matching.threshold
    videos = args.data / "videos"
    stills = stills_gallery(pack, args.data)
    scene = ensure_clip(args.scene_dir, scene_cast(), detector_locate(pack))
    walked = {p.listed_as for p in scene_cast() if p.listed_as}
    demo = demo_gallery(pack)
    cases: list[tuple[str, Gallery, Path, set[str]]] = [
        ("hamilton", stills, videos / "short_hamilton_clip.mp4", {"lin_manuel_miranda"}),
        ("obama", stills, videos / "obama_whcd_clip.mp4", {"barack_obama"}),
        ("demo scene", demo, scene.path, {s for s in walked if s}),
        # Intel's clip shows demo subjects 009 and 010 (010 tilts his head throughout).
        ("demo intel", demo, STREET_CLIP, {"DEMO-009", "DEMO-010"}),
    ]
    if not args.skip_crowd:
        cases.append(
            ("crowd", lfw_gallery(pack, args.data), videos / "facenet_pytorch_video.mp4", set())
        )
    needed = Settings().pipeline.decision.min_agreeing_looks
    print(f"threshold {threshold:.2f}, min_agreeing_looks {needed}")
    for name, gallery, clip, expected in cases:
        if args.only and name not in args.only.split(","):
            continue
        for fusion in (False, True):
            r = run(pack, gallery, clip, fusion, lambda s, e=expected: s not in e)
            alerted = [a[0] for a in r.alerts]
            right = sorted(alerted) == sorted(expected) and len(set(alerted)) == len(alerted)
            missed, false = sorted(expected - set(alerted)), sorted(set(alerted) - expected)
            mode = "fused" if fusion else "votes"
            looks = [a[1] for a in r.alerts]
            secs = [a[2] for a in r.alerts]
            print(
                f"{name:11s} {mode}: alerts {len(alerted)} ({'right' if right else 'WRONG'}; "
                f"missed {missed}, false {false})"
                f"; looks to alert {looks} (mean {np.mean(looks) if looks else float('nan'):.2f})"
                f"; seconds {[round(s, 2) for s in secs]} "
                f"(mean {np.mean(secs) if secs else float('nan'):.2f}); looks {r.looks}; "
                f"best wrong single {r.best_wrong_single:.3f}, fused {r.best_wrong_fused:.3f}"
            )
            for subject in missed:
                print(
                    f"    missed {subject}: best single {r.best_single.get(subject, -1):.3f}, "
                    f"fused {r.best_fused.get(subject, -1):.3f}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
