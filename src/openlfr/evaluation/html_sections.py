"""The sections of the HTML report: 1:N open-set, watchlist size, 1:1 pairs, video clips."""

from __future__ import annotations

from html import escape

from openlfr.evaluation.html_format import (
    ci_text,
    figure,
    group_table,
    one_in,
    pct,
    point_text,
    rate_at,
    table,
)
from openlfr.evaluation.plots import group_plot_name
from openlfr.evaluation.results import EvaluationReport, OpenSetReport, VerificationReport
from openlfr.evaluation.scaling import DEFAULT_MODEL, ScalingModel
from openlfr.evaluation.video import VideoReport


def open_set_section(o: OpenSetReport, r: EvaluationReport, plots: dict[str, bytes]) -> str:
    t_list = r.report_thresholds
    big = {p.size: p for p in o.projections if p.model is DEFAULT_MODEL}
    sizes = [s for s in sorted(big) if s != o.watchlist_size]
    header = [
        "threshold",
        "TPIR",
        "FNIR",
        "FPIR",
        "FPIR as 1 in …",
        "mated false alert rate",
        *[f"FPIR at {s:,} (projected)" for s in sizes],
    ]
    rows = []
    for t in t_list:
        tp, fp = o.tpir.at(t), o.fpir.at(t)
        proj = []
        for s in sizes:
            p = big[s]
            i = int(min(range(p.thresholds.size), key=lambda j: abs(p.thresholds[j] - t)))
            proj.append(
                f"{pct(p.fpir[i], 2)} <span class='muted'>({ci_text(p.lo[i], p.hi[i], 2)})</span>"
            )
        rows.append(
            [
                f"<b>{t:.2f}</b>" if t == r.configured_threshold else f"{t:.2f}",
                point_text(tp),
                pct(1 - tp.rate),
                point_text(fp, 2),
                one_in(fp.rate),
                rate_at(o.misidentification, t, 2),
                *proj,
            ]
        )
    lost = o.mated_unacquired + o.nonmated_unacquired
    parts = [
        "<h2>1:N open-set identification</h2>",
        f"<p>The watchlist holds {o.watchlist_size:,} people, {o.references_per_identity} photo(s) "
        f"each, drawn from the data with seed {o.seed}. "
        f"<b>Mated searches</b> ({o.mated_searches:,} photos of {o.mated_identities:,} "
        "watchlist people) use their other photos; "
        f"<b>non-mated searches</b> ({o.nonmated_searches:,} photos of {o.nonmated_identities:,} "
        f"people from {escape(o.nonmated_source)}) use people who are not on it. "
        f"{lost:,} search photos had no detectable face. A search <b>alerts</b> when its best "
        "candidate scores at or above the threshold. TPIR counts a mated search as found only when "
        "the right person is the top candidate; the mated false alert rate counts mated searches "
        "whose top candidate is someone else and alerts.</p>",
        table(header, rows),
        f"<p>Rank-1 identification (closed set, no threshold): {point_text(o.rank_one)}.</p>",
        figure(
            "sweep_1toN.png",
            plots.get("sweep_1toN.png"),
            "TPIR (top) and FPIR (bottom, log scale) against the threshold, with 95% intervals.",
        ),
        figure(
            "det_1toN.png",
            plots.get("det_1toN.png"),
            "The trade-off: each point is one threshold; lower-left is better.",
        ),
        figure(
            "scores_1toN.png",
            plots.get("scores_1toN.png"),
            "Scores of mated searches (own subject) and non-mated searches (best subject).",
        ),
    ]
    if o.tpir_by_group or o.fpir_by_group:
        parts.append("<h2>Demographic differentials (1:N)</h2>")
        parts.append(
            "<p>For each group the rate is shown with its 95% interval. The p-value tests "
            "whether the groups' rates could be equal (small p: a real difference is likely); "
            "rows with p below the significance level are highlighted.</p>"
        )
        for g in (*o.fpir_by_group, *o.tpir_by_group):
            parts.append(group_table(g, t_list))
            name = group_plot_name(g)
            parts.append(
                figure(
                    name,
                    plots.get(name),
                    f"{g.metric.value} by {g.grouping} against the threshold.",
                )
            )
    if any(c.alerts for c in o.alert_concentration):
        parts.append(
            "<p><b>Which watchlist subjects drew the false alerts.</b> When a few subjects draw "
            "most of them, FPIR and its differences between groups depend on who is on the "
            "watchlist as much as on the model.</p>"
        )
        parts.append(
            table(
                ["threshold", "false alerts", "subjects alerted", "most alerted (count)"],
                [
                    [
                        f"{c.threshold:.2f}",
                        f"{c.alerts:,}",
                        f"{c.subjects_alerted:,}",
                        ", ".join(f"{escape(name)} ({n})" for name, n in c.top),
                    ]
                    for c in o.alert_concentration
                ],
            )
        )
    if o.highest_nonmated:
        parts.append(
            "<p><b>The highest-scoring non-mated searches.</b> Very high scores between people "
            "labelled as different are often one person filed under two names, or a photo whose "
            "labelled face is not the one found: check them before trusting the top of the FPIR "
            "curve.</p>"
        )
        parts.append(
            table(
                ["score", "search photo", "labelled as", "top watchlist subject"],
                [
                    [f"{a.score:.3f}", escape(a.file), escape(a.identity), escape(a.subject)]
                    for a in o.highest_nonmated
                ],
            )
        )
    for tab in o.false_alert_groups:
        if tab.threshold != r.configured_threshold:
            continue
        subject_groups = sorted({sg for row in tab.alerts.values() for sg in row})
        rows = [
            [escape(pg), f"{n:,}", *[f"{tab.alerts[pg].get(sg, 0):,}" for sg in subject_groups]]
            for pg, n in tab.searches.items()
        ]
        parts.append(
            f"<p><b>False alerts at {tab.threshold:.2f} by {escape(tab.grouping)}</b>: "
            "the searched person's group (rows) against the alerted subject's group (columns).</p>"
        )
        parts.append(table(["searched group", "searches", *subject_groups], rows))
    parts.append(scaling_section(o, r))
    parts.append(
        figure(
            "scaling_1toN.png",
            plots.get("scaling_1toN.png"),
            "Projected FPIR against watchlist size.",
        )
    )
    return "".join(parts)


def scaling_section(o: OpenSetReport, r: EvaluationReport) -> str:
    check = o.scaling_check
    rows = []
    for t in r.report_thresholds:
        i = int(min(range(check.thresholds.size), key=lambda j: abs(check.thresholds[j] - t)))
        rows.append(
            [
                f"{t:.2f}",
                pct(check.measured[i], 2),
                *[pct(check.predicted[m][i], 2) for m in ScalingModel],
            ]
        )
    return (
        "<h3>Larger watchlists</h3><p>FPIR grows with the number of people on the watchlist, "
        "because every extra person is another chance of a false match. Three models project it "
        "from the measured scores: <i>beta-binomial</i> (used for the projections above: each "
        "search has its own rate of resembling watchlist people, some faces resemble many people "
        "and most resemble nobody), <i>per-probe</i> (each search keeps exactly the rate it "
        "showed; exact up to the measured size, too low beyond it) and <i>independent "
        "comparisons</i> (one pooled rate, the textbook formula; never lower than the others). "
        "None can see rates below about one in the number of comparisons measured; far beyond "
        "the measured size they assume the extra people resemble the measured ones. "
        f"The check below gives each model only {check.from_size:,} of the "
        f"{check.to_size:,} people and asks it to predict the FPIR measured with all of them.</p>"
        + table(
            [
                "threshold",
                f"measured at {check.to_size:,}",
                *[f"{m.value} predicted from {check.from_size:,}" for m in ScalingModel],
            ],
            rows,
        )
    )


def verification_section(
    v: VerificationReport, r: EvaluationReport, plots: dict[str, bytes]
) -> str:
    verify = r.configured_verify_threshold
    rows = [
        [
            f"<b>{t:.2f}</b>" if t == verify else f"{t:.2f}",
            rate_at(v.fmr, t, 3),
            rate_at(v.fnmr, t, 2),
        ]
        for t in sorted({*r.report_thresholds, verify})
    ]
    folds = [
        [str(f.fold + 1), f"{f.threshold:.3f}", pct(f.accuracy, 2), f"{f.pairs:,}"] for f in v.folds
    ]
    points = [
        [f"{p.target_fmr:g}", f"{p.threshold:.3f}", pct(p.fmr, 3), pct(p.fnmr, 2)]
        for p in v.operating_points
    ]
    parts = [
        "<h2>1:1 verification (listed pairs)</h2>",
        f"<p>{v.pairs_scored:,} of {v.pairs_listed:,} listed pairs were scored ({v.genuine:,} same "
        f"person, {v.impostor:,} different people); {v.pairs_lost:,} had a photo with no "
        "detectable face. <b>FMR</b>: share of different-person pairs that score at or above "
        "the threshold; "
        "<b>FNMR</b>: share of same-person pairs below it.</p>",
        table(["threshold", "FMR", "FNMR"], rows),
        "<p>Per-fold accuracy (threshold chosen on the other folds, as LFW's protocol asks):</p>",
        table(["fold", "threshold", "accuracy", "pairs"], folds),
        "<p>Thresholds for target false match rates:</p>",
        table(["target FMR", "threshold", "FMR", "FNMR"], points),
        figure("det_1to1.png", plots.get("det_1to1.png"), "1:1 DET curve."),
        figure("sweep_1to1.png", plots.get("sweep_1to1.png"), "1:1 rates against the threshold."),
        figure("scores_1to1.png", plots.get("scores_1to1.png"), "1:1 score distributions."),
    ]
    for g in (*v.fnmr_by_group, *v.fmr_by_group_pair):
        parts.append(group_table(g, r.report_thresholds))
    return "".join(parts)


def video_section(vr: VideoReport, r: EvaluationReport) -> str:
    t = r.configured_threshold
    clips = [
        [
            escape(c.file),
            f"{c.frames_sampled:,}",
            f"{c.faces_found:,}",
            escape(", ".join(c.expected) or "nobody"),
            escape(", ".join(c.expected_elsewhere) or "–"),
            escape(", ".join(c.raised_at_configured) or "nobody"),
            escape(", ".join(f"{s} {v:.2f}" for s, v in c.best_scores[:3])),
        ]
        for c in vr.clips
    ]
    true_alerts, missed, false_alerts = vr.totals()
    rows = []
    for th in r.report_thresholds:
        i = int(min(range(vr.thresholds.size), key=lambda j: abs(vr.thresholds[j] - th)))
        rows.append([f"{th:.2f}", f"{true_alerts[i]:,}", f"{missed[i]:,}", f"{false_alerts[i]:,}"])
    skipped = "".join(
        f"<p class='muted'>skipped: {escape(p.file)} ({escape(p.reason)})</p>" for p in vr.problems
    )
    return (
        "<h2>Video clips</h2>"
        f"<p>Each clip was sampled {vr.per_second:g} times a second; every face in every sampled "
        f"frame was searched against a watchlist of {vr.watchlist_size:,} people built from "
        f"{escape(vr.watchlist_source)}. A person is raised when any face in any sampled frame "
        "scores at or above the threshold against them: the most permissive rule, an upper bound "
        "on what the live pipeline (which decides per tracked person) would raise.</p>"
        + table(
            [
                "clip",
                "frames",
                "faces",
                "appears (on watchlist)",
                "appears (not on it)",
                f"raised at {t:.2f}",
                "best scores",
            ],
            clips,
        )
        + table(["threshold", "true alerts", "missed", "false alerts"], rows)
        + skipped
    )
