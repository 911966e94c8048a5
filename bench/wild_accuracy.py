"""Accuracy in the wild with the default models: each candidate method against today's baseline.

Run:  .venv/bin/python bench/wild_accuracy.py [--data ../shared/data] [--home DIR]
          [--calibration-out FILE]

On lfw-dev (as labelled: one reference per identity, every single-photo identity
a non-mated search, the centre face) and celeba-dev (in the wild: half the
identities held out as non-mated, the largest face, one or three references),
it measures, in one run and from one extraction of every photo:

* the baseline: SFace as shipped before (no mirror averaging), best reference
  (max), threshold 0.55;
* face choice (largest, centre, most confident), mirror-averaged embeddings on
  both sides or on references only, a rotated-photo rescue (detect on the photo
  turned 90/180/270 degrees when none is found upright), several references
  fused into one mean template, a best-minus-second margin rule, probe-side
  cohort normalisation against the other set's faces, and the thresholds;
* TPIR by sex on lfw-dev before and after, with the permutation test's p-value;
* with ``--calibration-out``, the calibration document of the shipped settings
  on lfw-dev with its five checked label errors merged (numbers only).

TPIR intervals resample whole identities (95%, bootstrap); FPIR intervals are
Clopper-Pearson. Faces are cached in the encrypted evaluation cache under
``--home`` (the same entries ``openlfr evaluate`` uses), so a rerun only reads.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np

from openlfr.config import DEFAULT_THRESHOLD, Settings, SFacePackConfig
from openlfr.evaluation.cache import EmbeddingCache, ExtractionSettings, image_digest
from openlfr.evaluation.calibration import calibrate_threshold
from openlfr.evaluation.datasets import LabelledDataset, load_dataset, read_aliases
from openlfr.evaluation.evidence import calibration_document, document_sha256
from openlfr.evaluation.faces import AcquisitionStatus, FaceRule, ImageFaces
from openlfr.evaluation.identification import split_open_set
from openlfr.evaluation.intervals import clopper_pearson_interval, cluster_bootstrap_interval
from openlfr.evaluation.runner import openlfr_version
from openlfr.evaluation.significance import differential_test
from openlfr.services import Services
from openlfr.types import Detections, FloatArray, ImageArray
from openlfr.vision.pack import ModelPack, load_pack
from openlfr.watchlist.gallery import Gallery, TemplateFusion
from openlfr.watchlist.images import load_reference_image

REPO = Path(__file__).resolve().parents[1]
BASELINE_THRESHOLD = 0.55
ROTATIONS = ((cv2.ROTATE_90_CLOCKWISE, 1), (cv2.ROTATE_90_COUNTERCLOCKWISE, 3), (cv2.ROTATE_180, 2))
Vectors = list[FloatArray | None]


@dataclass(frozen=True, slots=True)
class Extracted:
    """Every photo's faces three ways: plain, mirror-averaged, and with the rotation rescue."""

    data: LabelledDataset
    plain: list[ImageFaces]
    flipped: list[ImageFaces]  # embeddings of the mirror images alone
    rescued: list[ImageFaces]
    rescued_flipped: list[ImageFaces]


def _unrotate(points: np.ndarray, k: int, width: int, height: int) -> np.ndarray:
    """Points found in the photo turned ``k`` quarter turns clockwise, in the photo's own frame."""
    x, y = points[..., 0], points[..., 1]
    if k == 1:
        return np.stack([y, height - 1 - x], axis=-1)
    if k == 2:
        return np.stack([width - 1 - x, height - 1 - y], axis=-1)
    return np.stack([width - 1 - y, x], axis=-1)


def _rescue(pack: ModelPack, image: ImageArray) -> Detections:
    height, width = image.shape[:2]
    for code, k in ROTATIONS:
        found = pack.detect(np.ascontiguousarray(cv2.rotate(image, code)))
        if len(found):
            corners = _unrotate(found.boxes.reshape(-1, 2, 2), k, width, height)
            boxes = np.concatenate([corners.min(axis=1), corners.max(axis=1)], axis=1)
            landmarks = _unrotate(found.landmarks, k, width, height)
            return Detections(boxes.astype(np.float32), landmarks.astype(np.float32), found.scores)
    return Detections.empty()


def _faces(pack: ModelPack, image: ImageArray, dets: Detections, mirror: bool) -> ImageFaces:
    height, width = image.shape[:2]
    dim = pack.recogniser.dim
    if len(dets) == 0:
        return ImageFaces.failed(AcquisitionStatus.NO_FACE, dim, width, height)
    crops = [pack.recogniser.crop(image, d) for d in dets]
    if mirror:
        crops = [np.ascontiguousarray(c[:, ::-1]) for c in crops]
    vectors = pack.recogniser.embed(crops)
    return ImageFaces(
        AcquisitionStatus.OK, width, height, dets.boxes, dets.landmarks, dets.scores, vectors
    )


def _combine(a: ImageFaces, b: ImageFaces) -> ImageFaces:
    """Mirror averaging from the two halves, exactly as the recogniser does it."""
    if len(a) == 0:
        return a
    total = a.embeddings + b.embeddings
    fused = total / np.maximum(np.linalg.norm(total, axis=1, keepdims=True), 1e-12)
    return replace(a, embeddings=fused.astype(np.float32))


def extract(svc: Services, pack: ModelPack, data: LabelledDataset) -> Extracted:
    """One detection and two embeddings per face, through the encrypted cache."""
    root = svc.settings.home / "cache" / "embeddings"
    det = svc.settings.detector

    def cache(model_id: str, name: str) -> EmbeddingCache:
        settings = ExtractionSettings.from_config(model_id, name, det, 0.0)
        return EmbeddingCache(root, svc.cipher, settings)

    # The first two are the entries 'openlfr evaluate' reads with flip_average off / on.
    keys = {
        "plain": cache("sface-2021dec", "sface"),
        "averaged": cache("sface-2021dec+flip", "sface"),
        "mirror": cache("sface-2021dec", "sface:mirror-only"),
        "rescued": cache("sface-2021dec", "sface:rotation-rescue"),
        "rescued_mirror": cache("sface-2021dec", "sface:rotation-rescue:mirror-only"),
    }
    out: dict[str, list[ImageFaces]] = {k: [] for k in keys}
    for n, img in enumerate(data.images, start=1):
        raw = img.path.read_bytes()
        digest = image_digest(raw)
        got = {k: c.get(digest) for k, c in keys.items()}
        if any(v is None for v in got.values()):
            limits = svc.settings.enrolment
            image = load_reference_image(
                raw, max_bytes=limits.max_bytes, max_pixels=limits.max_pixels
            )
            dets = pack.detect(image)
            got["plain"] = _faces(pack, image, dets, False)
            got["mirror"] = _faces(pack, image, dets, True)
            got["averaged"] = _combine(got["plain"], got["mirror"])
            rescued = _rescue(pack, image) if len(dets) == 0 else None
            got["rescued"] = (
                got["plain"] if rescued is None else _faces(pack, image, rescued, False)
            )
            got["rescued_mirror"] = (
                got["mirror"] if rescued is None else _faces(pack, image, rescued, True)
            )
            for k, c in keys.items():
                value = got[k]
                assert value is not None
                c.put(digest, value)
        for k in keys:
            value = got[k]
            assert value is not None
            out[k].append(value)
        if n % 500 == 0:
            print(f"  {data.name}: {n}/{len(data)} photos", file=sys.stderr, flush=True)
    return Extracted(data, out["plain"], out["mirror"], out["rescued"], out["rescued_mirror"])


def choose(faces: ImageFaces, rule: str) -> int | None:
    if len(faces) == 0:
        return None
    if rule == "confident":
        return int(np.argmax(faces.scores))
    return faces.labelled_face(FaceRule(rule))


def vectors(parts: Sequence[list[ImageFaces]], rule: str) -> Vectors:
    """The labelled face's embedding per photo; several parts are summed (mirror averaging)."""
    out: Vectors = []
    for i, faces in enumerate(parts[0]):
        j = choose(faces, rule)
        if j is None:
            out.append(None)
            continue
        total = sum(p[i].embeddings[j] for p in parts)
        out.append(np.asarray(total / np.linalg.norm(total), dtype=np.float32))
    return out


@dataclass(frozen=True, slots=True)
class Searches:
    """Every mated and non-mated search of one split, scored against its watchlist."""

    mated_scores: np.ndarray  # (M, S); rows of searches with a face
    mate_columns: np.ndarray
    mated_total: int
    mated_identities: np.ndarray
    nonmated_scores: np.ndarray  # (Q, S)
    nonmated_total: int
    nonmated_identities: np.ndarray
    mated_sex: np.ndarray
    mated_probes: np.ndarray
    nonmated_probes: np.ndarray


def search(
    data: LabelledDataset,
    probes: Vectors,
    refs: Vectors | None = None,
    *,
    k: int = 1,
    share: float = 0.0,
    fusion: TemplateFusion = TemplateFusion.MAX,
    enrollable: Sequence[bool] | None = None,
) -> Searches:
    """``enrollable``: photos that may be references (all with a face when ``None``)."""
    identities = [img.identity for img in data.images]
    refs = refs or probes
    allowed = enrollable or [True] * len(probes)
    split = split_open_set(
        identities,
        [v is not None and ok for v, ok in zip(probes, allowed, strict=True)],
        references_per_identity=k,
        nonmated_share=share,
        seed=0,
    )
    ids = [name for name, rs in zip(split.enrolled, split.references, strict=True) for _ in rs]
    rows = [refs[i] for rs in split.references for i in rs]
    gallery = Gallery(ids, np.stack([r for r in rows if r is not None]), "bench", fusion=fusion)
    column = {s: c for c, s in enumerate(gallery.subjects)}
    mated = [i for i in split.mated if probes[i] is not None]
    nonmated = [i for i in split.nonmated if probes[i] is not None]
    m_probes = np.stack([probes[i] for i in mated])
    n_probes = np.stack([probes[i] for i in nonmated])
    sexes = data.attribute("sex") if "sex" in data.attribute_columns else [""] * len(data)
    return Searches(
        mated_scores=gallery.subject_scores(m_probes),
        mate_columns=np.array([column[identities[i]] for i in mated]),
        mated_total=len(split.mated),
        mated_identities=np.array([identities[i] for i in mated]),
        nonmated_scores=gallery.subject_scores(n_probes),
        nonmated_total=len(split.nonmated),
        nonmated_identities=np.array([identities[i] for i in nonmated]),
        mated_sex=np.array([sexes[i] for i in mated]),
        mated_probes=m_probes,
        nonmated_probes=n_probes,
    )


def _second(scores: np.ndarray) -> np.ndarray:
    if scores.shape[1] < 2:
        return np.full(scores.shape[0], -1.0)
    return np.sort(scores, axis=1)[:, -2]


def hits_at(s: Searches, threshold: float, margin: float = 0.0) -> np.ndarray:
    top = s.mated_scores.max(axis=1)
    return (
        (s.mated_scores.argmax(axis=1) == s.mate_columns)
        & (top >= threshold)
        & (top - _second(s.mated_scores) >= margin)
    )


def alerts_at(s: Searches, threshold: float, margin: float = 0.0) -> np.ndarray:
    top = s.nonmated_scores.max(axis=1)
    return (top >= threshold) & (top - _second(s.nonmated_scores) >= margin)


def tpir_text(s: Searches, hits: np.ndarray) -> str:
    # Searches with no face count as misses: pad them as misses of unknown identity clusters.
    missing = s.mated_total - hits.size
    all_hits = np.concatenate([hits, np.zeros(missing, bool)])
    clusters = np.concatenate([s.mated_identities, [f"no-face-{i}" for i in range(missing)]])
    lo, hi = cluster_bootstrap_interval(all_hits, clusters, seed=0)
    return f"{100 * all_hits.mean():5.1f}% ({100 * lo[0]:.1f}-{100 * hi[0]:.1f})"


def fpir_text(s: Searches, alerts: np.ndarray) -> str:
    k, n = int(alerts.sum()), s.nonmated_total
    lo, hi = clopper_pearson_interval(k, n)
    return f"{100 * k / n:.2f}% [{k}/{n}] ({100 * lo:.2f}-{100 * hi:.2f})"


def threshold_for(s: Searches, alerts_allowed: int) -> float:
    """The lowest threshold at which at most ``alerts_allowed`` non-mated searches alert."""
    top = np.sort(s.nonmated_scores.max(axis=1))[::-1]
    return float(top[alerts_allowed]) + 1e-6 if alerts_allowed < top.size else -1.0


def tpir_at_fpir(s: Searches, fpir: float) -> str:
    t = threshold_for(s, int(np.floor(fpir * s.nonmated_total)))
    return f"{tpir_text(s, hits_at(s, t))} at {t:.3f}"


def cohort_normalised(
    s: Searches, cohort: np.ndarray, top: int = 20, weight: float = 0.5
) -> Searches:
    """Probe-side adaptive normalisation: subtract ``weight`` × the mean of the probe's
    ``top`` best scores against faces nobody searches for."""

    def shift(probes: np.ndarray) -> np.ndarray:
        return np.asarray(np.sort(probes @ cohort.T, axis=1)[:, -top:].mean(axis=1))[:, None]

    return replace(
        s,
        mated_scores=s.mated_scores - weight * shift(s.mated_probes),
        nonmated_scores=s.nonmated_scores - weight * shift(s.nonmated_probes),
    )


def row(label: str, s: Searches, threshold: float, margin: float = 0.0) -> None:
    print(
        f"  {label:58s} t={threshold:.3f}  TPIR {tpir_text(s, hits_at(s, threshold, margin))}"
        f"  FPIR {fpir_text(s, alerts_at(s, threshold, margin))}"
    )


def sex_test(s: Searches, threshold: float) -> str:
    hits = hits_at(s, threshold)
    test = differential_test(
        hits[:, None], s.mated_sex, [threshold], clusters=s.mated_identities, seed=0
    )
    rates = []
    for g in test.groups:
        sel = s.mated_sex == g
        # Searches with no face are left out here (a handful); the p-value is on the same rows.
        rates.append(f"{g} {100 * hits[sel].mean():.1f}% of {int(sel.sum())}")
    return f"{', '.join(rates)}; p = {test.omnibus_p[0]:.4f} ({test.method})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("OPENLFR_SHARED_DATA", REPO.parent / "shared" / "data")),
    )
    parser.add_argument("--home", type=Path, default=REPO / ".openlfr" / "bench-wild")
    parser.add_argument("--calibration-out", type=Path, default=None)
    args = parser.parse_args()
    if not (args.data / "celeba-dev" / "labels.csv").is_file():
        print(
            f"no celeba-dev under {args.data}; set --data or OPENLFR_SHARED_DATA", file=sys.stderr
        )
        return 2
    os.environ["OPENLFR_HOME"] = str(args.home)
    os.environ["OPENLFR_CONFIG"] = str(args.home / "config.toml")
    args.home.mkdir(parents=True, exist_ok=True)
    svc = Services(Settings())
    pack = load_pack(
        SFacePackConfig(flip_average=False), svc.settings.detector, svc.settings.runtime
    )
    shipped = DEFAULT_THRESHOLD
    lfw = extract(svc, pack, load_dataset(args.data / "lfw-dev", None))
    cel = extract(svc, pack, load_dataset(args.data / "celeba-dev", None))

    def both(x: Extracted, rule: str) -> dict[str, Vectors]:
        return {
            "plain": vectors([x.plain], rule),
            "averaged": vectors([x.plain, x.flipped], rule),
            "rescued": vectors([x.rescued], rule),
            "rescued+averaged": vectors([x.rescued, x.rescued_flipped], rule),
        }

    lv, cv = both(lfw, "centre"), both(cel, "largest")
    print(f"\nshipped threshold {shipped:.2f}; baseline = no mirror averaging, max, 0.55\n")
    print("lfw-dev, as labelled (1 reference, centre face; every single-photo identity non-mated)")
    base_l = search(lfw.data, lv["plain"])
    after_l = search(lfw.data, lv["averaged"])
    row("baseline", base_l, BASELINE_THRESHOLD)
    row("baseline at the shipped threshold", base_l, shipped)
    row("mirror averaging (both sides)", after_l, BASELINE_THRESHOLD)
    row("mirror averaging on references only", search(lfw.data, lv["plain"], lv["averaged"]), 0.55)
    row("rotation rescue", search(lfw.data, lv["rescued"]), BASELINE_THRESHOLD)
    for m in (0.02, 0.04, 0.06):
        row(f"margin best - second >= {m:.2f}", base_l, BASELINE_THRESHOLD, m)
    row("shipped: mirror averaging", after_l, shipped)
    for t in (0.48, 0.50):
        row("mirror averaging", after_l, t)
    print(
        f"  TPIR at FPIR 1%: baseline {tpir_at_fpir(base_l, 0.01)}; "
        f"shipped {tpir_at_fpir(after_l, 0.01)}"
    )
    cohort_for_lfw = np.stack([v for v in cv["averaged"] if v is not None])
    norm_l = cohort_normalised(after_l, cohort_for_lfw)
    same_fa = int(alerts_at(after_l, shipped).sum())
    t_norm = threshold_for(norm_l, same_fa)
    row(f"cohort normalisation (celeba-dev faces), at {same_fa} alerts", norm_l, t_norm)
    print(f"  TPIR at FPIR 1% with cohort normalisation: {tpir_at_fpir(norm_l, 0.01)}")
    print("  TPIR by sex (lfw-dev mated searches with a face):")
    print(f"    before (baseline, 0.55): {sex_test(base_l, BASELINE_THRESHOLD)}")
    print(f"    after (shipped, {shipped:.2f}):  {sex_test(after_l, shipped)}")

    print("\ncelebA-dev in the wild (half the identities non-mated, seed 0)")
    for k in (1, 3):
        print(f" {k} reference{'s' if k > 1 else ''} per identity")

        def go(
            probes: Vectors,
            refs: Vectors | None = None,
            fusion: TemplateFusion = TemplateFusion.MAX,
            k: int = k,
        ) -> Searches:
            return search(cel.data, probes, refs, k=k, share=0.5, fusion=fusion)

        base_c = go(cv["plain"])
        row("baseline (largest face)", base_c, BASELINE_THRESHOLD)
        row("baseline at the shipped threshold", base_c, shipped)
        for rule in ("centre", "confident"):
            row(f"face choice: {rule}", go(vectors([cel.plain], rule)), BASELINE_THRESHOLD)
        row("mirror averaging (both sides)", go(cv["averaged"]), BASELINE_THRESHOLD)
        row("mirror averaging on references only", go(cv["plain"], cv["averaged"]), 0.55)
        row("rotation rescue", go(cv["rescued"]), BASELINE_THRESHOLD)
        row("rotation rescue + mirror averaging", go(cv["rescued+averaged"]), BASELINE_THRESHOLD)
        if k > 1:
            row(
                "mean template (fused references)", go(cv["plain"], None, TemplateFusion.MEAN), 0.55
            )
        row("margin best - second >= 0.04", base_c, BASELINE_THRESHOLD, 0.04)
        shipped_c = go(cv["averaged"], None, TemplateFusion.MEAN)
        row("shipped: mirror averaging + mean template", shipped_c, shipped)
        for t in (0.48, 0.50):
            row("shipped methods", shipped_c, t)
        cohort_for_cel = np.stack([v for v in lv["averaged"] if v is not None])
        norm_c = cohort_normalised(shipped_c, cohort_for_cel)
        row("cohort normalisation (lfw-dev faces), lfw-matched threshold", norm_c, t_norm)

    if args.calibration_out is not None:
        write_calibration(args, svc, lfw, shipped)
    return 0


def write_calibration(
    args: argparse.Namespace, svc: Services, lfw: Extracted, shipped: float
) -> None:
    """The shipped settings' calibration on lfw-dev with its checked label errors merged."""
    aliases_path = REPO / "docs" / "evaluation" / "lfw-dev-aliases.csv"
    merged = load_dataset(args.data / "lfw-dev", None, aliases=read_aliases(aliases_path))
    s = search(merged, vectors([lfw.plain, lfw.flipped], "centre"))
    target, size = 1e-3, 1000
    mate = s.mated_scores[np.arange(s.mate_columns.size), s.mate_columns]
    ranks = 1 + (s.mated_scores > mate[:, None]).sum(axis=1)  # ties favour the mate
    result = calibrate_threshold(
        s.nonmated_scores,
        s.nonmated_identities,
        mate,
        ranks,
        s.mated_identities,
        target_fpir=target,
        watchlist_size=size,
    )
    document = calibration_document(
        result,
        model_id="sface-2021dec+flip",
        pack="sface",
        dataset="lfw-dev (folds 1-5), five checked label errors merged "
        "(docs/evaluation/lfw-dev-aliases.csv)",
        searches={"mated": int(s.mate_columns.size), "nonmated": int(s.nonmated_identities.size)},
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        openlfr_version=openlfr_version(),
        command="python bench/wild_accuracy.py --calibration-out " + str(args.calibration_out.name),
    )
    args.calibration_out.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    print(
        f"\ncalibration: threshold {result.threshold:.3f} for FPIR {target:g} at {size:,} "
        f"subjects (resolved {result.resolved}; TPIR there {100 * result.tpir:.1f}%); backs "
        f"{shipped:.2f}: {result.threshold <= shipped}; wrote {args.calibration_out} "
        f"(SHA-256 {document_sha256(document)})"
    )


if __name__ == "__main__":
    sys.exit(main())
