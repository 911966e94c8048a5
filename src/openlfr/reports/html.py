"""Printable HTML for deployment records and transparency reports (self-contained pages).

A page carries its style inline and its charts as base64 PNG, so it can be
saved, printed or published as one file. :func:`style_csp` gives the
Content-Security-Policy that allows exactly that style when a server sends it.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from openlfr.reports.formats import OUTCOME_LABELS, count_text, hours_text, rate_text
from openlfr.reports.record import PublishedRecord


def _when(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


env = Environment(
    loader=PackageLoader("openlfr.reports", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters.update(when=_when, hours=hours_text, rate=rate_text, number=count_text)

PRINT_CSS = (resources.files("openlfr.reports") / "templates" / "print.css").read_text("utf-8")


def style_csp() -> str:
    """A Content-Security-Policy for these pages: their inline style and data: images only."""
    digest = base64.b64encode(hashlib.sha256(PRINT_CSS.encode()).digest()).decode()
    return (
        f"default-src 'none'; style-src 'sha256-{digest}'; img-src data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def render_page(template: str, **context: Any) -> str:
    return env.get_template(template).render(
        css=Markup(PRINT_CSS), outcome_labels=OUTCOME_LABELS, **context
    )


def record_page(record: PublishedRecord) -> str:
    """The deployment record as a standalone, printable page."""
    return render_page("record.html", r=record)


def record_body(record: PublishedRecord) -> Markup:
    """The record's sections without a page around them (the console embeds them)."""
    return Markup(render_page("_record_body.html", r=record))
