"""CLI commands for 1:1 verification, enrolment and 1:N identification."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import Field as PydanticField
from pydantic import TypeAdapter, ValidationError

from openlfr.cli.common import (
    check_watchlist_name,
    emit_json,
    fail_usage,
    read_file,
    reject,
    services,
    stderr,
    stdout,
    work,
)
from openlfr.services import Services
from openlfr.storage.errors import DomainError
from openlfr.types import Face
from openlfr.watchlist import ImageRejected
from openlfr.watchlist.images import load_reference_image
from openlfr.watchlist_records import named
from openlfr.watchlist_records.enrolment import EnrolmentRefused
from openlfr.watchlist_records.models import REFERENCE_PATTERN
from openlfr.watchlist_records.service import SubjectDetails

_REFERENCE = TypeAdapter(Annotated[str, PydanticField(pattern=REFERENCE_PATTERN)])


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


def _check_names(watchlist: str, subject: str) -> None:
    check_watchlist_name(watchlist)
    try:
        _REFERENCE.validate_python(subject)
    except ValidationError:
        fail_usage(
            f"subject reference {subject!r} is not valid: use 1–64 letters, digits, '.', '_', "
            "'/' or '-', starting with a letter or digit"
        )


def enrol(
    images: list[Path] = typer.Argument(..., help="Reference photos of the subject."),
    watchlist: str = typer.Option(
        ..., "--watchlist", "-w", help="Watchlist name (created if new)."
    ),
    subject: str = typer.Option(..., "--subject", "-s", help="Subject reference."),
    category: str = typer.Option(
        ...,
        "--category",
        "-c",
        help="Why the subject is sought: one of governance.offence_categories.",
    ),
    image_source: str = typer.Option(
        "local file", "--image-source", help="Where the photos come from, e.g. 'custody'."
    ),
    name: str | None = typer.Option(None, "--name", help="The subject's name, if recorded."),
    notes: str = typer.Option("", "--notes", help="Notes kept with the subject."),
    expires: datetime | None = typer.Option(
        None,
        "--expires",
        help="When the authority to seek the subject ends (ISO date and time, UTC); "
        "default governance.subject_default_expiry_days from now.",
    ),
    json_out: bool = typer.Option(False, "--json", help="Print JSON on stdout."),
) -> None:
    """Add a subject's reference photos to a watchlist (all accepted, or nothing changes).

    The watchlist is the newest version of that name in the database the server uses
    (the embedded SQLite in $OPENLFR_HOME by default): photos and templates are sealed,
    and every step is in the audit log.
    """
    _check_names(watchlist, subject)
    svc = services()
    sources = [(str(p), read_file(p)) for p in images]
    details = SubjectDetails(
        reference=subject,
        category=category,
        image_source=image_source,
        name=name,
        notes=notes,
        expires_at=None if expires is None else expires.replace(tzinfo=UTC),
    )
    refused: EnrolmentRefused | None = None
    try:
        with work(svc) as ctx:
            try:
                done = named.enrol(
                    ctx,
                    watchlist,
                    details,
                    sources,
                    source=svc.template_source,
                    policy=svc.settings.governance,
                )
                report = {
                    "enrolled": True,
                    "watchlist": watchlist,
                    "version": done.watchlist.version,
                    "subject": subject,
                    "templates_added": done.images_added,
                    "subject_templates": len(done.subject.images),
                    "created_watchlist": done.created_watchlist,
                }
            except EnrolmentRefused as exc:
                refused = exc  # the refusal's audit event commits; nothing else was stored
    except DomainError as exc:
        reject(exc.message)
    if refused is not None:
        if json_out:
            emit_json(
                {
                    "enrolled": False,
                    "rejections": [
                        {"image": r.source, "reason": str(r.reason), "message": r.message}
                        for r in refused.rejections
                    ],
                }
            )
        for r in refused.rejections:
            stderr.print(f"[bold red]rejected:[/] {r.source}: {r.message} [{r.reason}]")
        stderr.print("nothing was enrolled")
        raise typer.Exit(1)
    if json_out:
        emit_json(report)
    else:
        stdout.print(
            f"enrolled {report['templates_added']} image(s) for {subject} in {watchlist} "
            f"v{report['version']} ({report['subject_templates']} template(s) for this subject)"
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
    check_watchlist_name(watchlist)
    svc = services()
    t = svc.settings.matching.threshold if threshold is None else threshold
    k = top_k or svc.settings.matching.top_k
    face, n_faces = _probe_face(svc, image)
    try:
        with work(svc) as ctx:
            found = named.gallery(ctx, watchlist)
    except DomainError as exc:
        reject(exc.message)
    if found.gallery.model_id != svc.pack.model_id:
        reject(
            f"watchlist {watchlist!r} holds {found.gallery.model_id} templates but the "
            f"configured model is {svc.pack.model_id}"
        )
    result = found.gallery.search(
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
                "version": found.watchlist.version,
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
