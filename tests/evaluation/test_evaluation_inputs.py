"""Inputs an evaluation must not get wrong quietly: lost datasets, refused images, grey photos."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from evaluation_subsets import Subset
from PIL import Image

from openlfr.evaluation.datasets import DatasetError
from openlfr.evaluation.html import refusals_line
from openlfr.evaluation.runner import EvaluationOptions, Evaluator
from openlfr.services import Services

pytestmark = pytest.mark.realdata


def _labels(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_a_nonmated_dataset_whose_rows_are_all_skipped_is_refused_with_counts(
    services: Services, lfw_subset: Subset, utk_subset: Subset, tmp_path: Path
) -> None:
    # An identity column left empty used to drop every row silently: the report then
    # looked normal but had no non-mated searches from the set the user asked for.
    with utk_subset.labels.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    labels = _labels(
        tmp_path / "labels.csv",
        ["file", "identity", "sex"],
        [[r["file"], "", r["sex"]] for r in rows],
    )
    options = EvaluationOptions(
        dataset=lfw_subset.root,
        labels=lfw_subset.labels,
        nonmated_dataset=utk_subset.root,
        nonmated_labels=labels,
    )
    with pytest.raises(DatasetError) as info:
        Evaluator(services).run(options)
    message = str(info.value)
    assert "non-mated dataset utkface-balanced" in message
    assert f"{len(rows)} of {len(rows)} rows skipped" in message
    assert f"no identity (unlabelled image) ×{len(rows)}" in message


def _grey_copies(lfw_subset: Subset, folder: Path, suffix: str) -> tuple[Path, int]:
    """The subset's photos re-saved as 8-bit grey Netpbm files, with a labels file."""
    with lfw_subset.labels.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for r in rows:
        name = Path(r["file"]).with_suffix(suffix).name
        Image.open(lfw_subset.root / r["file"]).convert("L").save(folder / name, format="PPM")
        out.append([name, r["identity"], r["sex"]])
    _labels(folder / "labels.csv", ["file", "identity", "sex"], out)
    return folder, len(out)


def test_grey_pgm_photos_are_evaluated(
    services: Services, lfw_subset: Subset, tmp_path: Path
) -> None:
    root, count = _grey_copies(lfw_subset, tmp_path, ".pgm")
    assert (root / next(root.glob("*.pgm")).name).read_bytes().startswith(b"P5")
    report = Evaluator(services).run(EvaluationOptions(dataset=root))
    (data,) = report.datasets
    assert (data.images, data.unreadable) == (count, 0)
    assert data.acquired >= count - 2  # grey photos still hold findable faces
    assert report.open_set is not None and report.open_set.watchlist_size == 8
    assert refusals_line(data).startswith(f"{count} images listed, 0 refused")


def test_refused_images_are_counted_with_their_reason(
    services: Services, lfw_subset: Subset, tmp_path: Path
) -> None:
    root, count = _grey_copies(lfw_subset, tmp_path, ".gif")
    for path in root.glob("*.gif"):
        Image.open(path).save(path, format="GIF")
    with pytest.raises(DatasetError) as info:
        Evaluator(services).run(EvaluationOptions(dataset=root))
    message = str(info.value)
    assert "no identity has enough photos" in message
    assert f"{count} images: {count} refused (GIF images are not supported" in message
    assert f"×{count}), 0 with no face found" in message
