"""What the embedding cache saves an evaluation, and what the statistics cost.

Run:  .venv/bin/python bench/evaluation.py [--images 300] [--data ../shared/data]

On the first ``--images`` photos of lfw-dev (whole identities, in file order)
it runs the same open-set evaluation three times in one process, in a fresh
temporary home:

* baseline: cold, every face detected and embedded (the cache is filled);
* cached: the same run again, every face read back from the encrypted cache;
* statistics only: the metric, interval, test and projection work of the run
  (the part a threshold sweep or a second report repeats).

It prints each time and the cached/baseline ratio. Times vary with the load on
the machine; the ratio, measured in one run, is the figure to compare.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

from openlfr.config import Settings
from openlfr.evaluation.runner import EvaluationOptions, Evaluator
from openlfr.services import Services

REPO = Path(__file__).resolve().parents[1]


def _subset(data: Path, images: int, folder: Path) -> Path:
    with (data / "lfw-dev" / "labels.csv").open(newline="") as fh:
        reader = csv.DictReader(fh)
        header, rows = list(reader.fieldnames or []), list(reader)
    chosen, identities = [], set()
    for row in rows:
        if len(chosen) >= images and row["identity"] not in identities:
            break
        chosen.append(row)
        identities.add(row["identity"])
    labels = folder / "labels.csv"
    with labels.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(chosen)
    return labels


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("OPENLFR_SHARED_DATA", REPO.parent / "shared" / "data")),
    )
    args = parser.parse_args()
    if not (args.data / "lfw-dev" / "labels.csv").is_file():
        print(f"no lfw-dev under {args.data}; set --data or OPENLFR_SHARED_DATA", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        os.environ["OPENLFR_HOME"] = str(home)
        os.environ["OPENLFR_CONFIG"] = str(home / "config.toml")
        labels = _subset(args.data, args.images, home)
        options = EvaluationOptions(dataset=args.data / "lfw-dev", labels=labels, groups=("sex",))
        services = Services(Settings())
        services.pack  # load the models before timing anything  # noqa: B018

        start = time.perf_counter()
        cold = Evaluator(services).run(options)
        baseline = time.perf_counter() - start
        start = time.perf_counter()
        warm = Evaluator(services).run(options)
        cached = time.perf_counter() - start

    images = cold.datasets[0].images
    stats = warm.timings.get("open_set_s", 0.0)
    print(f"images: {images} (faces found in {cold.datasets[0].acquired})")
    print(
        f"baseline (cold, models run):  {baseline:7.2f} s  {1000 * baseline / images:6.1f} ms/image"
    )
    print(f"cached (models not run):      {cached:7.2f} s  {1000 * cached / images:6.1f} ms/image")
    print(f"  of which statistics:        {stats:7.2f} s")
    print(f"cache misses on the second run: {warm.cache_misses} (hits {warm.cache_hits})")
    print(f"cached / baseline: {cached / baseline:.3f}  (speed-up ×{baseline / cached:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
