"""Small real subsets of the shared data, written as labels files in a temporary folder."""

from __future__ import annotations

import csv
import itertools
from collections import defaultdict
from pathlib import Path

import pytest
from evaluation_subsets import Subset


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="session")
def lfw_subset(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Subset:
    """8 people with 3 photos each (both sexes), 8 people with one photo, and 12 pairs."""
    root = shared_data / "lfw-dev"
    header, rows = _rows(root / "labels.csv")
    by_id: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_id[row["identity"]].append(row)
    multi = [n for n, r in by_id.items() if len(r) >= 3]
    women = [n for n in multi if by_id[n][0]["sex"] == "F"][:4]
    men = [n for n in multi if by_id[n][0]["sex"] == "M"][:4]
    singles = [n for n, r in by_id.items() if len(r) == 1][:8]
    chosen = [r for n in women + men for r in by_id[n][:3]] + [by_id[n][0] for n in singles]
    folder = tmp_path_factory.mktemp("lfw-subset")
    labels = _write(folder / "labels.csv", header, chosen)
    people = women + men
    lines = ["2\t3"]
    for fold in range(2):
        group = people[fold * 4 : fold * 4 + 4]
        lines += [f"{n}\t1\t2" for n in group[:3]]
        lines += [f"{a}\t1\t{b}\t3" for a, b in itertools.pairwise(group)]
    pairs = folder / "pairs.txt"
    pairs.write_text("\n".join(lines) + "\n")
    return Subset(root, labels, pairs)


@pytest.fixture(scope="session")
def utk_subset(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Subset:
    """Two photos from every sex × ethnicity cell of utkface-balanced."""
    root = shared_data / "utkface-balanced"
    header, rows = _rows(root / "labels.csv")
    seen: dict[tuple[str, str], int] = defaultdict(int)
    chosen = []
    for row in rows:
        key = (row["sex"], row["ethnicity"])
        if seen[key] < 2:
            seen[key] += 1
            chosen.append(row)
    folder = tmp_path_factory.mktemp("utk-subset")
    return Subset(root, _write(folder / "labels.csv", header, chosen))
