"""Recognition-core accuracy on lfw-dev: 1:1 pairs (per fold) and 1:N open-set identification.

Run:  .venv/bin/python bench/lfw_accuracy.py [--data ../shared/data/lfw-dev] [--json OUT]

Detection and alignment are openlfr's own (YuNet + five-point alignment on the
raw 250×250 images); the labelled face is the detected face nearest the image
centre. Prints every figure; ``--json`` also writes them to a file.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
from scipy.stats import binomtest

from openlfr.config import Settings
from openlfr.config.models import DetectorConfig
from openlfr.vision import load_pack


def wilson(k: int, n: int) -> list[float]:
    if n == 0:
        return [float("nan"), float("nan")]
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return [round(ci.low, 5), round(ci.high, 5)]


def embed_all(root: Path, files: list[str]) -> tuple[np.ndarray, np.ndarray]:
    settings = Settings()
    # LFW images are 250×250: detect at native resolution.
    pack = load_pack(settings.models, DetectorConfig(input_width=0), settings.runtime)
    vectors = np.zeros((len(files), pack.recogniser.dim), np.float32)
    found = np.zeros(len(files), bool)
    start = time.perf_counter()
    for i, name in enumerate(files):
        image = cv2.imread(str(root / name))
        if image is None:
            continue
        dets = pack.detect(image)
        if len(dets) == 0:
            continue
        centre = np.array([image.shape[1] / 2, image.shape[0] / 2], np.float32)
        mids = (dets.boxes[:, :2] + dets.boxes[:, 2:]) / 2
        nearest = int(np.argmin(np.linalg.norm(mids - centre, axis=1)))
        crop = pack.crops(image, dets.select([nearest]))
        vectors[i] = pack.embed(crop)[0].embedding
        found[i] = True
        if (i + 1) % 1000 == 0:
            print(f"  embedded {i + 1}/{len(files)}", file=sys.stderr)
    elapsed = time.perf_counter() - start
    print(f"embedded {found.sum()}/{len(files)} images in {elapsed:.1f} s", file=sys.stderr)
    return vectors, found


def pairs_protocol(
    root: Path, index: dict[str, int], vecs: np.ndarray, found: np.ndarray, threshold: float
) -> dict[str, object]:
    lines = (root / "pairs.txt").read_text().splitlines()
    n_folds, per = (int(x) for x in lines[0].split())
    rows = lines[1:]
    folds: list[list[tuple[float, bool]]] = []
    missing = 0
    for f in range(n_folds):
        block = rows[f * 2 * per : (f + 1) * 2 * per]
        fold = []
        for line in block:
            parts = line.split()
            if len(parts) == 3:
                a = f"images/{parts[0]}/{parts[0]}_{int(parts[1]):04d}.jpg"
                b = f"images/{parts[0]}/{parts[0]}_{int(parts[2]):04d}.jpg"
                same = True
            else:
                a = f"images/{parts[0]}/{parts[0]}_{int(parts[1]):04d}.jpg"
                b = f"images/{parts[2]}/{parts[2]}_{int(parts[3]):04d}.jpg"
                same = False
            ia, ib = index[a], index[b]
            if not (found[ia] and found[ib]):
                missing += 1
                score = -1.0  # a face not found counts as a non-match
            else:
                score = float(vecs[ia] @ vecs[ib])
            fold.append((score, same))
        folds.append(fold)
    candidates = np.linspace(-0.2, 1.0, 1201)
    accs, fixed_accs, chosen = [], [], []
    for f in range(n_folds):
        train = [p for g in range(n_folds) if g != f for p in folds[g]]
        s = np.array([p[0] for p in train])
        y = np.array([p[1] for p in train])
        best = max(candidates, key=lambda t: float(np.mean((s >= t) == y)))
        test_s = np.array([p[0] for p in folds[f]])
        test_y = np.array([p[1] for p in folds[f]])
        accs.append(float(np.mean((test_s >= best) == test_y)))
        fixed_accs.append(float(np.mean((test_s >= threshold) == test_y)))
        chosen.append(float(best))
    return {
        "folds": n_folds,
        "pairs": sum(len(f) for f in folds),
        "pairs_with_a_face_missing": missing,
        "accuracy_cv_mean": round(float(np.mean(accs)), 5),
        "accuracy_cv_sd": round(float(np.std(accs, ddof=1)), 5),
        "accuracy_per_fold": [round(a, 5) for a in accs],
        "cv_thresholds": [round(t, 3) for t in chosen],
        "accuracy_at_default_threshold_mean": round(float(np.mean(fixed_accs)), 5),
        "accuracy_at_default_threshold_sd": round(float(np.std(fixed_accs, ddof=1)), 5),
    }


def open_set_protocol(
    rows: list[dict[str, str]],
    index: dict[str, int],
    vecs: np.ndarray,
    found: np.ndarray,
    threshold: float,
) -> dict[str, object]:
    by_id: dict[str, list[str]] = defaultdict(list)
    sex: dict[str, str] = {}
    for r in rows:
        by_id[r["identity"]].append(r["file"])
        sex[r["identity"]] = r["sex"]
    enrolled, mated, non_mated = [], [], []
    for identity, files in sorted(by_id.items()):
        files = sorted(f for f in files if found[index[f]])
        if len(by_id[identity]) >= 2:
            if not files:
                continue
            enrolled.append((identity, files[0]))
            mated += [(identity, f) for f in files[1:]]
        else:
            non_mated += [(identity, f) for f in files]
    gallery = np.stack([vecs[index[f]] for _, f in enrolled])
    gallery_ids = np.array([i for i, _ in enrolled])
    m_scores = np.stack([vecs[index[f]] for _, f in mated]) @ gallery.T
    m_true = np.array([np.nonzero(gallery_ids == i)[0][0] for i, _ in mated])
    m_top = m_scores.argmax(axis=1)
    m_top_score = m_scores.max(axis=1)
    m_correct_rank1 = m_top == m_true
    n_scores = (np.stack([vecs[index[f]] for _, f in non_mated]) @ gallery.T).max(axis=1)
    n_sex = np.array([sex[i] for i, _ in non_mated])

    def tpir_at(t: float) -> tuple[int, int]:
        hits = int(np.sum(m_correct_rank1 & (m_top_score >= t)))
        return hits, len(mated)

    def fpir_at(t: float, mask: np.ndarray | None = None) -> tuple[int, int]:
        s = n_scores if mask is None else n_scores[mask]
        return int(np.sum(s >= t)), int(s.size)

    out: dict[str, object] = {
        "watchlist_size": len(enrolled),
        "mated_searches": len(mated),
        "non_mated_searches": len(non_mated),
        "rank1_identification_rate": round(float(m_correct_rank1.mean()), 5),
    }
    for target in (0.01, 0.001):
        # Smallest threshold whose FPIR does not exceed the target.
        ordered = np.sort(n_scores)[::-1]
        k = int(np.floor(target * n_scores.size))
        t = float(np.nextafter(ordered[k], np.float32(2.0))) if k < ordered.size else -1.0
        hits, n = tpir_at(t)
        fp, nn = fpir_at(t)
        out[f"at_fpir_{target}"] = {
            "threshold": round(t, 4),
            "tpir": round(hits / n, 5),
            "tpir_ci95": wilson(hits, n),
            "fpir": round(fp / nn, 5),
        }
    sweep = []
    for t in [0.30, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60, threshold]:
        hits, n = tpir_at(t)
        fp, nn = fpir_at(t)
        entry: dict[str, object] = {
            "threshold": t,
            "tpir": round(hits / n, 5),
            "tpir_ci95": wilson(hits, n),
            "fpir": round(fp / nn, 6),
            "fpir_ci95": wilson(fp, nn),
            "false_positives": fp,
        }
        for s in ("F", "M"):
            k, m = fpir_at(t, n_sex == s)
            entry[f"fpir_{s}"] = round(k / m, 6) if m else None
            entry[f"fpir_{s}_ci95"] = wilson(k, m)
            entry[f"non_mated_{s}"] = m
        sweep.append(entry)
    out["sweep"] = sweep
    out["non_mated_top_score_quantiles"] = {
        q: round(float(np.quantile(n_scores, float(q))), 4) for q in ("0.5", "0.9", "0.99", "0.999")
    }
    out["non_mated_top_score_max"] = round(float(n_scores.max()), 4)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    default = Path(os.environ.get("OPENLFR_SHARED_DATA", "../shared/data")) / "lfw-dev"
    parser.add_argument("--data", type=Path, default=default)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    with (args.data / "labels.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    files = [r["file"] for r in rows]
    index = {f: i for i, f in enumerate(files)}
    vecs, found = embed_all(args.data, files)
    threshold = Settings().matching.threshold
    result = {
        "dataset": str(args.data),
        "images": len(files),
        "faces_found": int(found.sum()),
        "default_threshold": threshold,
        "pairs": pairs_protocol(args.data, index, vecs, found, threshold),
        "open_set": open_set_protocol(rows, index, vecs, found, threshold),
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
