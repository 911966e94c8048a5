"""The report's cross-set screen: the highest cross-set scores, both photos side by side."""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

from openlfr.evaluation.html_format import table
from openlfr.evaluation.results import CrossSetScreen, ScreenedPair

_VERDICTS = {
    "same": "<b>same person</b>: left out of the non-mated searches",
    "different": "different people (checked, kept)",
    "": "<i>not reviewed</i>",
}


def _link(root: str, file: str, folder: Path | None) -> str:
    """Where the report finds a dataset photo: relative to its folder when it has one.

    Photos are linked, never embedded: the licensed data stays where it is, and
    the report shows them only where that data is present.
    """
    path = Path(root) / file
    if folder is not None:
        try:
            return Path(os.path.relpath(path.resolve(), folder.resolve())).as_posix()
        except ValueError:  # another drive (Windows): fall back to an absolute link
            pass
    return path.resolve().as_uri()


def _photo(root: str, file: str, folder: Path | None) -> str:
    if not file:
        return "–"
    src = escape(_link(root, file, folder), quote=True)
    return (
        f"<img src='{src}' alt='{escape(file, quote=True)}' loading='lazy' "
        "style='width:110px;height:auto;max-width:none'>"
    )


def _row(p: ScreenedPair, s: CrossSetScreen, folder: Path | None) -> list[str]:
    labels = ", ".join(f"{escape(k)} {escape(v)}" for k, v in p.labels.items() if v)
    return [
        f"{p.score:.3f}",
        _photo(s.nonmated_root, p.file, folder),
        _photo(s.watchlist_root, p.subject_file, folder),
        f"{escape(p.file)}<br><span class='muted'>{labels}</span>",
        escape(p.subject),
        _VERDICTS.get(p.verdict, escape(p.verdict)) + (f"<br>{escape(p.note)}" if p.note else ""),
    ]


def screen_section(s: CrossSetScreen, folder: Path | None) -> str:
    """The review list and what the review file changed."""
    if s.reviewed:
        stated = (
            f"<p><b>Reviewed exclusions applied:</b> <code>{escape(s.reviewed)}</code> "
            f"(SHA-256 <code>{escape((s.reviewed_sha256 or '')[:16])}…</code>): "
            f"{s.excluded:,} photo(s) of {escape(s.nonmated_source)} reviewed as showing a "
            f"watchlist person were left out of the non-mated searches; {s.kept_after_review:,} "
            "were checked and kept as different people"
            + (
                f"; {s.entries_not_in_run:,} entries name photos not in this run "
                "(excluded by request or absent)"
                if s.entries_not_in_run
                else ""
            )
            + ".</p>"
        )
    else:
        stated = (
            "<p><b>No review file was given</b> (<code>--reviewed</code>): every photo of "
            f"{escape(s.nonmated_source)} counts as a non-mated search, including any that "
            "show a watchlist person. Until the pairs below are reviewed, treat its FPIR as an "
            "upper bound and its group differences as unexplained.</p>"
        )
    rows = [_row(p, s, folder) for p in s.pairs]
    unreviewed = sum(1 for p in s.pairs if not p.verdict)
    return (
        f"<h3>Same-person screen: {escape(s.nonmated_source)} against the "
        f"{escape(s.watchlist_source)} watchlist</h3>"
        f"<p>The non-mated searches come from another dataset than the watchlist. Sets crawled "
        "from the web share people (public figures appear in both), so a high cross-set score "
        "is often the same person, not a false alert; and lookalike groups (infants, say) can "
        "draw many alerts onto one listed person. Below are the highest cross-set scores, each "
        "search photo beside the watchlist subject's reference photo, for a person to review "
        "by eye; verdicts go in a review file (identifiers only: file, subject, verdict, note) "
        "that later runs apply with <code>--reviewed</code>. The photos are linked from the "
        "dataset folders, not copied into this report: they show only where that data is.</p>"
        + stated
        + table(
            ["score", "search photo", "watchlist photo", "search file", "top subject", "verdict"],
            rows,
        )
        + (
            f"<p class='muted'>{unreviewed:,} of the {len(rows):,} pairs listed are not "
            "reviewed.</p>"
            if unreviewed
            else ""
        )
    )
