"""Labelled evaluation data: image folders with a labels CSV, LFW-style pairs, video lists.

Nothing here is fatal about one bad row: a row without a file name, a file that
does not exist, a path that leaves the dataset folder, a duplicate or a
malformed line is recorded as a :class:`RowProblem` and skipped, so an
evaluation always says what it left out. Only a labels file that cannot be read
at all, or that has no file column, raises :class:`DatasetError`.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

FILE_COLUMNS = ("file", "path", "image", "filename")
IDENTITY_COLUMNS = ("identity", "subject", "person", "id")
# Columns that describe the file, not the person; never offered as groups.
_NON_DEMOGRAPHIC = frozenset(
    {
        "width",
        "height",
        "mode",
        "note",
        "notes",
        "source_path",
        "sex_source",
        "fold",
        "people_txt_fold",
        "n_images_identity",
        "name_hint",
        "fps",
        "frames",
        "seconds",
    }
)
AGE_BANDS = ((0, 17, "0-17"), (18, 29, "18-29"), (30, 44, "30-44"), (45, 59, "45-59"))


class DatasetError(ValueError):
    """A labels, pairs or video list file that cannot be used at all."""


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A row that was skipped, and why (``line`` counts from 1, the header included)."""

    source: str
    line: int
    file: str
    reason: str


@dataclass(frozen=True, slots=True)
class LabelledImage:
    """One labelled image.

    Attributes:
        file: the path as written in the labels file, relative to the dataset folder.
        path: where it is on disk.
        identity: who it shows; for a dataset without identities, the file itself
            (every image is a different person, the only safe assumption).
        attributes: demographic columns (e.g. ``sex``, ``ethnicity``, ``age_band``);
            ``""`` where the row left one empty.
    """

    file: str
    path: Path
    identity: str
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LabelledDataset:
    """The usable rows of a labels file, and the rows that were not usable."""

    name: str
    root: Path
    labels_path: Path
    images: tuple[LabelledImage, ...]
    problems: tuple[RowProblem, ...]
    attribute_columns: tuple[str, ...]
    has_identities: bool
    aliases: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.images)

    @property
    def identities(self) -> tuple[str, ...]:
        """Every identity, sorted."""
        return tuple(sorted({img.identity for img in self.images}))

    def attribute(self, column: str) -> list[str]:
        """The value of ``column`` for every image (``""`` where unknown or absent)."""
        return [img.attributes.get(column, "") for img in self.images]


def age_band(value: str) -> str:
    """``"34"`` → ``"30-44"``; non-numbers give ``""`` (unknown)."""
    try:
        age = int(float(value))
    except ValueError:
        return ""
    if age < 0:
        return ""
    for lo, hi, name in AGE_BANDS:
        if lo <= age <= hi:
            return name
    return "60+"


def _pick(header: list[str], names: tuple[str, ...]) -> str | None:
    lowered = {h.strip().lower(): h for h in header}
    for name in names:
        if name in lowered:
            return lowered[name]
    return None


def _inside(root: Path, relative: str) -> Path | None:
    candidate = (root / relative).resolve()
    try:
        candidate.relative_to(root.resolve())
    except ValueError:
        return None
    return candidate


def read_aliases(path: Path) -> dict[str, str]:
    """Identity merges from a CSV with columns ``identity,same_as`` (``reason`` optional).

    Public datasets file some people under two names, or one photo under the
    wrong one; an evaluator who has checked such cases lists them here, and
    every ``identity`` is read as its ``same_as``. Chains are followed.
    """
    try:
        rows = list(csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines()))
    except OSError as exc:
        raise DatasetError(f"aliases file {path} cannot be read: {exc}") from exc
    if rows and not {"identity", "same_as"} <= set(rows[0]):
        raise DatasetError(f"aliases file {path} needs the columns identity,same_as")
    aliases = {
        r["identity"].strip(): r["same_as"].strip()
        for r in rows
        if (r.get("identity") or "").strip() and (r.get("same_as") or "").strip()
    }
    resolved = {}
    for name in aliases:
        seen, target = {name}, aliases[name]
        while target in aliases:
            if target in seen:
                raise DatasetError(f"aliases file {path} has a cycle through {target}")
            seen.add(target)
            target = aliases[target]
        resolved[name] = target
    return resolved


def skipped_summary(problems: tuple[RowProblem, ...] | list[RowProblem]) -> str:
    """``"no identity (unlabelled image) ×2000, file not found ×3"``: skipped rows by reason."""
    counts: dict[str, int] = {}
    for p in problems:
        # "image not in the dataset: X" varies per row; count by the part before the colon.
        key = p.reason.split(":")[0]
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{k} ×{v:,}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))


def require_rows(data: LabelledDataset, role: str) -> LabelledDataset:
    """``data`` if it kept at least one row; otherwise :class:`DatasetError` saying why.

    An evaluation that silently lost a whole dataset (say, a non-mated set whose
    identity column is empty) would write a normal-looking report about the
    wrong searches.
    """
    if data.images:
        return data
    rows = len(data.problems)
    why = f": {skipped_summary(data.problems)}" if rows else ""
    raise DatasetError(
        f"{role} {data.name} ({data.labels_path}): no usable row; "
        f"{rows:,} of {rows:,} rows skipped{why}"
    )


def load_dataset(
    root: Path,
    labels: Path | None = None,
    *,
    name: str | None = None,
    aliases: dict[str, str] | None = None,
    exclude: tuple[tuple[str, str], ...] = (),
) -> LabelledDataset:
    """Read a labels CSV (default ``root/labels.csv``) describing images under ``root``.

    The CSV needs a header with a file column (``file``, ``path``, ``image`` or
    ``filename``); an identity column (``identity``, ``subject``, ``person``,
    ``id``) is optional. Every other column except file descriptions (width,
    notes, folds, …) is kept as a demographic attribute; a numeric ``age`` also
    gives an ``age_band`` attribute. A dataset with an identity column skips rows
    whose identity is empty (unlabelled group photos). ``aliases`` (see
    :func:`read_aliases`) renames identities before anything else sees them.
    ``exclude`` leaves out rows whose attribute equals a value (e.g. children:
    ``("age_band", "0-17")``); each is recorded as a skipped row saying why.
    A column the file does not have excludes nothing.
    """
    aliases = aliases or {}
    applied: dict[str, str] = {}
    labels_path = labels or root / "labels.csv"
    if not root.is_dir():
        raise DatasetError(f"dataset folder {root} does not exist")
    try:
        text = labels_path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DatasetError(f"labels file {labels_path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"labels file {labels_path} cannot be read: {exc}") from exc
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise DatasetError(f"labels file {labels_path} is empty")
    header = [h.strip() for h in rows[0]]
    file_col = _pick(header, FILE_COLUMNS)
    if file_col is None:
        raise DatasetError(
            f"labels file {labels_path} has no file column (one of {', '.join(FILE_COLUMNS)}); "
            f"its columns are: {', '.join(header)}"
        )
    id_col = _pick(header, IDENTITY_COLUMNS)
    attr_cols = [
        h for h in header if h not in (file_col, id_col) and h.lower() not in _NON_DEMOGRAPHIC
    ]
    has_age = any(h.lower() == "age" for h in attr_cols)
    source = labels_path.name
    images: list[LabelledImage] = []
    problems: list[RowProblem] = []
    seen: set[str] = set()
    for line_no, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank line
        if len(row) != len(header):
            problems.append(
                RowProblem(
                    source,
                    line_no,
                    row[0] if row else "",
                    f"malformed row: {len(row)} fields, the header has {len(header)}",
                )
            )
            continue
        values = dict(zip(header, (c.strip() for c in row), strict=True))
        rel = values[file_col]
        if not rel:
            problems.append(RowProblem(source, line_no, "", "no file name"))
            continue
        path = _inside(root, rel)
        if path is None:
            problems.append(RowProblem(source, line_no, rel, "path leaves the dataset folder"))
            continue
        if rel in seen:
            problems.append(RowProblem(source, line_no, rel, "file listed twice; first row kept"))
            continue
        if not path.is_file():
            problems.append(RowProblem(source, line_no, rel, "file not found"))
            continue
        identity = values[id_col] if id_col else rel
        if identity in aliases:
            applied[identity] = identity = aliases[identity]
        if not identity:
            problems.append(RowProblem(source, line_no, rel, "no identity (unlabelled image)"))
            continue
        attributes = {c: values[c] for c in attr_cols}
        if has_age:
            age_col = next(c for c in attr_cols if c.lower() == "age")
            attributes["age_band"] = age_band(values[age_col])
        dropped = [f"{c}={v}" for c, v in exclude if c in attributes and attributes[c] == v]
        if dropped:
            problems.append(RowProblem(source, line_no, rel, f"excluded by request: {dropped[0]}"))
            continue
        seen.add(rel)
        images.append(LabelledImage(rel, path, identity, attributes))
    columns = tuple(attr_cols) + (("age_band",) if has_age else ())
    return LabelledDataset(
        name=name or root.name,
        root=root,
        labels_path=labels_path,
        images=tuple(images),
        problems=tuple(problems),
        attribute_columns=columns,
        has_identities=id_col is not None,
        aliases=applied,
    )


@dataclass(frozen=True, slots=True)
class ImagePair:
    """A 1:1 comparison: two image indices into a dataset, same person or not, its fold."""

    first: int
    second: int
    genuine: bool
    fold: int


@dataclass(frozen=True, slots=True)
class PairList:
    """The usable pairs of a pairs file, and the lines that were not usable."""

    pairs: tuple[ImagePair, ...]
    problems: tuple[RowProblem, ...]
    folds: int


_NUMBERED = re.compile(r"^(?P<name>.+)_(?P<num>\d+)$")


def read_pairs(path: Path, dataset: LabelledDataset) -> PairList:
    """Read an LFW-style ``pairs.txt`` against ``dataset``'s images.

    Format: an optional header ``<folds> <pairs>`` (View 2: each fold is
    ``<pairs>`` same-person lines then ``<pairs>`` different-person lines), then
    ``name n1 n2`` (same person) or ``name1 n1 name2 n2`` (different people),
    where image ``n`` of ``name`` is the file ``name_000n.<ext>``. A line naming
    an image that is not in the dataset is a problem, not an error. Without a
    header every pair is in fold 0.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DatasetError(f"pairs file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"pairs file {path} cannot be read: {exc}") from exc
    index: dict[tuple[str, int], int] = {}
    for i, img in enumerate(dataset.images):
        match = _NUMBERED.match(Path(img.file).stem)
        if match:
            index[(match["name"], int(match["num"]))] = i
    source = path.name
    problems: list[RowProblem] = []
    per_fold: int | None = None
    folds = 1
    body = list(enumerate(lines, start=1))
    if body and re.fullmatch(r"\s*\d+(\s+\d+)?\s*", body[0][1]):
        numbers = [int(x) for x in body[0][1].split()]
        if len(numbers) == 2:
            folds, per_fold = numbers
        body = body[1:]
    pairs: list[ImagePair] = []
    position = 0
    for line_no, line in body:
        fields = line.split()
        if not fields:
            continue
        fold = position // (2 * per_fold) if per_fold else 0
        position += 1
        try:
            if len(fields) == 3:
                keys = [(fields[0], int(fields[1])), (fields[0], int(fields[2]))]
            elif len(fields) == 4:
                keys = [(fields[0], int(fields[1])), (fields[2], int(fields[3]))]
            else:
                raise ValueError
        except ValueError:
            problems.append(RowProblem(source, line_no, line.strip(), "malformed pair line"))
            continue
        missing = [f"{n}_{k:04d}" for n, k in keys if (n, k) not in index]
        if missing:
            problems.append(
                RowProblem(
                    source, line_no, line.strip(), f"image not in the dataset: {', '.join(missing)}"
                )
            )
            continue
        pairs.append(ImagePair(index[keys[0]], index[keys[1]], len(fields) == 3, fold))
    if per_fold and position != folds * 2 * per_fold:
        problems.append(
            RowProblem(
                source, 1, "", f"header promises {folds}×{2 * per_fold} pairs, file has {position}"
            )
        )
    return PairList(tuple(pairs), tuple(problems), max(folds, 1))


@dataclass(frozen=True, slots=True)
class LabelledVideo:
    """A clip and the watchlist identities known to appear in it (possibly none)."""

    file: str
    path: Path
    identities: tuple[str, ...]


_NOT_AN_IDENTITY = ("unlabelled", "unknown")


def _video_identities(cell: str) -> tuple[str, ...]:
    names = []
    for entry in cell.split(";"):
        entry = entry.strip()
        match = re.fullmatch(r"(?P<name>[^()]*)(\((?P<note>[^)]*)\))?", entry)
        if not match:
            continue
        name, note = match["name"].strip(), (match["note"] or "").lower()
        # "audience(unlabelled)" or "(unknown pedestrians)": people present, nobody to find.
        if name and not any(word in note for word in _NOT_AN_IDENTITY):
            names.append(name)
    return tuple(names)


def read_video_list(
    labels: Path, root: Path | None = None
) -> tuple[list[LabelledVideo], list[RowProblem]]:
    """Read a CSV of clips (``file``, ``identity``: ``;``-separated names of who appears).

    A name's parenthesised note is dropped (``alex_lacamoire(profile)`` is
    ``alex_lacamoire``); entries noted ``unlabelled`` or ``unknown`` are people
    who appear but are on no watchlist.
    """
    base = root or labels.parent
    try:
        text = labels.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DatasetError(f"video list {labels} cannot be read: {exc}") from exc
    reader = list(csv.DictReader(text.splitlines()))
    if not reader:
        return [], []
    header = list(reader[0].keys())
    file_col = _pick(header, FILE_COLUMNS)
    id_col = _pick(header, IDENTITY_COLUMNS)
    if file_col is None or id_col is None:
        raise DatasetError(f"video list {labels} needs a file and an identity column")
    videos: list[LabelledVideo] = []
    problems: list[RowProblem] = []
    for line_no, row in enumerate(reader, start=2):
        rel = (row.get(file_col) or "").strip()
        path = _inside(base, rel) if rel else None
        if path is None or not path.is_file():
            problems.append(RowProblem(labels.name, line_no, rel, "video file not found"))
            continue
        videos.append(LabelledVideo(rel, path, _video_identities(row.get(id_col) or "")))
    return videos, problems
