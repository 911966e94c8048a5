"""Small HTML building blocks for the evaluation report: rates, intervals, tables, figures."""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable, Sequence
from html import escape

from openlfr.evaluation.estimates import GroupRates, RateCurve, RatePoint

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1000px;
margin:2em auto;padding:0 1em;color:#1d2329;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:2px solid #dde3ea;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.8em 0;font-size:.92em}
th,td{border:1px solid #cfd6de;padding:.3em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#eef2f6}
.summary{background:#f3f8ee;border:1px solid #b9d3a3;padding:.6em 1.2em;border-radius:6px}
.sig{background:#d9d9d9}.thin{background:#f0f0f0}.muted{color:#667}.caveats li{margin:.3em 0}
figure{margin:1em 0}figcaption{font-size:.9em;color:#445}img{max-width:100%}
code{background:#eef2f6;padding:0 .25em}
"""


def pct(x: float, digits: int = 1) -> str:
    """``0.8912`` → ``"89.1%"``; NaN → ``"–"``."""
    return "–" if not math.isfinite(x) else f"{100 * x:.{digits}f}%"


def one_in(x: float) -> str:
    """A small rate as "1 in N" (``0`` → ``"none"``)."""
    if not math.isfinite(x):
        return "–"
    if x <= 0:
        return "none"
    return f"1 in {1 / x:,.0f}"


def ci_text(lo: float, hi: float, digits: int = 1) -> str:
    return f"{pct(lo, digits)}–{pct(hi, digits)}"


def point_text(p: RatePoint, digits: int = 1) -> str:
    return f"{pct(p.rate, digits)} <span class='muted'>({ci_text(p.lo, p.hi, digits)})</span>"


def table(header: Sequence[str], rows: Iterable[Sequence[str]], classes: Sequence[str] = ()) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cls = f" class='{classes[i]}'" if i < len(classes) and classes[i] else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def figure(name: str, png: bytes | None, caption: str) -> str:
    if png is None:
        return ""
    data = base64.b64encode(png).decode()
    return (
        f"<figure><img alt='{escape(caption)}' src='data:image/png;base64,{data}'>"
        f"<figcaption>{escape(caption)} <span class='muted'>({escape(name)})</span>"
        "</figcaption></figure>"
    )


def rate_at(curve: RateCurve, t: float, digits: int = 1) -> str:
    return point_text(curve.at(t), digits)


def group_table(
    g: GroupRates, thresholds: Sequence[float], title: str = "", first: str = "threshold"
) -> str:
    test = g.test
    header = [
        first,
        *[
            f"{name} (n={c.n:,}{', too small to test' if name in g.untested else ''})"
            for name, c in g.curves.items()
        ],
        "p-value",
        "support",
    ]
    rows, classes = [], []
    for t in thresholds:
        i = int(min(range(test.thresholds.size), key=lambda j: abs(test.thresholds[j] - t)))
        p = float(test.omnibus_p[i])
        support = int(test.support[i]) if test.support is not None else -1
        thin = p < test.alpha and 0 <= support < test.min_support
        rows.append(
            [
                f"{t:.2f}",
                *[rate_at(c, t, 2) for c in g.curves.values()],
                f"{p:.3g}" + (" (too few events)" if thin else ""),
                f"{support:,}" if support >= 0 else "–",
            ]
        )
        classes.append("thin" if thin else "sig" if p < test.alpha else "")
    caption = (
        f"<p><b>{escape(title or g.metric.value + ' by')} {escape(g.grouping)}</b> "
        f"<span class='muted'>test: {test.method.value}"
        f"{f', {test.resamples:,} permutations' if test.resamples else ''}; "
        f"highlighted rows: p &lt; {test.alpha:g} on at least {test.min_support} events, "
        "pale rows: p below it on fewer"
        f"{f'; {g.unknown:,} searches with unknown group left out' if g.unknown else ''}</span></p>"
    )
    return caption + table(header, rows, classes)
