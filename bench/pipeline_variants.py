"""The pipelines bench/pipeline.py compares, each run in its own process and timed alike.

- ``ours``: openlfr's live pipeline (track, best shot, per-track decisions).
- ``naive``: the same models on every face of every frame (detect, align, embed, search).
- ``face_recognition``: what that library's ``examples/facerec_from_video_file.py`` does
  per frame: BGR to RGB, ``face_locations`` (HOG, full resolution), ``face_encodings``,
  ``compare_faces(tolerance=0.5)`` (the example's output-video writing is left out,
  which only flatters it).
"""

from __future__ import annotations

import importlib.util
import sys
import time
import types
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from openlfr.alerts import CollectingSink
from openlfr.config import DetectorConfig, RuntimeConfig, Settings, SFacePackConfig
from openlfr.config.pipeline import SourceConfig
from openlfr.matching import rules_from_settings
from openlfr.stream import CameraPipeline, EndOfSource, Runner, open_source, parse_source
from openlfr.stream.build import camera_pack, threads_per_camera
from openlfr.types import Look
from openlfr.vision import ModelPack, load_pack
from openlfr.watchlist import Gallery
from openlfr.watchlist.images import load_reference_image

# One reference each for face_recognition's example; openlfr's gallery adds the
# other stills that videos/labels.csv names for the clips' people.
STILLS = {
    "lin_manuel_miranda": "lin_manuel_miranda_01.png",
    "alex_lacamoire": "alex_lacamoire_01.png",
    "barack_obama": "obama_01.jpg",
    "joe_biden": "biden_01.jpg",
}
EXTRA_STILLS = {"barack_obama": "obama_0[2-4]*.jpg", "alex_lacamoire": "alex_lacamoire_0[23]*"}


@dataclass
class Outcome:
    """What one variant measured (plain numbers, printed as JSON by the child process)."""

    frames: int = 0
    faces: int = 0
    embeddings: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    alerted: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    alert_latencies_ms: list[float] = field(default_factory=list)
    dropped: int = 0
    per_camera_fps: list[float] = field(default_factory=list)


def stills(data: Path) -> dict[str, Path]:
    root = data / "small/face_recognition_examples/images"
    return {subject: root / name for subject, name in STILLS.items()}


def load_models(threads: int = 0) -> ModelPack:
    return load_pack(SFacePackConfig(), DetectorConfig(), RuntimeConfig(threads=threads))


def stills_gallery(pack: ModelPack, data: Path) -> Gallery:
    ids, vectors = [], []
    root = data / "small/face_recognition_examples/images"
    paths = list(stills(data).items())
    paths += [(subject, p) for subject, pattern in EXTRA_STILLS.items() for p in root.glob(pattern)]
    for subject, path in paths:
        image = load_reference_image(path.read_bytes(), max_bytes=10**8, max_pixels=10**8)
        faces = pack.analyse(image)
        if faces:
            ids.append(subject)
            vectors.append(max(faces, key=lambda f: f.crop.quality.inter_eye_px).embedding)
    return Gallery(ids, np.stack(vectors), pack.model_id)


def _timed(outcome: Outcome, start: float, cpu: float) -> Outcome:
    outcome.seconds = time.perf_counter() - start
    outcome.cpu_seconds = time.process_time() - cpu
    return outcome


def run_ours(pack: ModelPack, gallery: Gallery, clip: Path, frames: int) -> Outcome:
    """Every frame of the clip (up to ``frames``) through the live pipeline, decode included."""
    settings = Settings()
    pipeline = CameraPipeline(
        "bench", pack, gallery, rules_from_settings(settings), settings.pipeline, watchlist="bench"
    )
    outcome = Outcome()
    start, cpu = time.perf_counter(), time.process_time()
    with open_source(parse_source(str(clip)), settings.pipeline.source) as source:
        while outcome.frames < frames:
            try:
                frame = source.read(30.0)
            except EndOfSource:
                break
            if frame is None:
                continue
            outcome.frames += 1
            outcome.alerted += [a.subject_id for a in pipeline.process(frame)]
    counters = pipeline.counters()
    outcome.faces, outcome.embeddings = counters.faces, counters.embeddings
    return _timed(outcome, start, cpu)


def run_naive(pack: ModelPack, gallery: Gallery, clip: Path, frames: int) -> Outcome:
    """Detect, align, embed and search every face of every frame; alert on any match."""
    threshold = Settings().matching.threshold
    outcome = Outcome()
    start, cpu = time.perf_counter(), time.process_time()
    with open_source(parse_source(str(clip)), SourceConfig()) as source:
        while outcome.frames < frames:
            try:
                frame = source.read(30.0)
            except EndOfSource:
                break
            if frame is None:
                continue
            outcome.frames += 1
            faces = pack.analyse(frame.image)
            outcome.faces += len(faces)
            outcome.embeddings += len(faces)
            if faces:
                results = gallery.search(np.stack([f.embedding for f in faces]), top_k=1)
                for result in results:
                    best = result.best
                    if best and best.score >= threshold and best.subject_id not in outcome.alerted:
                        outcome.alerted.append(best.subject_id)
    return _timed(outcome, start, cpu)


def import_face_recognition() -> types.ModuleType:
    """Import face_recognition without pkg_resources.

    ``face_recognition_models`` locates its files with ``pkg_resources``, which
    setuptools 81 removed; an equivalent module exposing the same four
    functions (paths found with ``importlib``) is registered first.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("face_recognition_models is not installed (pip install 'openlfr[bench]')")
    root = Path(next(iter(spec.submodule_search_locations))) / "models"
    shim = types.ModuleType("face_recognition_models")
    files = {
        "pose_predictor_model_location": "shape_predictor_68_face_landmarks.dat",
        "pose_predictor_five_point_model_location": "shape_predictor_5_face_landmarks.dat",
        "face_recognition_model_location": "dlib_face_recognition_resnet_model_v1.dat",
        "cnn_face_detector_model_location": "mmod_human_face_detector.dat",
    }
    for name, file in files.items():
        setattr(shim, name, lambda file=file: str(root / file))
    sys.modules.setdefault("face_recognition_models", shim)
    import face_recognition

    return face_recognition


def run_face_recognition(data: Path, clip: Path, frames: int) -> Outcome:
    fr = import_face_recognition()
    names, known = [], []
    for subject, path in stills(data).items():
        names.append(subject)
        known.append(fr.face_encodings(fr.load_image_file(str(path)))[0])
    outcome = Outcome()
    start, cpu = time.perf_counter(), time.process_time()
    capture = cv2.VideoCapture(str(clip))
    while outcome.frames < frames:
        ok, frame = capture.read()
        if not ok:
            break
        outcome.frames += 1
        rgb = np.ascontiguousarray(frame[:, :, ::-1])  # dlib 20 needs contiguous arrays
        locations = fr.face_locations(rgb)
        encodings = fr.face_encodings(rgb, locations)
        outcome.faces += len(locations)
        outcome.embeddings += len(encodings)
        for encoding in encodings:
            match = fr.compare_faces(known, encoding, tolerance=0.50)
            for name, hit in zip(names, match, strict=True):
                if hit and name not in outcome.alerted:
                    outcome.alerted.append(name)
    capture.release()
    return _timed(outcome, start, cpu)


def run_realtime(
    pack: ModelPack, gallery: Gallery, clip: Path, cameras: int, seconds: float, share: bool
) -> Outcome:
    """``cameras`` copies of the clip paced like live cameras (looped) for ``seconds``.

    ``latencies_ms``: for every frame that took a look, from the frame's capture
    to the end of its processing (an alert is emitted in that same call, so
    each is the latency an alert would have had); ``alert_latencies_ms``: the
    alerts' own (capture of the deciding crop to emission).
    """
    base = Settings()
    # As the live runner does (stream/build.py): model threads sized to the cameras.
    threads = base.runtime.threads or threads_per_camera(cameras)
    cv2.setNumThreads(threads)
    settings = base.model_copy(
        update={
            "runtime": base.runtime.model_copy(update={"threads": threads}),
            "pipeline": base.pipeline.model_copy(
                update={
                    "share_recogniser": share,
                    "source": SourceConfig(realtime=True, loop=True),
                }
            )
        }
    )
    rules = rules_from_settings(settings)
    outcome = Outcome()
    pipelines: list[CameraPipeline] = []

    def factory(camera_id: str) -> CameraPipeline:
        pipe = CameraPipeline(
            camera_id, camera_pack(pack, settings), gallery, rules, settings.pipeline, watchlist="b"
        )
        process = pipe.process

        def timed(frame: object) -> list[object]:
            before = pipe.counters().embeddings
            alerts = process(frame)  # type: ignore[arg-type]
            if pipe.counters().embeddings > before:
                outcome.latencies_ms.append((time.time() - frame.captured_at) * 1000)  # type: ignore[attr-defined]
            return alerts  # type: ignore[return-value]

        pipe.process = timed  # type: ignore[method-assign]
        pipelines.append(pipe)
        return pipe

    specs = [parse_source(f"cam{i}={clip}") for i in range(cameras)]
    sink = CollectingSink()
    runner = Runner(specs, factory, sink, settings.pipeline.source)
    start, cpu = time.perf_counter(), time.process_time()
    runner.start()
    time.sleep(seconds)
    statuses = runner.status()
    runner.stop()
    runner.wait(30)
    _timed(outcome, start, cpu)
    outcome.alert_latencies_ms = [a.latency_s * 1000 for a in sink.alerts]
    outcome.alerted = [a.subject_id for a in sink.alerts]
    for status in statuses:
        outcome.frames += status.counters.frames
        outcome.faces += status.counters.faces
        outcome.embeddings += status.counters.embeddings
        outcome.dropped += status.dropped
        outcome.per_camera_fps.append(status.counters.frames / outcome.seconds)
    return outcome


def look_spy(pipeline: CameraPipeline, into: list[Look]) -> None:
    """Record every look a pipeline decides on (for the profile's summary)."""
    observe = pipeline._engine.observe

    def spy(look: Look) -> object:
        into.append(look)
        return observe(look)

    pipeline._engine.observe = spy  # type: ignore[method-assign]
