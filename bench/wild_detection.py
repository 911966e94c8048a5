"""Detection and alignment in the wild: detector input size, small faces, face choice.

Run:  nice .venv/bin/python bench/wild_detection.py [--data ../shared/data] [--home DIR]
          [--limit N]

Every variant starts from the shipped models (YuNet at 640 wide, mirror-averaged SFace,
mean template, threshold 0.52) and changes one thing, measured on lfw-dev (as labelled)
and celeba-dev (half the identities held out as non-mated; one and three references),
with the protocol and intervals of ``bench/wild_accuracy.py``:

* ``native``: the detector at the photo's own width (no shrinking to 640);
* ``upscale-1280``: every photo enlarged (or shrunk) to 1280 wide before detection;
* ``context``: a photo with no face, or whose main face reaches its edge, detected
  again inside a black border (what enrolment does since the tight-crop fix);
* ``refine``: faces under 40 px between the eyes detected again on a local crop
  enlarged to about 64 px between the eyes, landmarks from that second look, the
  face aligned from the original photo;
* ``refine+upsampled``: the same, aligned from the enlarged (bicubic) crop;
* ``jitter``: each face aligned at three scales (0.95, 1, 1.05), the mean embedding;
* face choice: largest (shipped), largest × detector score, centre, most confident;
* references only from photos enrolment's quality gate would take (one clear face,
  confident, large enough, not turned: a deployment's references), searches unchanged.

The margin rule and cohort normalisation are measured by ``bench/wild_accuracy.py``.

Faces are cached in the encrypted evaluation cache under ``--home``, one folder per
variant; a variant whose detections equal the shipped ones reuses its embeddings.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import wild_accuracy as wa
from openlfr.config import (
    DEFAULT_THRESHOLD,
    DetectorConfig,
    EnrolmentConfig,
    Settings,
    SFacePackConfig,
)
from openlfr.evaluation.cache import EmbeddingCache, ExtractionSettings, image_digest
from openlfr.evaluation.datasets import LabelledDataset, load_dataset
from openlfr.evaluation.faces import AcquisitionStatus, ImageFaces
from openlfr.services import Services
from openlfr.types import Detections, ImageArray
from openlfr.vision.align import align_face
from openlfr.vision.context import detect_with_context
from openlfr.vision.detector import YuNetDetector
from openlfr.vision.pack import ModelPack, load_pack
from openlfr.vision.quality import pose_from_landmarks
from openlfr.vision.recogniser import l2_normalise
from openlfr.watchlist.gallery import TemplateFusion
from openlfr.watchlist.images import load_reference_image

REPO = Path(__file__).resolve().parents[1]
SMALL_INTER_EYE_PX = 40.0  # below this, a face gets a second, enlarged look
TARGET_INTER_EYE_PX = 64.0
Aligned = tuple[Detections, list[ImageArray] | None]  # crops None: align from the photo


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    find: Callable[[ImageArray], Aligned]


def _inter_eye(landmarks: np.ndarray) -> np.ndarray:
    eyes = landmarks[:, 1] - landmarks[:, 0]
    return np.asarray(np.hypot(eyes[:, 0], eyes[:, 1]))


def refine_small(pack: ModelPack, image: ImageArray, found: Detections, upsampled: bool) -> Aligned:
    """Small faces looked at again in an enlarged local crop; their landmarks from that look."""
    if len(found) == 0:
        return found, None
    boxes, landmarks, scores = found.boxes.copy(), found.landmarks.copy(), found.scores.copy()
    crops: list[ImageArray] = []
    changed = False
    size = pack.recogniser.input_size if hasattr(pack.recogniser, "input_size") else 112
    for i, ie in enumerate(_inter_eye(found.landmarks)):
        own = align_face(image, found.landmarks[i], size)
        if ie >= SMALL_INTER_EYE_PX:
            crops.append(own)
            continue
        scale = float(min(4.0, TARGET_INTER_EYE_PX / max(ie, 1.0)))
        x1, y1, x2, y2 = found.boxes[i]
        cx, cy, half = (x1 + x2) / 2, (y1 + y2) / 2, 1.5 * max(x2 - x1, y2 - y1)
        left, top = round(cx - half), round(cy - half)
        side = round(2 * half)
        region = np.zeros((side, side, 3), np.uint8)  # outside the photo: black, as alignment
        sx0, sy0 = max(left, 0), max(top, 0)
        sx1, sy1 = min(left + side, image.shape[1]), min(top + side, image.shape[0])
        region[sy0 - top : sy1 - top, sx0 - left : sx1 - left] = image[sy0:sy1, sx0:sx1]
        big = cv2.resize(region, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        again = pack.detect(np.ascontiguousarray(big))
        if len(again) == 0:
            crops.append(own)
            continue
        centres = (again.boxes[:, :2] + again.boxes[:, 2:]) / 2
        j = int(np.argmin(((centres - big.shape[0] / 2) ** 2).sum(axis=1)))
        offset = np.array([left, top], np.float32)
        refined = again.landmarks[j] / scale + offset
        # Only a second look at the same face: its eyes must lie near the first look's.
        if float(np.abs(refined[:2] - found.landmarks[i, :2]).max()) > 0.5 * ie:
            crops.append(own)
            continue
        landmarks[i] = refined
        boxes[i] = again.boxes[j] / scale + np.tile(offset, 2)
        scores[i] = again.scores[j]
        changed = True
        crops.append(
            align_face(big, again.landmarks[j], size) if upsampled else align_face(image, refined)
        )
    if not changed:
        return found, None
    return Detections(boxes, landmarks, scores), crops


def jittered(pack: ModelPack, image: ImageArray, found: Detections) -> Aligned:
    """Each face aligned three ways (template scaled 0.95, 1 and 1.05 about its centre); the
    embedding is the mean of the three (each itself mirror-averaged)."""
    if len(found) == 0:
        return found, None
    crops = []
    for det in found:
        centre = det.landmarks.mean(axis=0)
        for zoom in (0.95, 1.0, 1.05):
            crops.append(align_face(image, (det.landmarks - centre) * zoom + centre))
    return found, crops


def variants(pack: ModelPack, settings: Settings) -> list[Variant]:
    runtime = settings.runtime
    native = YuNetDetector(
        pack_detector_path(), settings.detector.model_copy(update={"input_width": 0}), runtime
    )
    up = YuNetDetector(
        pack_detector_path(),
        settings.detector.model_copy(update={"input_width": 1280, "allow_upscale": True}),
        runtime,
    )
    return [
        Variant("shipped", lambda im: (pack.detect(im), None)),
        Variant("native", lambda im: (native.detect(im), None)),
        Variant("upscale-1280", lambda im: (up.detect(im), None)),
        Variant("context", lambda im: (detect_with_context(pack.detector, im), None)),
        Variant("refine", lambda im: refine_small(pack, im, pack.detect(im), False)),
        Variant("refine+upsampled", lambda im: refine_small(pack, im, pack.detect(im), True)),
        Variant("jitter", lambda im: jittered(pack, im, pack.detect(im))),
    ]


def pack_detector_path() -> Path:
    from openlfr.vision.weights import YUNET_2023MAR, resolve_known

    return resolve_known(YUNET_2023MAR)


def _same(a: Detections, b: ImageFaces) -> bool:
    return a.boxes.shape == b.boxes.shape and bool(np.allclose(a.boxes, b.boxes, atol=1e-3))


def extract(
    svc: Services, pack: ModelPack, data: LabelledDataset, chosen: list[Variant]
) -> dict[str, list[ImageFaces]]:
    root = svc.settings.home / "cache" / "embeddings"
    det: DetectorConfig = svc.settings.detector
    caches = {
        v.name: EmbeddingCache(
            root,
            svc.cipher,
            ExtractionSettings.from_config(
                pack.model_id, "sface" if v.name == "shipped" else f"sface:{v.name}", det, 0.0
            ),
        )
        for v in chosen
    }
    out: dict[str, list[ImageFaces]] = {v.name: [] for v in chosen}
    dim = pack.recogniser.dim
    for n, img in enumerate(data.images, start=1):
        raw = img.path.read_bytes()
        digest = image_digest(raw)
        got = {name: c.get(digest) for name, c in caches.items()}
        image: ImageArray | None = None
        for v in chosen:
            if got[v.name] is not None:
                continue
            if image is None:
                limits = svc.settings.enrolment
                image = load_reference_image(
                    raw, max_bytes=limits.max_bytes, max_pixels=limits.max_pixels
                )
            height, width = image.shape[:2]
            dets, crops = v.find(image)
            base = got.get("shipped")
            if len(dets) == 0:
                faces = ImageFaces.failed(AcquisitionStatus.NO_FACE, dim, width, height)
            elif v.name != "shipped" and crops is None and base is not None and _same(dets, base):
                faces = base
            else:
                crops = crops or [pack.recogniser.crop(image, d) for d in dets]
                embedded = pack.recogniser.embed(crops)
                if len(crops) > len(dets):  # several views of each face: their mean
                    embedded = l2_normalise(embedded.reshape(len(dets), -1, dim).sum(axis=1))
                faces = ImageFaces(
                    AcquisitionStatus.OK,
                    width,
                    height,
                    dets.boxes,
                    dets.landmarks,
                    dets.scores,
                    embedded,
                )
            got[v.name] = faces
            caches[v.name].put(digest, faces)
        for name in out:
            value = got[name]
            assert value is not None
            out[name].append(value)
        if n % 250 == 0:
            print(f"  {data.name}: {n}/{len(data)} photos", file=sys.stderr, flush=True)
    return out


def passes_gate(faces: ImageFaces, cfg: EnrolmentConfig) -> bool:
    """Whether enrolment's quality gate would take the photo (all but its sharpness check)."""
    if len(faces) == 0:
        return False
    ie = _inter_eye(faces.landmarks)
    j = int(np.argmax(ie))
    if int((ie >= cfg.secondary_face_ratio * ie[j]).sum()) > 1:
        return False
    if faces.scores[j] < cfg.min_detector_score or ie[j] < cfg.min_inter_eye_px:
        return False
    yaw, pitch, _ = pose_from_landmarks(faces.landmarks[j])
    return abs(yaw) <= cfg.max_yaw_deg and abs(pitch) <= cfg.max_pitch_deg


def choose(faces: ImageFaces, rule: str) -> int | None:
    if rule == "largest-x-score" and len(faces):
        return int(np.argmax(_inter_eye(faces.landmarks) * faces.scores))
    return wa.choose(faces, rule)


def vectors(faces: list[ImageFaces], rule: str) -> wa.Vectors:
    out: wa.Vectors = []
    for f in faces:
        j = choose(f, rule)
        out.append(None if j is None else f.embeddings[j])
    return out


def misses(s: wa.Searches, threshold: float) -> None:
    """Where the shipped one-reference misses lie: a subject's own score too low, or another
    subject ranked first."""
    mate = s.mated_scores[np.arange(s.mate_columns.size), s.mate_columns]
    first = s.mated_scores.argmax(axis=1) == s.mate_columns
    low = first & (mate < threshold)
    bins = [-1.0, 0.3, 0.4, 0.45, 0.5, threshold]
    counts = np.histogram(mate[low], bins=bins)[0].tolist()
    top = np.sort(s.nonmated_scores.max(axis=1))
    print(
        f"  shipped, 1 reference: {int((first & ~low).sum())} of {s.mated_total} found; "
        f"{int(low.sum())} ranked first below the threshold (own score <0.3 / 0.3-0.4 / "
        f"0.4-0.45 / 0.45-0.5 / 0.5-{threshold}: {counts}); {int((~first).sum())} with "
        f"another subject first; {s.mated_total - first.size} without a face. Non-mated best "
        f"scores: median {np.median(top):.3f}, 99th percentile {np.quantile(top, 0.99):.3f}, "
        f"highest {top[-1]:.3f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("OPENLFR_SHARED_DATA", REPO.parent / "shared" / "data")),
    )
    parser.add_argument("--home", type=Path, default=REPO / ".openlfr" / "bench-wild")
    parser.add_argument("--limit", type=int, default=0, help="about N photos, evenly spread")
    parser.add_argument("--skip-lfw", action="store_true", help="celeba-dev only")
    parser.add_argument("--variants", default="", help="only these (comma-separated)")
    parser.add_argument(
        "--lfw-variants",
        default="shipped,context,refine,refine+upsampled",
        help="variants also measured on lfw-dev (comma-separated)",
    )
    args = parser.parse_args()
    os.environ["OPENLFR_HOME"] = str(args.home)
    os.environ["OPENLFR_CONFIG"] = str(args.home / "config.toml")
    args.home.mkdir(parents=True, exist_ok=True)
    svc = Services(Settings())
    pack = load_pack(SFacePackConfig(), svc.settings.detector, svc.settings.runtime)
    every = [
        v
        for v in variants(pack, svc.settings)
        if not args.variants or v.name in {"shipped", *args.variants.split(",")}
    ]
    shipped = DEFAULT_THRESHOLD

    def load(name: str) -> LabelledDataset:
        data = load_dataset(args.data / name, None)
        if args.limit:
            data = replace(data, images=data.images[:: max(1, len(data) // args.limit)])
        return data

    cel_data = load("celeba-dev")
    cel = extract(svc, pack, cel_data, every)
    print(f"\nshipped threshold {shipped:.2f}, mirror-averaged SFace, mean template\n")
    print("celebA-dev in the wild (half the identities non-mated, seed 0)")
    for k in (1, 3):
        print(f" {k} reference{'s' if k > 1 else ''} per identity")
        for v in every:
            for rule in ("largest",) if v.name != "shipped" else ("largest", "largest-x-score"):
                s = wa.search(
                    cel_data, vectors(cel[v.name], rule), k=k, share=0.5, fusion=TemplateFusion.MEAN
                )
                wa.row(f"{v.name} ({rule})", s, shipped)
        for rule in ("centre", "confident"):
            s = wa.search(
                cel_data, vectors(cel["shipped"], rule), k=k, share=0.5, fusion=TemplateFusion.MEAN
            )
            wa.row(f"shipped ({rule})", s, shipped)
        gate = [passes_gate(f, svc.settings.enrolment) for f in cel["shipped"]]
        s = wa.search(
            cel_data,
            vectors(cel["shipped"], "largest"),
            k=k,
            share=0.5,
            fusion=TemplateFusion.MEAN,
            enrollable=gate,
        )
        wa.row(f"shipped, references the gate takes ({sum(gate)} photos)", s, shipped)
    misses(wa.search(cel_data, vectors(cel["shipped"], "largest"), k=1, share=0.5), shipped)
    found = {v.name: sum(f.status is AcquisitionStatus.OK for f in cel[v.name]) for v in every}
    print(f"  photos with a face: {found} of {len(cel_data)}")
    if args.skip_lfw:
        return 0

    lfw_data = load("lfw-dev")
    # LFW photos are 250 px: 'native' equals 'shipped' there (narrower than 640).
    lfw = extract(svc, pack, lfw_data, [v for v in every if v.name in args.lfw_variants.split(",")])
    print(
        "\nlfw-dev, as labelled (1 reference, centre face; every single-photo identity non-mated)"
    )
    for name, faces in lfw.items():
        s = wa.search(lfw_data, vectors(faces, "centre"))
        wa.row(name, s, shipped)
        print(f"    TPIR at FPIR 1%: {wa.tpir_at_fpir(s, 0.01)}; by sex: {wa.sex_test(s, shipped)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
