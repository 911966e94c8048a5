"""Plain-language limits of an evaluation's numbers, derived from what it actually measured."""

from __future__ import annotations

import numpy as np

from openlfr.evaluation.results import EvaluationReport
from openlfr.evaluation.scaling import DEFAULT_MODEL


def caveats_for(report: EvaluationReport) -> list[str]:
    """The caveats every reader of this report should see, most important first."""
    out = [
        "Photos are not live video. Street cameras see faces smaller, blurred, turned and "
        "badly lit; rates measured on photos are a best case for the same threshold.",
        "A public benchmark whose people are in the models' training data (LFW is in most) "
        "gives optimistic numbers. Use it to compare settings and models, not as proof of "
        "field accuracy.",
        "Rates are per search (one photo). A live deployment decides per tracked person, "
        "often from several looks, which changes both rates.",
    ]
    t = report.configured_threshold
    o = report.open_set
    if o is not None:
        fpir = o.fpir.at(t)
        if fpir.k == 0 and fpir.n:
            out.append(
                f"No non-mated search raised a false alert at the configured threshold {t:.2f}; "
                f"with {fpir.n:,} searches the data can only show FPIR below "
                f"{fpir.hi:.2%} (95% upper bound), not that it is zero."
            )
        if o.mated_unacquired or o.nonmated_unacquired:
            out.append(
                f"{o.mated_unacquired:,} mated and {o.nonmated_unacquired:,} non-mated photos had "
                "no detectable face and are left out of TPIR and FPIR (reported separately as "
                "failures to acquire)."
            )
        check = o.scaling_check
        i = int(np.argmin(np.abs(check.thresholds - t)))
        measured = check.measured[i]
        predicted = check.predicted[DEFAULT_MODEL][i]
        if measured > 0:
            out.append(
                f"Watchlist-size projections are extrapolations. Checked on this data, the "
                f"{DEFAULT_MODEL.value} model predicted FPIR {predicted:.2%} at "
                f"{check.to_size:,} subjects from {check.from_size:,}, against {measured:.2%} "
                f"measured at threshold {t:.2f}."
            )
        else:
            out.append(
                "Watchlist-size projections are extrapolations; at the configured threshold "
                "there were too few false alerts to check them on this data."
            )
    groups = []
    if o is not None:
        groups += list(o.fpir_by_group) + list(o.tpir_by_group)
    if report.verification is not None:
        groups += list(report.verification.fnmr_by_group)
    if groups:
        smallest = min((c.n for g in groups for c in g.curves.values()), default=0)
        out.append(
            "No significant differential is not proof of equal rates: with small groups (the "
            f"smallest here has {smallest:,} searches) only large differences can be detected. "
            "Thresholds are tested one by one without correction across thresholds."
        )
    if any(not d.has_identities for d in report.datasets):
        out.append(
            "A dataset without identity labels is treated as one photo per person; repeated "
            "people would make its intervals too narrow. Its demographic labels may be noisy."
        )
    out.extend(report.caveats)
    return out
