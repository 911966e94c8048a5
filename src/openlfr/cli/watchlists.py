"""CLI commands that list, show and remove watchlists (the server's, in its database)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from openlfr.cli.common import check_watchlist_name, emit_json, reject, services, stdout, work
from openlfr.storage.errors import DomainError
from openlfr.watchlist_records import named

watchlist_app = typer.Typer(
    help="List, show and remove watchlists (the newest version of each name).",
    no_args_is_help=True,
)


@watchlist_app.command("list")
def list_watchlists(json_out: bool = typer.Option(False, "--json")) -> None:
    """Every watchlist (newest version of each name) with its subject and template counts."""
    with work(services()) as ctx:
        rows = [
            {
                "name": wl.name,
                "version": wl.version,
                "state": str(wl.state),
                "subjects": len(wl.subjects),
                "templates": sum(len(s.images) for s in wl.subjects),
                "model": wl.model_id,
                "created_at": wl.created_at.isoformat(),
            }
            for wl in named.names(ctx)
        ]
    if json_out:
        emit_json({"watchlists": rows})
        return
    table = Table("name", "version", "state", "subjects", "templates", "model", "created")
    for row in rows:
        table.add_row(
            str(row["name"]),
            str(row["version"]),
            str(row["state"]),
            str(row["subjects"]),
            str(row["templates"]),
            str(row["model"]),
            str(row["created_at"])[:16].replace("T", " "),
        )
    stdout.print(table)


@watchlist_app.command("show")
def show(name: str, json_out: bool = typer.Option(False, "--json")) -> None:
    """A watchlist's subjects and the provenance of each photo (never the photos). Audited."""
    check_watchlist_name(name)
    try:
        with work(services()) as ctx:
            wl = named.require(ctx, name)
            header = {"name": wl.name, "version": wl.version, "state": str(wl.state)}
            model = wl.model_id
            subjects: list[dict[str, Any]] = [
                {
                    "subject": s.reference,
                    "category": s.category,
                    "expires_at": s.expires_at.isoformat(),
                    "templates": [
                        {
                            "source": i.source_name,
                            "image_source": i.image_source,
                            "sha256": i.sha256,
                            "inter_eye_px": round(i.inter_eye_px, 1),
                            "sharpness": round(i.sharpness, 1),
                            "yaw": round(i.yaw, 1),
                            "pitch": round(i.pitch, 1),
                            "enrolled_at": i.enrolled_at.isoformat(),
                        }
                        for i in s.images
                    ],
                }
                for s in named.read_subjects(ctx, wl)
            ]
    except DomainError as exc:
        reject(exc.message)
    if json_out:
        emit_json({**header, "model": model, "subjects": subjects})
        return
    stdout.print(
        f"[bold]{header['name']}[/] v{header['version']} ({header['state']})  model {model}  "
        f"{len(subjects)} subject(s)"
    )
    table = Table("subject", "category", "templates", "sources", "expires")
    for s in subjects:
        templates = s["templates"]
        sources = ", ".join(Path(str(t["source"])).name for t in templates)
        table.add_row(
            str(s["subject"]),
            str(s["category"]),
            str(len(templates)),
            sources,
            str(s["expires_at"])[:16].replace("T", " "),
        )
    stdout.print(table)


@watchlist_app.command("remove")
def remove(
    name: str,
    subject: str | None = typer.Option(None, help="Remove only this subject."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Purge a watchlist (every version: subjects, photos, templates), or delete one subject
    from its newest, open version. Audited; the purged versions keep only their counts."""
    check_watchlist_name(name)
    try:
        with work(services()) as ctx:
            if subject is None:
                versions, images = named.purge(
                    ctx, name, reason="removed with 'openlfr watchlist remove'"
                )
                removed = {
                    "watchlist": name,
                    "removed": "watchlist",
                    "versions": versions,
                    "images": images,
                }
            else:
                named.remove_subject(ctx, name, subject)
                removed = {"watchlist": name, "removed": "subject", "subject": subject}
    except DomainError as exc:
        reject(exc.message)
    if json_out:
        emit_json(removed)
    else:
        stdout.print(f"removed {removed['removed']} from {name}")
