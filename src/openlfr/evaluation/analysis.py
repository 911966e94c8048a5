"""Turn raw scores into the typed 1:1 and 1:N reports (rates, intervals, groups, tests)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from openlfr.evaluation.datasets import PairList
from openlfr.evaluation.estimates import (
    GroupRates,
    Metric,
    RateCurve,
    RatePoint,
    at_or_above,
    combined_labels,
    group_rates,
    rate_curve,
)
from openlfr.evaluation.identification import OpenSetScores, OpenSetSplit
from openlfr.evaluation.intervals import IntervalMethod, cluster_bootstrap_interval
from openlfr.evaluation.rates import det_curve, equal_error_rate, fmr, fnmr, threshold_for_rate
from openlfr.evaluation.results import (
    AlertConcentration,
    CrossTab,
    Histogram,
    NonmatedAlert,
    OpenSetReport,
    OperatingPoint,
    ScalingProjection,
    VerificationReport,
)
from openlfr.evaluation.scaling import (
    ExceedanceTable,
    ScalingModel,
    exceedance_counts,
    validate_scaling,
)
from openlfr.evaluation.verification import PairScores, fold_accuracies

FloatVector = npt.NDArray[np.float64]
TARGET_FMRS = (1e-2, 1e-3, 1e-4)


@dataclass(frozen=True, slots=True)
class StatsOptions:
    """How rates, intervals and tests are computed."""

    sweep: FloatVector
    report_thresholds: tuple[float, ...]
    interval: IntervalMethod = IntervalMethod.CLOPPER_PEARSON
    alpha: float = 0.05
    n_boot: int = 1000
    n_perm: int = 2000
    seed: int = 0
    watchlist_sizes: tuple[int, ...] = (1000, 10000)
    # A group with fewer searches than this (or fewer than a third as many people) is
    # shown but not tested: at that size only a near-total difference could show.
    min_group: int = 30


def split_grouping(spec: str) -> list[str]:
    """``"sex*ethnicity"`` (or ``sex×ethnicity``) → ``["sex", "ethnicity"]``."""
    return [part.strip() for part in spec.replace("×", "*").split("*") if part.strip()]


def groupings(specs: Sequence[str], values: dict[str, list[str]]) -> list[tuple[str, list[str]]]:
    """One ``(name, labels)`` per requested grouping that this data can supply.

    A grouping is a column (``sex``) or a joint one (``sex*ethnicity``, named
    ``sex×ethnicity``; a trial's label is unknown if any part is). Groupings that
    need a column the data lacks are skipped; ``values`` maps a column to one
    label per trial.
    """
    out = []
    for spec in specs:
        parts = split_grouping(spec)
        if parts and all(p in values for p in parts):
            labels = (
                values[parts[0]] if len(parts) == 1 else combined_labels([values[p] for p in parts])
            )
            out.append(("×".join(parts), labels))
    return out


def _groups(
    metric: Metric,
    hits: npt.NDArray[np.bool_],
    labels: dict[str, list[str]],
    columns: Sequence[str],
    clusters: npt.ArrayLike | None,
    opts: StatsOptions,
) -> tuple[GroupRates, ...]:
    return tuple(
        group_rates(
            metric,
            name,
            hits,
            lab,
            opts.sweep,
            clusters=clusters,
            method=opts.interval,
            alpha=opts.alpha,
            n_boot=opts.n_boot,
            n_perm=opts.n_perm,
            seed=opts.seed,
            min_group=opts.min_group,
        )
        for name, lab in groupings(columns, labels)
    )


def verification_report(
    pair_list: PairList,
    scored: PairScores,
    identities: Sequence[str],
    attributes: dict[str, list[str]],
    columns: Sequence[str],
    opts: StatsOptions,
) -> VerificationReport:
    """1:1 rates, EER, per-fold accuracy and per-group FNMR / per-group-pair FMR.

    ``identities`` and ``attributes`` are per image of the dataset the pairs index.
    Genuine pairs are grouped by identity for intervals and tests (a person can
    appear in several pairs); impostor pairs are treated as independent.
    """
    genuine = scored.genuine
    s = scored.scores
    gen_scores, imp_scores = s[genuine], s[~genuine]
    gen_pairs = [p for p, g in zip(scored.pairs, genuine.tolist(), strict=True) if g]
    imp_pairs = [p for p, g in zip(scored.pairs, genuine.tolist(), strict=True) if not g]
    gen_ids = np.array([identities[p.first] for p in gen_pairs], dtype=object)
    miss = ~at_or_above(gen_scores, opts.sweep)
    false_match = at_or_above(imp_scores, opts.sweep)
    fnmr_curve = rate_curve(
        miss, opts.sweep, clusters=gen_ids, method=opts.interval, n_boot=opts.n_boot, seed=opts.seed
    )
    fmr_curve = rate_curve(false_match, opts.sweep, method=opts.interval)
    eer, eer_t = equal_error_rate(gen_scores, imp_scores)
    folds = fold_accuracies(scored)
    accs = np.array([f.accuracy for f in folds], dtype=np.float64)
    points = []
    for target in TARGET_FMRS:
        t = threshold_for_rate(imp_scores, target)
        if np.isfinite(t):
            points.append(
                OperatingPoint(
                    target, t, float(fmr(imp_scores, t)[0]), float(fnmr(gen_scores, t)[0])
                )
            )
    gen_labels = {c: [attributes[c][p.first] for p in gen_pairs] for c in attributes}
    pair_labels = {
        c: [
            "–".join(sorted((attributes[c][p.first], attributes[c][p.second])))
            if attributes[c][p.first] and attributes[c][p.second]
            else ""
            for p in imp_pairs
        ]
        for c in attributes
    }
    return VerificationReport(
        pairs_listed=len(pair_list.pairs),
        pairs_scored=len(scored.pairs),
        pairs_lost=len(scored.lost),
        pair_problems=pair_list.problems,
        genuine=int(genuine.sum()),
        impostor=int((~genuine).sum()),
        folds=tuple(folds),
        mean_accuracy=float(accs.mean()) if accs.size else float("nan"),
        sd_accuracy=float(accs.std(ddof=1)) if accs.size > 1 else float("nan"),
        fmr=fmr_curve,
        fnmr=fnmr_curve,
        eer=eer,
        eer_threshold=eer_t,
        det=det_curve(gen_scores, imp_scores),
        operating_points=tuple(points),
        fnmr_by_group=_groups(Metric.FNMR, miss, gen_labels, columns, gen_ids, opts),
        fmr_by_group_pair=_groups(Metric.FMR, false_match, pair_labels, columns, None, opts),
        genuine_histogram=Histogram.of(gen_scores),
        impostor_histogram=Histogram.of(imp_scores),
    )


def _curve(hits: npt.NDArray[np.bool_], clusters: npt.ArrayLike, opts: StatsOptions) -> RateCurve:
    return rate_curve(
        hits,
        opts.sweep,
        clusters=clusters,
        method=opts.interval,
        n_boot=opts.n_boot,
        seed=opts.seed,
    )


HIGHEST_SHOWN = 10
TOP_SUBJECTS = 5


def _concentration(
    scores: OpenSetScores, thresholds: Sequence[float]
) -> tuple[AlertConcentration, ...]:
    top = scores.nonmated_top_scores
    subjects = scores.nonmated_top_subjects
    out = []
    for t in thresholds:
        hit = subjects[top >= t]
        counts = np.bincount(hit, minlength=len(scores.subjects))
        order = np.argsort(-counts, kind="stable")[:TOP_SUBJECTS]
        out.append(
            AlertConcentration(
                threshold=float(t),
                alerts=int(hit.size),
                subjects_alerted=int((counts > 0).sum()),
                top=tuple((scores.subjects[i], int(counts[i])) for i in order if counts[i] > 0),
            )
        )
    return tuple(out)


def _highest(
    scores: OpenSetScores, files: Sequence[str], identities: Sequence[str]
) -> tuple[NonmatedAlert, ...]:
    top = scores.nonmated_top_scores
    subjects = scores.nonmated_top_subjects
    out = []
    for i in np.argsort(-top, kind="stable")[:HIGHEST_SHOWN].tolist():
        pos = int(scores.nonmated[i])
        out.append(
            NonmatedAlert(files[pos], identities[pos], scores.subjects[subjects[i]], float(top[i]))
        )
    return tuple(out)


def _cross_tabs(
    scores: OpenSetScores,
    probe_labels: dict[str, list[str]],
    subject_labels: dict[str, list[str]],
    columns: Sequence[str],
    thresholds: Sequence[float],
) -> tuple[CrossTab, ...]:
    """Who falsely matched whom, by group, where both sides carry the attribute."""
    top = scores.nonmated_top_scores
    top_subject = scores.nonmated_top_subjects
    out = []
    for column in columns:
        if column not in probe_labels or column not in subject_labels:
            continue
        probe = np.array(probe_labels[column], dtype=object)
        subject = np.array(subject_labels[column], dtype=object)
        searches = {g: int((probe == g).sum()) for g in sorted(set(probe.tolist()) - {""})}
        for t in thresholds:
            alerts: dict[str, dict[str, int]] = {g: {} for g in searches}
            for i in np.nonzero(top >= t)[0].tolist():
                pg, sg = probe[i], subject[top_subject[i]] or "unknown"
                if pg:
                    alerts[pg][sg] = alerts[pg].get(sg, 0) + 1
            out.append(CrossTab(column, float(t), searches, alerts))
    return tuple(out)


def open_set_report(
    split: OpenSetSplit,
    scores: OpenSetScores,
    *,
    mated_identities: Sequence[str],
    mated_labels: dict[str, list[str]],
    nonmated_identities: Sequence[str],
    nonmated_files: Sequence[str],
    nonmated_labels: dict[str, list[str]],
    subject_labels: dict[str, list[str]],
    columns: Sequence[str],
    nonmated_source: str,
    opts: StatsOptions,
) -> OpenSetReport:
    """TPIR, FPIR, rank-1, DET, groups, tests and watchlist-size projections.

    ``mated_*`` and ``nonmated_*`` are per search in the order the searches were
    scored (acquired or not); ``subject_labels`` per watchlist subject, in
    ``scores.subjects`` order.
    """
    sweep = opts.sweep
    m_ids = np.array(mated_identities, dtype=object)[scores.mated]
    n_ids = np.array(nonmated_identities, dtype=object)[scores.nonmated]
    hit = (scores.mate_ranks == 1)[:, None] & at_or_above(scores.mate_scores, sweep)
    wrong_alert = (scores.mate_ranks > 1)[:, None] & at_or_above(scores.mated_top_scores, sweep)
    top = scores.nonmated_top_scores
    false_alert = at_or_above(top, sweep)
    rank1 = scores.mate_ranks == 1
    r_lo, r_hi = (
        cluster_bootstrap_interval(rank1, m_ids, n_boot=opts.n_boot, seed=opts.seed)
        if rank1.size
        else (np.zeros(1), np.ones(1))
    )
    m_lab = {c: [v[i] for i in scores.mated.tolist()] for c, v in mated_labels.items()}
    n_lab = {c: [v[i] for i in scores.nonmated.tolist()] for c, v in nonmated_labels.items()}
    positives = np.where(scores.mate_ranks == 1, scores.mate_scores, -np.inf)
    det = det_curve(positives, top)
    finite = np.isfinite(det.thresholds)
    det = type(det)(det.thresholds[finite], det.false_positive[finite], det.false_negative[finite])
    exceed = ExceedanceTable(
        sweep, exceedance_counts(scores.nonmated_scores, sweep), len(scores.subjects)
    )
    report_t = np.array(opts.report_thresholds, dtype=np.float64)
    at_report = exceed.restricted(report_t)
    projections = []
    for size in (len(scores.subjects), *opts.watchlist_sizes):
        for model in ScalingModel:
            lo, hi = at_report.fpir_interval(size, model, clusters=n_ids, seed=opts.seed)
            projections.append(
                ScalingProjection(size, model, report_t, at_report.fpir(size, model), lo, hi)
            )
    return OpenSetReport(
        watchlist_size=len(scores.subjects),
        references_per_identity=split.references_per_identity,
        seed=split.seed,
        nonmated_share=split.nonmated_share,
        nonmated_source=nonmated_source,
        enrolment_failures=len(split.failed_enrolment),
        held_out=len(split.held_out),
        mated_searches=int(scores.mated.size),
        mated_unacquired=int(scores.mated_unacquired.size),
        mated_identities=len(set(m_ids.tolist())),
        nonmated_searches=int(scores.nonmated.size),
        nonmated_unacquired=int(scores.nonmated_unacquired.size),
        nonmated_identities=len(set(n_ids.tolist())),
        tpir=_curve(hit, m_ids, opts),
        fpir=_curve(false_alert, n_ids, opts),
        misidentification=_curve(wrong_alert, m_ids, opts),
        rank_one=RatePoint(int(rank1.sum()), int(rank1.size), float(r_lo[0]), float(r_hi[0])),
        det=det,
        tpir_by_group=_groups(Metric.TPIR, hit, m_lab, columns, m_ids, opts),
        fpir_by_group=_groups(Metric.FPIR, false_alert, n_lab, columns, n_ids, opts),
        highest_nonmated=_highest(scores, nonmated_files, nonmated_identities),
        alert_concentration=_concentration(scores, opts.report_thresholds),
        false_alert_groups=_cross_tabs(
            scores, n_lab, subject_labels, columns, opts.report_thresholds
        ),
        exceedance=exceed,
        scaling_check=validate_scaling(scores.nonmated_scores, sweep, seed=opts.seed),
        projections=tuple(projections),
        mate_histogram=Histogram.of(scores.mate_scores),
        nonmated_histogram=Histogram.of(top),
    )
