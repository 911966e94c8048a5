"""Matplotlib figures of an evaluation (DET curves, threshold sweeps, groups), as PNG bytes."""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from openlfr.evaluation.estimates import GroupRates, RateCurve
from openlfr.evaluation.rates import DetCurve
from openlfr.evaluation.results import Histogram, OpenSetReport, VerificationReport
from openlfr.evaluation.scaling import DEFAULT_MODEL

# Small, legible, and well under 200 KB each at this size.
_SIZE = (7.5, 4.6)
_DPI = 90
_FLOOR = 1e-5  # log axes cannot show 0; rates of 0 are drawn at this floor


def _figure(rows: int = 1, height: float = 1.0) -> tuple[Figure, list[Axes]]:
    # Figure objects, not pyplot: no global state, no GUI backend, safe in any thread.
    fig = Figure(figsize=(_SIZE[0], _SIZE[1] * height))
    axes = fig.subplots(rows, 1, sharex=rows > 1, squeeze=False)
    return fig, [a for a in axes[:, 0]]


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()


def _floor(values: npt.ArrayLike) -> np.ndarray:
    return np.maximum(np.asarray(values, dtype=np.float64), _FLOOR)


def _mark_threshold(ax: Axes, threshold: float) -> None:
    ax.axvline(threshold, color="0.35", linestyle="--", linewidth=1)
    ax.annotate(
        f"configured {threshold:.2f}",
        (threshold, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(3, -12),
        textcoords="offset points",
        fontsize=8,
        color="0.3",
    )


def det_plot(
    curve: DetCurve, title: str, fp_name: str, fn_name: str, marks: list[tuple[float, str]]
) -> bytes:
    """DET curve on log axes, with points marked at the given thresholds."""
    fig, (ax,) = _figure()
    ax.plot(_floor(curve.false_positive), _floor(curve.false_negative), color="C0", linewidth=1.8)
    for threshold, label in marks:
        if curve.thresholds.size == 0:
            break
        i = min(int(np.searchsorted(curve.thresholds, threshold)), curve.thresholds.size - 1)
        x, y = _floor(curve.false_positive[i]), _floor(curve.false_negative[i])
        ax.plot([x], [y], "o", color="C3")
        ax.annotate(
            label, (float(x), float(y)), xytext=(6, 4), textcoords="offset points", fontsize=8
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(_FLOOR, 1)
    ax.set_ylim(_FLOOR * 10, 1)
    ax.set_xlabel(f"{fp_name} (log scale; 0 drawn at {_FLOOR:g})")
    ax.set_ylabel(f"{fn_name} (log scale)")
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    return _png(fig)


def _band(ax: Axes, curve: RateCurve, label: str, color: str, log: bool) -> None:
    f = _floor if log else np.asarray
    ax.plot(curve.thresholds, f(curve.rate), color=color, label=label, linewidth=1.6)
    ax.fill_between(
        curve.thresholds, f(curve.lo), f(curve.hi), color=color, alpha=0.18, linewidth=0
    )


def sweep_plot(
    positive: RateCurve,
    negative: RateCurve,
    pos_name: str,
    neg_name: str,
    title: str,
    configured: float,
) -> bytes:
    """Two panels against the threshold: the hit rate (linear) and the false rate (log)."""
    fig, (top, bottom) = _figure(2, 1.25)
    _band(top, positive, pos_name, "C0", log=False)
    top.set_ylabel(pos_name)
    top.set_ylim(0, 1.02)
    top.set_title(title)
    _band(bottom, negative, neg_name, "C3", log=True)
    bottom.set_yscale("log")
    bottom.set_ylim(_FLOOR, 1.5)
    bottom.set_ylabel(f"{neg_name} (log)")
    bottom.set_xlabel("threshold (cosine similarity; at or above = alert)")
    for ax in (top, bottom):
        _mark_threshold(ax, configured)
        ax.set_xlim(0.2, 0.9)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(loc="lower left" if ax is top else "upper right", fontsize=8)
    return _png(fig)


# Group colours: the tab10 cycle without its grey, which marks significance.
_GROUP_COLOURS = ("C0", "C1", "C2", "C3", "C4", "C5", "C6", "C8", "C9")
_SIGNIFICANT = "0.80"  # grey band: significant and resting on enough events
_THIN = "0.93"  # paler band: significant on too few events to rest a claim on


def group_plot(groups: GroupRates, configured: float, log: bool) -> bytes:
    """One curve per tested group with its interval; grey where the groups differ significantly.

    Groups too small to test are not drawn (a wide band from three searches reads
    as a finding); the title names them.
    """
    fig, (ax,) = _figure()
    for i, (name, curve) in enumerate(groups.tested.items()):
        colour = _GROUP_COLOURS[i % len(_GROUP_COLOURS)]
        _band(ax, curve, f"{name} (n={curve.n:,})", colour, log)
    test = groups.test
    supported = test.supported
    for t, sig, ok in zip(test.thresholds, test.significant, supported, strict=True):
        if sig:
            ax.axvspan(
                t - 0.005, t + 0.005, color=_SIGNIFICANT if ok else _THIN, zorder=0, linewidth=0
            )
    if log:
        ax.set_yscale("log")
        ax.set_ylim(_FLOOR, 1.5)
    else:
        ax.set_ylim(0, 1.02)
    _mark_threshold(ax, configured)
    ax.set_xlim(0.2, 0.9)
    onset = test.onset
    note = f"grey: significant (p < {test.alpha:g}) on ≥ {test.min_support} events, pale: on fewer"
    note += f"; highest such threshold {onset:.2f}" if onset is not None else "; none supported"
    if groups.untested:
        small = ", ".join(f"{g} n={groups.curves[g].n}" for g in groups.untested)
        note += f"\nnot drawn, too small to test: {small}"
    ax.set_title(f"{groups.metric.value} by {groups.grouping}\n{note}", fontsize=9)
    ax.set_xlabel("threshold")
    ax.set_ylabel(groups.metric.value + (" (log)" if log else ""))
    ax.grid(True, which="major", alpha=0.3)
    if groups.tested:
        ax.legend(fontsize=7, ncol=2 if len(groups.tested) > 5 else 1)
    return _png(fig)


def histogram_plot(
    positive: Histogram,
    negative: Histogram,
    pos_name: str,
    neg_name: str,
    title: str,
    configured: float,
) -> bytes:
    """Score distributions of the two kinds of comparison (each scaled to its own total)."""
    fig, (ax,) = _figure()
    for hist, name, color in ((positive, pos_name, "C0"), (negative, neg_name, "C3")):
        total = max(int(hist.counts.sum()), 1)
        centres = (hist.edges[:-1] + hist.edges[1:]) / 2
        ax.bar(
            centres,
            hist.counts / total,
            width=np.diff(hist.edges),
            color=color,
            alpha=0.55,
            label=f"{name} (n={int(hist.counts.sum())})",
        )
    _mark_threshold(ax, configured)
    ax.set_xlabel("score (cosine similarity)")
    ax.set_ylabel("share of comparisons")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    return _png(fig)


def scaling_plot(report: OpenSetReport, thresholds: list[float]) -> bytes:
    """Projected FPIR against watchlist size (default scaling model) at a few thresholds."""
    fig, (ax,) = _figure()
    table = report.exceedance
    sizes = np.unique(np.logspace(0, 5, 60).astype(int))
    for i, t in enumerate(thresholds):
        col = table.restricted([t])
        values = [float(col.fpir(int(n), DEFAULT_MODEL)[0]) for n in sizes]
        ax.plot(sizes, _floor(values), color=f"C{i}", label=f"threshold {t:.2f}")
    ax.axvline(report.watchlist_size, color="0.35", linestyle="--", linewidth=1)
    ax.annotate(
        "measured size",
        (report.watchlist_size, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(3, -12),
        textcoords="offset points",
        fontsize=8,
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(_FLOOR, 1.5)
    ax.set_xlabel("watchlist size (subjects)")
    ax.set_ylabel("FPIR (log)")
    ax.set_title(
        f"FPIR projected to other watchlist sizes ({DEFAULT_MODEL.value} model; "
        "beyond the line = extrapolated)",
        fontsize=10,
    )
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    return _png(fig)


def verification_plots(v: VerificationReport, configured: float) -> dict[str, bytes]:
    """The 1:1 figures; ``configured`` is the configured 1:1 (verify) threshold."""
    marks = [(configured, f"configured {configured:.2f}")]
    if np.isfinite(v.eer_threshold):
        marks.append((v.eer_threshold, f"EER {v.eer:.3%}"))
    return {
        "det_1to1.png": det_plot(v.det, "1:1 verification DET", "FMR", "FNMR", marks),
        "sweep_1to1.png": sweep_plot(
            _complement(v.fnmr),
            v.fmr,
            "1 − FNMR",
            "FMR",
            "1:1 rates against the threshold",
            configured,
        ),
        "scores_1to1.png": histogram_plot(
            v.genuine_histogram,
            v.impostor_histogram,
            "same person",
            "different people",
            "1:1 score distributions",
            configured,
        ),
    }


def _complement(curve: RateCurve) -> RateCurve:
    return RateCurve(
        curve.thresholds, curve.n - curve.k, curve.n, 1 - curve.hi, 1 - curve.lo, curve.interval
    )


def open_set_plots(
    o: OpenSetReport, configured: float, report_thresholds: tuple[float, ...]
) -> dict[str, bytes]:
    marks = [(configured, f"configured {configured:.2f}")]
    plots = {
        "det_1toN.png": det_plot(o.det, "1:N open-set DET", "FPIR", "FNIR (rank 1)", marks),
        "sweep_1toN.png": sweep_plot(
            o.tpir, o.fpir, "TPIR", "FPIR", "1:N rates against the threshold", configured
        ),
        "scores_1toN.png": histogram_plot(
            o.mate_histogram,
            o.nonmated_histogram,
            "mated: own subject's score",
            "non-mated: best score",
            "1:N score distributions",
            configured,
        ),
        "scaling_1toN.png": scaling_plot(
            o, [t for t in report_thresholds if t in (0.4, 0.5, 0.6, 0.7)] or [configured]
        ),
    }
    for g in o.tpir_by_group:
        plots[group_plot_name(g)] = group_plot(g, configured, log=False)
    for g in o.fpir_by_group:
        plots[group_plot_name(g)] = group_plot(g, configured, log=True)
    return plots


def group_plot_name(g: GroupRates) -> str:
    """File name of a per-group figure, e.g. ``fpir_by_sex_x_ethnicity.png``."""
    slug = "".join(c if c.isalnum() else "_" for c in g.grouping.replace("×", "_x_"))
    return f"{g.metric.name.lower()}_by_{slug}.png"
