"""A self-contained HTML report (plots inlined as base64 PNG) that a non-specialist can read."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path

from openlfr.evaluation.estimates import GroupRates, Metric
from openlfr.evaluation.html_format import (
    CSS,
    ci_text,
    group_table,
    one_in,
    pct,
    point_text,
    rate_at,
    table,
)
from openlfr.evaluation.html_review import screen_section
from openlfr.evaluation.html_sections import (
    open_set_section,
    verification_section,
    video_section,
)
from openlfr.evaluation.results import DatasetSummary, EvaluationReport
from openlfr.evaluation.scaling import DEFAULT_MODEL

__all__ = ["one_in", "pct", "refusals_line", "render_html"]


def refusals_line(d: DatasetSummary) -> str:
    """``"400 images read, 3 refused (reason ×3), 2 with no face found, 1 row skipped"``."""
    reasons: dict[str, int] = {}
    for _file, detail in d.unreadable_files:
        reasons[detail or "unreadable"] = reasons.get(detail or "unreadable", 0) + 1
    why = ", ".join(f"{k} ×{v:,}" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1]))
    rows = len(d.problems)
    return (
        f"{d.images:,} images listed, {d.unreadable:,} refused{f' ({why})' if why else ''}, "
        f"{d.no_face:,} with no face found; {rows:,} label row{'s' if rows != 1 else ''} skipped"
    )


def _headline(r: EvaluationReport) -> str:
    t = r.configured_threshold
    items = []
    o = r.open_set
    if o is not None:
        tp, fp = o.tpir.at(t), o.fpir.at(t)
        items.append(
            f"<li><b>Finding the people sought:</b> of {tp.n:,} searches with a photo of someone "
            f"on the {o.watchlist_size:,}-person watchlist, {pct(tp.rate)} put the right person at "
            f"the top with a score at or above {t:.2f} "
            f"(TPIR; 95% interval {ci_text(tp.lo, tp.hi)}).</li>"
        )
        items.append(
            f"<li><b>False alerts:</b> of {fp.n:,} searches with a photo of someone <i>not</i> on "
            f"the watchlist, {fp.k:,} raised an alert: FPIR {pct(fp.rate, 2)}, {one_in(fp.rate)} "
            f"(95% interval {ci_text(fp.lo, fp.hi, 2)}).</li>"
        )
        big = [p for p in o.projections if p.model is DEFAULT_MODEL and p.size > o.watchlist_size]
        for p in big[-1:]:
            i = int(min(range(p.thresholds.size), key=lambda j: abs(p.thresholds[j] - t)))
            items.append(
                f"<li><b>A {p.size:,}-person watchlist</b> would raise about "
                f"{pct(p.fpir[i], 2)} false alerts per non-mated search at {t:.2f} "
                f"({one_in(p.fpir[i])}; bootstrap interval {ci_text(p.lo[i], p.hi[i], 2)}; "
                "an extrapolation).</li>"
            )
        for c in o.alert_concentration:
            if c.threshold == t and c.top and c.alerts >= 5 and c.top[0][1] * 2 > c.alerts:
                name, n = c.top[0]
                items.append(
                    f"<li><b>{n} of the {c.alerts} false alerts</b> at {t:.2f} fell on one "
                    f"watchlist subject, {escape(name)}: FPIR and its group differences here "
                    "depend on that one person being listed (see which subjects drew the false "
                    "alerts, below).</li>"
                )
        # Every grouping, TPIR and FPIR alike: a differential left out of the summary
        # is one most readers never see.
        for g in (*o.tpir_by_group, *o.fpir_by_group):
            items.append(f"<li>{_differential_sentence(g, t)}</li>")
    v = r.verification
    vt = r.configured_verify_threshold
    if v is not None:
        items.append(
            f"<li><b>1:1 verification</b> of {v.pairs_scored:,} listed pairs: accuracy "
            f"{pct(v.mean_accuracy, 2)} ± {pct(v.sd_accuracy, 2)} over {len(v.folds)} folds "
            f"(threshold chosen on the other folds); equal error rate {pct(v.eer, 2)} at "
            f"{v.eer_threshold:.3f}. At the configured 1:1 threshold {vt:.2f}: "
            f"FMR {rate_at(v.fmr, vt, 2)}, FNMR {rate_at(v.fnmr, vt, 2)}.</li>"
        )
        for g in (*v.fnmr_by_group, *v.fmr_by_group_pair):
            items.append(f"<li>1:1 {_differential_sentence(g, vt)}</li>")
    return f"<div class='summary'><ul>{''.join(items)}</ul></div>"


_EVENTS = {
    Metric.FPIR: "alerts",
    Metric.FMR: "false matches",
    Metric.TPIR: "misses",
    Metric.FNMR: "misses",
    Metric.DETECTION: "failures",
}


def _ranges_text(g: GroupRates) -> str:
    """Where across the sweep the difference is significant, and on how many events."""
    test = g.test
    unit = _EVENTS.get(g.metric, "events")
    runs = test.range_support()
    if not runs:
        return " No threshold in the sweep shows a significant difference."
    parts = []
    for lo, hi, least in runs:
        span = f"{lo:.2f}" if lo == hi else f"{lo:.2f}–{hi:.2f}"
        if least < 0:
            parts.append(span)
        elif least >= test.min_support:
            parts.append(f"{span} (at least {least:,} {unit} at each threshold)")
        else:
            parts.append(
                f"{span} (as few as {least:,} {unit}: too few to rest a claim on, "
                f"under {test.min_support})"
            )
    onset = test.onset
    tail = (
        f" The highest threshold with a significant difference on at least "
        f"{test.min_support} {unit} is {onset:.2f}."
        if onset is not None
        else f" None of it rests on {test.min_support} or more {unit}."
    )
    return f" Across the sweep it is significant at {'; '.join(parts)}.{tail}"


def _rates_text(g: GroupRates, t: float) -> str:
    out = []
    for name, c in g.tested.items():
        p = c.at(t)
        out.append(
            f"{escape(name)} {pct(p.rate, 2 if g.metric is Metric.FPIR else 1)} "
            f"({p.k:,} of {p.n:,})"
        )
    return ", ".join(out)


def _gap_text(g: GroupRates, t: float, i: int) -> str:
    """For two groups, or the significant pairs of several, which is lower and by how much."""
    test = g.test
    pairs = [
        (a, b)
        for (a, b), adj in test.pairwise_p.items()
        if len(test.groups) == 2 or float(adj[i]) < test.alpha
    ]
    points = []
    for a, b in pairs:
        ra, rb = g.curves[a].at(t).rate, g.curves[b].at(t).rate
        low, high, diff = (a, b, rb - ra) if ra <= rb else (b, a, ra - rb)
        digits = 2 if g.metric is Metric.FPIR else 1
        points.append(
            f"{escape(g.metric.value)} for {escape(low)} is {100 * diff:.{digits}f} points "
            f"lower than for {escape(high)}"
        )
    return "; ".join(points)


def _differential_sentence(g: GroupRates, t: float) -> str:
    test = g.test
    small = ", ".join(f"{escape(n)} (n={g.curves[n].n:,})" for n in g.untested)
    small_text = (
        f" Too small to test (under {g.min_group} searches or {g.min_group // 3} people): {small}."
        if small
        else ""
    )
    head = f"<b>{escape(g.metric.value)} by {escape(g.grouping)}</b>"
    if len(test.groups) < 2:
        return f"{head}: fewer than two groups large enough to compare.{small_text}"
    i = int(min(range(test.thresholds.size), key=lambda j: abs(test.thresholds[j] - t)))
    p = float(test.omnibus_p[i])
    rates = _rates_text(g, t)
    if p < test.alpha:
        gap = _gap_text(g, t, i)
        verdict = (
            f"a <b>statistically significant difference</b> at {t:.2f}"
            f"{': ' + gap if gap else ''} ({rates}; p = {p:.3g}, {test.method.value})."
        )
    else:
        verdict = (
            f"no statistically significant difference at {t:.2f} "
            f"({rates}; p = {p:.3g}, {test.method.value})."
        )
    return f"{head}: {verdict}{_ranges_text(g)}{small_text}"


def _datasets(datasets: Sequence[DatasetSummary]) -> str:
    rows = []
    for d in datasets:
        det = d.detection.at(d.detection.thresholds[0])
        rows.append(
            [
                escape(d.name),
                escape(d.role),
                f"{d.images:,}",
                f"{d.identities:,}" if d.has_identities else "not labelled",
                f"{len(d.problems):,}",
                f"{d.no_face:,}",
                f"{d.unreadable:,}",
                f"{d.multiple_faces:,}",
                point_text(det, 2),
                f"{d.pad:g}",
            ]
        )
    parts = [
        table(
            [
                "dataset",
                "used for",
                "images",
                "identities",
                "rows skipped",
                "no face found",
                "refused (unreadable)",
                "several faces",
                "detection rate",
                "padding",
            ],
            rows,
        )
    ]
    for d in datasets:
        parts.append(f"<p class='muted'>{escape(d.name)}: {escape(refusals_line(d))}.</p>")
        if d.problems:
            reasons: dict[str, int] = {}
            for p in d.problems:
                reasons[p.reason] = reasons.get(p.reason, 0) + 1
            listed = ", ".join(f"{escape(k)} ×{v}" for k, v in sorted(reasons.items()))
            parts.append(f"<p class='muted'>{escape(d.name)}: skipped rows: {listed}.</p>")
        if d.aliases:
            merged = ", ".join(f"{escape(a)} → {escape(b)}" for a, b in sorted(d.aliases.items()))
            parts.append(
                f"<p>{escape(d.name)}: identities merged as known label errors "
                f"(the same person under two names): {merged}.</p>"
            )
        for column, counts in d.attribute_counts.items():
            if len(counts) > 20:
                continue  # a raw number (age in years): its bands are listed instead
            parts.append(
                f"<p class='muted'>{escape(d.name)} by {escape(column)}: "
                + ", ".join(f"{escape(k)} {v:,}" for k, v in counts.items())
                + "</p>"
            )
        for g in d.detection_by_group:
            parts.append(
                group_table(
                    g, list(g.test.thresholds), "detection rate by", first="detector score ≥"
                )
            )
    return "".join(parts)


def render_html(
    report: EvaluationReport,
    plots: dict[str, bytes],
    caveats: Sequence[str],
    folder: Path | None = None,
) -> str:
    """The whole report as one HTML document (``folder``: where it goes, for photo links)."""
    r = report
    names = ", ".join(d.name for d in r.datasets)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>openlfr evaluation: {escape(names)}</title><style>{CSS}</style></head><body>",
        f"<h1>Face recognition evaluation: {escape(names)}</h1>",
        f"<p class='muted'>{escape(r.created_at)} · openlfr {escape(r.openlfr_version)} · models "
        f"<code>{escape(r.model.pack)}</code> ({escape(r.model.model_id)}) · detector input width "
        f"{r.model.detector_input_width}, score ≥ {r.model.detector_score_threshold:g} · "
        f"configured threshold <b>{r.configured_threshold:.2f}</b></p>",
        "<h2>In short</h2>",
        _headline(r),
        "<h2>What was measured</h2>",
        "<p>Every photo was passed through the same face detector and recogniser the live system "
        "uses. Each comparison gives a score (cosine similarity, −1 to 1); a score at or above the "
        "threshold counts as a match, and a tie with the threshold counts as a match. "
        f"Intervals are 95% ({escape(r.interval_method)} for independent searches; "
        "a bootstrap over people where one person has several photos).</p>",
        _datasets(r.datasets),
    ]
    if r.open_set is not None:
        parts.append(open_set_section(r.open_set, r, plots))
        if r.open_set.cross_set is not None:
            parts.append(screen_section(r.open_set.cross_set, folder))
    if r.verification is not None:
        parts.append(verification_section(r.verification, r, plots))
    if r.video is not None:
        parts.append(video_section(r.video, r))
    parts.append(
        "<h2>Caveats</h2><ul class='caveats'>"
        + "".join(f"<li>{escape(c)}</li>" for c in caveats)
        + "</ul>"
    )
    timing = ", ".join(f"{escape(k)} {v:g}" for k, v in r.timings.items())
    parts.append(
        "<h2>How to reproduce</h2>"
        f"<p><code>{escape(r.command) or 'openlfr evaluate …'}</code></p>"
        f"<p class='muted'>Timings (s): {timing}. Embedding cache: {r.cache_hits:,} hits, "
        f"{r.cache_misses:,} misses. All numbers are in metrics.json next to this file.</p>"
    )
    parts.append("</body></html>")
    return "".join(parts)
