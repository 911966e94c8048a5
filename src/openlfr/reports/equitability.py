"""The equitability headline: what the latest evaluation found about demographic differentials.

Reads an ``openlfr evaluate`` report's ``metrics.json`` (format
``openlfr-evaluation/1``): the open-set TPIR and FPIR at a threshold, with their
95% intervals, and for every grouping tested (sex, ethnicity, …) whether the
groups differ significantly at that threshold and the highest threshold of the
sweep at which they still do. "Latest" is the newest ``created_at`` among the
reports that hold an open-set result with at least one group test.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EVALUATION_FORMAT = "openlfr-evaluation/1"


class EvaluationFileError(ValueError):
    """A metrics file that cannot give the headline (unreadable, another format, no groups)."""


@dataclass(frozen=True, slots=True)
class Rate:
    """A measured rate at one threshold: ``k`` of ``n``, with its 95% interval."""

    rate: float
    lo: float | None
    hi: float | None
    k: int
    n: int


@dataclass(frozen=True, slots=True)
class GroupFinding:
    """One grouping tested for a differential in one metric, at the headline's threshold."""

    metric: str
    grouping: str
    groups: tuple[tuple[str, Rate], ...]
    p: float
    alpha: float
    method: str
    onset: float | None  # highest threshold of the sweep with a significant difference

    @property
    def significant(self) -> bool:
        return self.p < self.alpha

    def sentence(self, threshold: float) -> str:
        verdict = (
            "a statistically significant difference"
            if self.significant
            else "no statistically significant difference"
        )
        names = ", ".join(name for name, _ in self.groups)
        tail = (
            f" Across the sweep, the highest threshold with a significant difference is "
            f"{self.onset:.2f}."
            if self.onset is not None
            else " No threshold in the sweep shows a significant difference."
        )
        return (
            f"{self.metric} by {self.grouping} at {threshold:.2f}: {verdict} between {names} "
            f"(p = {self.p:.3g}, {self.method}).{tail}"
        )


@dataclass(frozen=True, slots=True)
class EquitabilityHeadline:
    """The headline numbers of one evaluation at one threshold."""

    source: str
    created_at: str
    model_id: str
    threshold: float  # the nearest measured threshold
    requested_threshold: float
    watchlist_size: int | None
    tpir: Rate | None
    fpir: Rate | None
    findings: tuple[GroupFinding, ...]
    datasets: tuple[str, ...]

    @property
    def any_significant(self) -> bool:
        return any(f.significant for f in self.findings)


def _index(thresholds: Sequence[float], t: float) -> int:
    return min(range(len(thresholds)), key=lambda i: abs(thresholds[i] - t))


def _rate(curve: dict[str, Any], t: float) -> Rate:
    i = _index(curve["thresholds"], t)
    rate = curve["rate"][i]
    return Rate(
        rate=float("nan") if rate is None else float(rate),
        lo=None if curve["lo"][i] is None else float(curve["lo"][i]),
        hi=None if curve["hi"][i] is None else float(curve["hi"][i]),
        k=int(curve["k"][i]),
        n=int(curve["n"]),
    )


def _load(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EvaluationFileError(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EvaluationFileError(f"{path} is not a readable metrics file: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != EVALUATION_FORMAT:
        raise EvaluationFileError(f"{path} is not an openlfr evaluation metrics file")
    return doc


def _has_groups(doc: dict[str, Any]) -> bool:
    o = doc.get("open_set")
    return isinstance(o, dict) and bool(o.get("fpir_by_group") or o.get("tpir_by_group"))


def read_headline(path: Path, threshold: float) -> EquitabilityHeadline:
    """The headline of the evaluation in ``path``, at its threshold nearest to ``threshold``."""
    doc = _load(path)
    if not _has_groups(doc):
        raise EvaluationFileError(f"{path} holds no open-set demographic analysis")
    o = doc["open_set"]
    try:
        findings = []
        used = threshold
        for block in [*o.get("fpir_by_group", []), *o.get("tpir_by_group", [])]:
            test = block["test"]
            if len(test["groups"]) < 2:
                continue
            i = _index(test["thresholds"], threshold)
            used = float(test["thresholds"][i])
            onset = test.get("differential_onset")
            findings.append(
                GroupFinding(
                    metric=str(block["metric"]),
                    grouping=str(block["grouping"]),
                    groups=tuple(
                        (str(name), _rate(block["groups"][name], threshold))
                        for name in test["groups"]
                    ),
                    p=float(test["omnibus_p"][i]),
                    alpha=float(test["alpha"]),
                    method=str(test["method"]),
                    onset=None if onset is None else float(onset),
                )
            )
        tpir = _rate(o["tpir"], threshold) if o.get("tpir") else None
        fpir = _rate(o["fpir"], threshold) if o.get("fpir") else None
        model = doc.get("model") or {}
        return EquitabilityHeadline(
            source=str(path),
            created_at=str(doc.get("created_at", "")),
            model_id=str(model.get("model_id", "unknown")),
            threshold=used,
            requested_threshold=threshold,
            watchlist_size=o.get("watchlist_size"),
            tpir=tpir,
            fpir=fpir,
            findings=tuple(findings),
            datasets=tuple(str(d.get("name")) for d in doc.get("datasets", [])),
        )
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise EvaluationFileError(f"{path}: malformed open-set results ({exc})") from exc


def metrics_files(paths: Iterable[Path]) -> list[Path]:
    """Every ``metrics.json`` in ``paths`` (files as given, folders searched recursively)."""
    found: list[Path] = []
    for path in paths:
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(sorted(path.rglob("metrics.json")))
    return found


def latest_evaluation(paths: Iterable[Path]) -> Path | None:
    """The newest evaluation with a demographic analysis among ``paths``; None if there is none.

    Files that cannot be read or hold no group analysis are passed over.
    """
    best: tuple[str, Path] | None = None
    for path in metrics_files(paths):
        try:
            doc = _load(path)
        except EvaluationFileError:
            continue
        if not _has_groups(doc):
            continue
        stamp = str(doc.get("created_at", ""))
        if best is None or stamp > best[0]:
            best = (stamp, path)
    return None if best is None else best[1]
