"""CLI commands for 1:1 verification, enrolment and 1:N identification."""

from __future__ import annotations

from pathlib import Path

import typer

from openlfr.cli.common import emit_json, fail_usage, read_file, reject, services, stderr, stdout
from openlfr.services import Services
from openlfr.types import Face
from openlfr.watchlist import (
    EnrolmentRejected,
    ImageRejected,
    WatchlistModelMismatch,
    WatchlistNotFound,
)
from openlfr.watchlist import enrol as enrol_subject
from openlfr.watchlist.images import load_reference_image


def _probe_face(svc: Services, path: Path) -> tuple[Face, int]:
    """The largest face in an image file and how many faces it holds; exit 1 if none."""
    cfg = svc.settings.enrolment
    try:
        image = load_reference_image(
            read_file(path), max_bytes=cfg.max_bytes, max_pixels=cfg.max_pixels
        )
    except ImageRejected as exc:
        reject(f"{path}: {exc.message}")
    faces = svc.pack.analyse(image)
    if not faces:
        reject(f"{path}: no face found")
    return max(faces, key=lambda f: f.crop.quality.inter_eye_px), len(faces)


def verify(
    image_a: Path = typer.Argument(..., help="First photo."),
    image_b: Path = typer.Argument(..., help="Second photo."),
    threshold: float | None = typer.Option(
        None, help="Decision threshold (cosine); default matching.verify_threshold."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print JSON on stdout."),
) -> None:
    """Compare the main face of two photos (1:1): score and same-person decision."""
    svc = services()
    t = svc.settings.matching.verify_threshold if threshold is None else threshold
    face_a, n_a = _probe_face(svc, image_a)
    face_b, n_b = _probe_face(svc, image_b)
    score = float(face_a.embedding @ face_b.embedding)
    match = score >= t
    if json_out:
        emit_json(
            {
                "score": round(score, 6),
                "threshold": t,
                "match": match,
                "model": svc.pack.model_id,
                "faces_found": [n_a, n_b],
            }
        )
    else:
        verdict = "[green]match[/]" if match else "[yellow]no match[/]"
        stdout.print(f"score {score:.4f}  threshold {t:.4f}  → {verdict}")


def enrol(
    images: list[Path] = typer.Argument(..., help="Reference photos of the subject."),
    watchlist: str = typer.Option(
        ..., "--watchlist", "-w", help="Watchlist name (created if new)."
    ),
    subject: str = typer.Option(..., "--subject", "-s", help="Subject reference."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON on stdout."),
) -> None:
    """Add a subject's reference photos to a watchlist (all accepted, or nothing changes)."""
    svc = services()
    sources = [(str(p), read_file(p)) for p in images]
    try:
        report = enrol_subject(
            svc.watchlists,
            svc.quality_gate,
            watchlist_name=watchlist,
            subject_id=subject,
            model_id=svc.pack.model_id,
            dim=svc.pack.recogniser.dim,
            images=sources,
        )
    except EnrolmentRejected as exc:
        if json_out:
            emit_json(
                {
                    "enrolled": False,
                    "rejections": [
                        {"image": r.source, "reason": str(r.reason), "message": r.message}
                        for r in exc.rejections
                    ],
                }
            )
        for r in exc.rejections:
            stderr.print(f"[bold red]rejected:[/] {r.source}: {r.message} [{r.reason}]")
        stderr.print("nothing was enrolled")
        raise typer.Exit(1) from None
    except WatchlistModelMismatch as exc:
        reject(str(exc))
    except ValueError as exc:
        fail_usage(str(exc))
    if json_out:
        emit_json(
            {
                "enrolled": True,
                "watchlist": report.watchlist,
                "subject": report.subject_id,
                "templates_added": report.templates_added,
                "subject_templates": report.subject_templates,
                "created_watchlist": report.created_watchlist,
            }
        )
    else:
        stdout.print(
            f"enrolled {report.templates_added} image(s) for {report.subject_id} in "
            f"{report.watchlist} ({report.subject_templates} template(s) for this subject)"
        )


def identify(
    image: Path = typer.Argument(..., help="Photo to search with (its main face)."),
    watchlist: str = typer.Option(..., "--watchlist", "-w", help="Watchlist to search."),
    threshold: float | None = typer.Option(None, help="Report threshold; default from config."),
    top_k: int | None = typer.Option(None, "--top-k", min=1, help="Candidates to return."),
    all_candidates: bool = typer.Option(
        False, "--all", help="Return the top candidates even below the threshold."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print JSON on stdout."),
) -> None:
    """Search a watchlist with the main face of a photo (1:N): candidates best first."""
    svc = services()
    try:
        stored = svc.watchlists.load(watchlist)
    except WatchlistNotFound as exc:
        reject(str(exc))
    except ValueError as exc:
        fail_usage(str(exc))
    if stored.model_id != svc.pack.model_id:
        reject(
            f"watchlist {watchlist!r} holds {stored.model_id} templates but the configured "
            f"model is {svc.pack.model_id}"
        )
    t = svc.settings.matching.threshold if threshold is None else threshold
    k = top_k or svc.settings.matching.top_k
    face, n_faces = _probe_face(svc, image)
    result = stored.gallery().search(
        face.embedding[None, :], top_k=k, threshold=None if all_candidates else t
    )[0]
    candidates = [
        {"subject": c.subject_id, "score": round(c.score, 6), "rank": c.rank}
        for c in result.candidates
    ]
    if json_out:
        emit_json(
            {
                "watchlist": watchlist,
                "threshold": t,
                "faces_found": n_faces,
                "candidates": candidates,
            }
        )
    elif not candidates:
        stdout.print(f"no candidate at or above {t:.4f}")
    else:
        for c in result.candidates:
            mark = "" if c.score >= t else " (below threshold)"
            stdout.print(f"{c.rank:>3}. {c.subject_id}  {c.score:.4f}{mark}")
