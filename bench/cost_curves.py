"""Cost curves: CPU time per frame against faces per frame; search time against watchlist size.

    .venv/bin/python bench/cost_curves.py                     # both curves, PNG in docs/images/
    .venv/bin/python bench/cost_curves.py --faces 1 5 20 50 --frames 60
    .venv/bin/python bench/cost_curves.py --sizes 100 10000 1000000 --skip-faces

Faces: 1080p frames composed at run time from the real photos of the shipped
demo kit (``openlfr/demokit/images``, 46 volunteers; repeated, mirrored, for 50),
each face about 100 px tall, drifting a few pixels a frame so the tracker and
best-shot rules work as on a street. Each frame goes through the whole live
pipeline (detect, track, best shot, embed, search, decide); CPU time is the
process's own (``time.process_time``), so other jobs on the machine slow the
wall clock but not the figure much. Both the default schedule (full-frame
detection every ``pipeline.detection.full_interval`` frames, windows between)
and full detection on every frame are measured.

Search: random unit vectors (128-d float32) as watchlist and probes; the
time per probe of the gallery's exact search (``Gallery.search``, a matrix
product and a partial sort), and of FAISS indexes where ``faiss-cpu`` is
installed (exact ``IndexFlatIP``, HNSW and IVF with their recall@1 against the
exact answer), one probe per call as the live pipeline searches.

"Grows faster than linear" is judged on the marginal cost: the cost added per
face (or per template) between two measured points, against the one before.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
KIT = REPO / "src/openlfr/demokit/images"


@dataclass
class Point:
    x: float
    y: float  # milliseconds


def load_faces(pack: object, limit: int) -> list[np.ndarray]:
    """Head-and-shoulders cut-outs of the kit's photos, one per photo (face ~1/2 the cut)."""
    from openlfr.vision import ModelPack

    assert isinstance(pack, ModelPack)
    faces: list[np.ndarray] = []
    for path in sorted(KIT.glob("*.jpg")):
        image = cv2.imread(str(path))
        if image is None:
            continue
        found = pack.detect(image)
        if len(found) == 0:
            continue
        x1, y1, x2, y2 = found.boxes[int(np.argmax(found.scores))]
        w, h = x2 - x1, y2 - y1
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        side = 2.0 * max(w, h)
        x0, y0 = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
        cut = image[y0 : int(cy + side / 2), x0 : int(cx + side / 2)]
        faces.append(cv2.resize(cut, (200, 200)))
    while len(faces) < limit:  # more faces than photos: mirrored copies
        faces.append(faces[len(faces) % max(1, len(faces))][:, ::-1].copy())
    return faces[:limit]


def compose(faces: list[np.ndarray], count: int, step: int) -> np.ndarray:
    """A 1920x1080 frame with ``count`` faces on a grid, moved ``step`` px from frame 0."""
    frame = np.full((1080, 1920, 3), (96, 104, 110), np.uint8)
    cols = 10 if count > 20 else 5 if count > 4 else count
    rows = -(-count // cols)
    cell_w, cell_h = 1920 // max(cols, 1), 1080 // max(rows, 1)
    side = min(200, cell_w - 20, cell_h - 20)
    for i in range(count):
        r, c = divmod(i, cols)
        x = c * cell_w + (cell_w - side) // 2 + (step % 10) * (1 if r % 2 else -1)
        y = r * cell_h + (cell_h - side) // 2 + step % 6
        frame[y : y + side, x : x + side] = cv2.resize(faces[i], (side, side))
    return frame


def face_curve(counts: list[int], frames: int, interval: int) -> list[Point]:
    from openlfr.config import Settings
    from openlfr.config.pipeline import DetectionScheduleConfig
    from openlfr.matching import rules_from_settings
    from openlfr.stream import CameraPipeline
    from openlfr.types import Frame
    from openlfr.watchlist import Gallery

    sys.path.insert(0, str(REPO / "bench"))
    import pipeline_variants as v

    pack = v.load_models(threads=1)
    cv2.setNumThreads(1)
    faces = load_faces(pack, max(counts))
    rng = np.random.default_rng(0)
    listed = rng.standard_normal((100, 128)).astype(np.float32)
    listed /= np.linalg.norm(listed, axis=1, keepdims=True)
    gallery = Gallery([f"s{i}" for i in range(100)], listed, pack.model_id)
    settings = Settings()
    config = settings.pipeline.model_copy(
        update={"detection": DetectionScheduleConfig(full_interval=interval)}
    )
    points = []
    for count in counts:
        pictures = [compose(faces, count, i) for i in range(frames)]
        pipeline = CameraPipeline(
            "bench", pack, gallery, rules_from_settings(settings), config, watchlist="bench"
        )
        stages: dict[str, float] = {}

        def timer(stage: str, seconds: float, stages: dict[str, float] = stages) -> None:
            stages[stage] = stages.get(stage, 0.0) + seconds

        pipeline.timer = timer
        for i, picture in enumerate(pictures[:5]):  # warm up: first tracks, first looks
            pipeline.process(Frame(picture, "bench", i, 1000.0 + i / 25))
        stages.clear()
        cpu = time.process_time()
        for i, picture in enumerate(pictures[5:], start=5):
            pipeline.process(Frame(picture, "bench", i, 1000.0 + i / 25))
        per_frame = 1000 * (time.process_time() - cpu) / (frames - 5)
        found = pipeline.counters().faces / frames
        parts = ", ".join(
            f"{k} {1000 * t / (frames - 5):.1f}" for k, t in sorted(stages.items()) if k != "frame"
        )
        print(
            f"  {count:>3} faces (found {found:5.1f}/frame): {per_frame:6.1f} ms CPU per frame "
            f"[{parts} ms wall]",
            flush=True,
        )
        points.append(Point(count, per_frame))
    return points


def search_curve(sizes: list[int], probes: int) -> dict[str, list[Point]]:
    from openlfr.watchlist import Gallery

    rng = np.random.default_rng(1)
    queries = rng.standard_normal((probes, 128)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    curves: dict[str, list[Point]] = {"exact (Gallery.search)": []}
    faiss: Any = None
    try:
        import faiss
    except ImportError:
        print("  faiss-cpu is not installed: exact search only")
    for size in sizes:
        data = rng.standard_normal((size, 128)).astype(np.float32)
        data /= np.linalg.norm(data, axis=1, keepdims=True)
        gallery = Gallery([f"s{i}" for i in range(size)], data, "bench")
        n = max(20, min(probes, int(2e7 // size)))
        start = time.perf_counter()
        truth = [gallery.search(q[None], top_k=1)[0].best for q in queries[:n]]
        exact = 1000 * (time.perf_counter() - start) / n
        curves["exact (Gallery.search)"].append(Point(size, exact))
        line = f"  {size:>8} templates: exact {exact:8.3f} ms/probe"
        if faiss is not None:
            want = np.array([int(c.subject_id[1:]) if c else -1 for c in truth])
            for name, index in _indexes(faiss, data):
                start = time.perf_counter()
                got = [int(index.search(q[None], 1)[1][0, 0]) for q in queries[:n]]
                ms = 1000 * (time.perf_counter() - start) / n
                recall = float(np.mean(np.asarray(got) == want))
                curves.setdefault(name, []).append(Point(size, ms))
                line += f"; {name} {ms:7.3f} ms (recall@1 {recall:.2f})"
        print(line, flush=True)
    return curves


def _indexes(faiss: Any, data: np.ndarray) -> list[tuple[str, Any]]:
    import faiss as f

    size = len(data)
    flat = f.IndexFlatIP(128)
    flat.add(data)
    out: list[tuple[str, Any]] = [("faiss flat", flat)]
    if size <= 100_000:  # HNSW build time grows steeply: many minutes at a million on 2 cores
        hnsw = f.IndexHNSWFlat(128, 32, f.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = 40
        hnsw.hnsw.efSearch = 64
        hnsw.add(data)
        out.append(("faiss HNSW32", hnsw))
    if size >= 10_000:
        lists = int(np.sqrt(size))
        quantizer = f.IndexFlatIP(128)
        ivf = f.IndexIVFFlat(quantizer, 128, lists, f.METRIC_INNER_PRODUCT)
        ivf.train(data[: min(size, 40 * lists)])
        ivf.add(data)
        ivf.nprobe = 16
        out.append(("faiss IVF", ivf))
    return out


def superlinear(points: list[Point]) -> str:
    """Where the cost per added unit grows by more than a half over the previous step."""
    notes = []
    for a, b, c in zip(points, points[1:], points[2:], strict=False):
        before = (b.y - a.y) / (b.x - a.x)
        if before <= 0:  # flat within noise (a fixed cost): the average per unit instead
            before = b.y / b.x
        after = (c.y - b.y) / (c.x - b.x)
        if after > 1.5 * before:
            notes.append(f"{b.x:g}->{c.x:g} ({after:.3g} vs {before:.3g} ms per unit)")
    return "; ".join(notes) if notes else "none (each step adds no more per unit than the last)"


def plot(
    faces: dict[str, list[Point]], search: dict[str, list[Point]], out: Path, note: str
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6))
    for name, pts in faces.items():
        left.plot([p.x for p in pts], [p.y for p in pts], "o-", label=name)
    left.set_xlabel("faces per 1080p frame")
    left.set_ylabel("CPU ms per frame (whole pipeline)")
    left.set_title("Cost per frame against crowd density")
    left.grid(alpha=0.3)
    if faces:
        left.legend()
    for name, pts in search.items():
        right.loglog([p.x for p in pts], [p.y for p in pts], "o-", label=name)
    right.set_xlabel("watchlist templates (128-d)")
    right.set_ylabel("ms per probe")
    right.set_title("Search time against watchlist size")
    right.grid(alpha=0.3, which="both")
    right.legend(fontsize=8)
    fig.suptitle(note, fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    print(f"plot: {out}")


def load_note() -> str:
    load = os.getloadavg()
    cores = os.cpu_count()
    rev = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return (
        f"{cores} cores, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}, "
        f"openlfr {rev or '?'}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, nargs="+", default=[1, 5, 20, 50])
    parser.add_argument("--frames", type=int, default=45)
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[100, 1_000, 10_000, 100_000, 1_000_000]
    )
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--skip-faces", action="store_true")
    parser.add_argument("--skip-search", action="store_true")
    parser.add_argument("--out", type=Path, default=REPO / "docs/images/cost-curves.png")
    args = parser.parse_args()
    print(f"machine: {load_note()}")
    faces: dict[str, list[Point]] = {}
    if not args.skip_faces:
        from openlfr.config.pipeline import DetectionScheduleConfig

        default = DetectionScheduleConfig().full_interval
        for interval, name in (
            (default, f"full detection every {default} frames"),
            (1, "every frame"),
        ):
            print(f"== CPU per frame, {name} ==")
            faces[name] = face_curve(args.faces, args.frames, interval)
            print(f"  faster than linear: {superlinear(faces[name])}")
    search: dict[str, list[Point]] = {}
    if not args.skip_search:
        print("== search time per probe ==")
        search = search_curve(args.sizes, args.probes)
        for name, pts in search.items():
            print(f"  {name}: faster than linear: {superlinear(pts)}")
    note = load_note()
    print(f"after: {note}")
    if faces or search:
        plot(faces, search, args.out, note)


if __name__ == "__main__":
    main()
