"""A self-contained HTML report (plots inlined as base64 PNG) that a non-specialist can read."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from openlfr.evaluation.estimates import GroupRates
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
from openlfr.evaluation.html_sections import (
    open_set_section,
    verification_section,
    video_section,
)
from openlfr.evaluation.results import DatasetSummary, EvaluationReport
from openlfr.evaluation.scaling import DEFAULT_MODEL

__all__ = ["one_in", "pct", "render_html"]


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
        for g in o.fpir_by_group:
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
    return f"<div class='summary'><ul>{''.join(items)}</ul></div>"


def _differential_sentence(g: GroupRates, t: float) -> str:
    test = g.test
    if len(test.groups) < 2:
        return (
            f"{escape(g.metric.value)} by {escape(g.grouping)}: "
            "fewer than two groups, nothing to compare."
        )
    i = int(min(range(test.thresholds.size), key=lambda j: abs(test.thresholds[j] - t)))
    p = float(test.omnibus_p[i])
    verdict = (
        "a <b>statistically significant</b> difference"
        if p < test.alpha
        else "no statistically significant difference"
    )
    ranges = ", ".join(
        f"{a:.2f}" if a == b else f"{a:.2f}–{b:.2f}" for a, b in test.significant_ranges
    )
    tail = (
        f" Across the sweep, the difference is significant at {ranges}."
        if ranges
        else " No threshold in the sweep shows a significant difference."
    )
    return (
        f"<b>{escape(g.metric.value)} by {escape(g.grouping)}</b> at {t:.2f}: {verdict} "
        f"between {', '.join(escape(x) for x in test.groups)} "
        f"(p = {p:.3g}, {test.method.value}).{tail}"
    )


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
                "unreadable",
                "several faces",
                "detection rate",
                "padding",
            ],
            rows,
        )
    ]
    for d in datasets:
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


def render_html(report: EvaluationReport, plots: dict[str, bytes], caveats: Sequence[str]) -> str:
    """The whole report as one HTML document."""
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
