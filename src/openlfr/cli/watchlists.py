"""CLI commands that list, show and remove stored watchlists."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from openlfr.cli.common import emit_json, fail_usage, reject, services, stdout
from openlfr.watchlist import Watchlist, WatchlistNotFound

watchlist_app = typer.Typer(help="List, show and remove watchlists.", no_args_is_help=True)


def _load(name: str) -> Watchlist:
    try:
        return services().watchlists.load(name)
    except WatchlistNotFound as exc:
        reject(str(exc))
    except ValueError as exc:
        fail_usage(str(exc))


@watchlist_app.command("list")
def list_watchlists(json_out: bool = typer.Option(False, "--json")) -> None:
    """Every stored watchlist with its subject and template counts."""
    svc = services()
    stored = [svc.watchlists.load(name) for name in svc.watchlists.names()]
    if json_out:
        emit_json(
            {
                "watchlists": [
                    {
                        "name": wl.name,
                        "subjects": len(wl.subjects),
                        "templates": wl.template_count,
                        "model": wl.model_id,
                        "created_at": wl.created_at.isoformat(),
                    }
                    for wl in stored
                ]
            }
        )
        return
    table = Table("name", "subjects", "templates", "model", "created")
    for wl in stored:
        table.add_row(
            wl.name,
            str(len(wl.subjects)),
            str(wl.template_count),
            wl.model_id,
            wl.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    stdout.print(table)


@watchlist_app.command("show")
def show(name: str, json_out: bool = typer.Option(False, "--json")) -> None:
    """A watchlist's subjects and the provenance of each template (never the images)."""
    wl = _load(name)
    subjects = [
        {
            "subject": s.subject_id,
            "templates": [
                {
                    "source": t.source_name,
                    "sha256": t.source_sha256,
                    "inter_eye_px": round(t.quality.inter_eye_px, 1),
                    "sharpness": round(t.quality.sharpness, 1),
                    "yaw": round(t.quality.yaw, 1),
                    "pitch": round(t.quality.pitch, 1),
                    "enrolled_at": t.enrolled_at.isoformat(),
                }
                for t in s.templates
            ],
        }
        for s in wl.subjects
    ]
    if json_out:
        emit_json({"name": wl.name, "model": wl.model_id, "subjects": subjects})
        return
    stdout.print(f"[bold]{wl.name}[/]  model {wl.model_id}  {len(wl.subjects)} subject(s)")
    table = Table("subject", "templates", "sources")
    for subject in wl.subjects:
        sources = ", ".join(Path(t.source_name).name for t in subject.templates)
        table.add_row(subject.subject_id, str(len(subject.templates)), sources)
    stdout.print(table)


@watchlist_app.command("remove")
def remove(
    name: str,
    subject: str | None = typer.Option(None, help="Remove only this subject."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Delete a whole watchlist and its templates, or one subject from it."""
    svc = services()
    wl = _load(name)
    if subject is None:
        svc.watchlists.delete(name)
        removed = {"watchlist": name, "removed": "watchlist", "subjects": len(wl.subjects)}
    else:
        if wl.subject(subject) is None:
            reject(f"watchlist {name!r} has no subject {subject!r}")
        svc.watchlists.save(wl.without_subject(subject))
        removed = {"watchlist": name, "removed": "subject", "subject": subject}
    if json_out:
        emit_json(removed)
    else:
        stdout.print(f"removed {removed['removed']} from {name}")
