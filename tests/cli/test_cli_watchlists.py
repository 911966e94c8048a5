"""The command line keeps watchlists where the server does: in its database, through the same
quality gate, sealing, audit log and purge (one store of truth)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from openlfr.audit import service as audit
from openlfr.audit.models import AuditEvent
from openlfr.cli import app
from openlfr.cli.common import work
from openlfr.services import Services
from openlfr.watchlist_records import service as watchlists
from openlfr.watchlist_records.models import ReferenceImage, WatchlistState, WatchlistVersion
from openlfr.watchlist_records.service import SubjectDetails

KIT = Path(__file__).resolve().parents[2] / "src" / "openlfr" / "demokit" / "images"
CATEGORY = "wanted_on_warrant"


@pytest.fixture
def cli(services: Services, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The CLI in this process, reusing the session's loaded models."""
    monkeypatch.setattr("openlfr.cli.common.build_services", lambda settings=None: services)
    return CliRunner()


def _json(cli: CliRunner, *args: str) -> dict:  # type: ignore[type-arg]
    result = cli.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _actions(services: Services) -> list[str]:
    with services.database.session() as db:
        return [
            str(e.action) for e in db.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()
        ]


def test_the_cli_keeps_watchlists_in_the_servers_database(
    services: Services, cli: CliRunner, isolated_home: Path
) -> None:
    photo = KIT / "london_001_neutral.jpg"
    enrolled = _json(
        cli,
        "enrol",
        "-w",
        "op-ember",
        "-s",
        "S-0042",
        "-c",
        CATEGORY,
        str(photo),
        "--image-source",
        "custody",
    )
    assert enrolled["created_watchlist"] is True and enrolled["version"] == 1
    _json(
        cli,
        "enrol",
        "-w",
        "op-ember",
        "-s",
        "S-0043",
        "-c",
        CATEGORY,
        str(KIT / "london_002_neutral.jpg"),
    )

    # The rows the server reads, with the photo sealed in the blob store (no plain JPEG
    # anywhere under the home) and no local watchlist files.
    with work(services) as ctx:
        wl = ctx.db.execute(select(WatchlistVersion)).scalar_one()
        assert (wl.name, wl.state) == ("op-ember", WatchlistState.OPEN)
        assert [s.reference for s in wl.subjects] == ["S-0042", "S-0043"]
        image = wl.subjects[0].images[0]
        assert image.image_source == "custody" and image.sha256
        assert ctx.blobs.get(image.blob_id, watchlists.IMAGE_BLOB) == photo.read_bytes()
    jpeg_start = photo.read_bytes()[:64]
    files = [p for p in isolated_home.rglob("*") if p.is_file()]
    assert not any(jpeg_start in p.read_bytes() for p in files)
    assert not (isolated_home / "watchlists").exists()

    # A subject enrolled through the server's own service is found by the CLI's search.
    with work(services) as ctx:
        wl = ctx.db.execute(select(WatchlistVersion)).scalar_one()
        watchlists.enrol_subject(
            ctx,
            wl,
            SubjectDetails(reference="S-0044", category=CATEGORY, image_source="custody"),
            [("london_003_neutral.jpg", (KIT / "london_003_neutral.jpg").read_bytes())],
            source=services.template_source,
            policy=services.settings.governance,
        )
    for probe, who in (("london_001_smiling.jpg", "S-0042"), ("london_003_smiling.jpg", "S-0044")):
        found = _json(cli, "identify", "-w", "op-ember", str(KIT / probe))
        assert [c["subject"] for c in found["candidates"]] == [who], found
    assert (
        _json(cli, "identify", "-w", "op-ember", str(KIT / "canada_003f.jpg"))["candidates"] == []
    )

    listing = _json(cli, "watchlist", "list")["watchlists"]
    assert [(w["name"], w["subjects"], w["templates"]) for w in listing] == [("op-ember", 3, 3)]
    shown = _json(cli, "watchlist", "show", "op-ember")
    assert [s["subject"] for s in shown["subjects"]] == ["S-0042", "S-0043", "S-0044"]

    # Removal is the server's purge: rows keep only counts, sealed photos are deleted.
    assert _json(cli, "watchlist", "remove", "op-ember", "--subject", "S-0043")["subject"]
    purged = _json(cli, "watchlist", "remove", "op-ember")
    assert (purged["versions"], purged["images"]) == (1, 2)
    with work(services) as ctx:
        wl = ctx.db.execute(select(WatchlistVersion)).scalar_one()
        assert (wl.state, wl.subjects_purged, wl.images_purged) == (WatchlistState.PURGED, 2, 2)
        assert ctx.db.execute(select(ReferenceImage)).first() is None
    assert not [p for p in (isolated_home / "blobs").rglob("*") if p.is_file()]
    assert _json(cli, "watchlist", "list")["watchlists"] == []

    # Every step is in the one audit log, attributed to the command line, and it verifies.
    actions = _actions(services)
    for expected in (
        "watchlist.created",
        "subject.enrolled",
        "templates.loaded",
        "watchlist.read",
        "subject.removed",
        "watchlist.purged",
    ):
        assert expected in actions, (expected, actions)
    with services.database.session() as db:
        assert audit.verify(db).ok
        actors = {e.actor for e in db.execute(select(AuditEvent)).scalars()}
    assert any(a.startswith("system:cli:") for a in actors), actors

    # The name can be used again: a new version, the purged one kept as history.
    again = _json(cli, "enrol", "-w", "op-ember", "-s", "S-0042", "-c", CATEGORY, str(photo))
    assert again["created_watchlist"] is True and again["version"] == 2


def test_a_refused_enrolment_stores_nothing_but_its_audit_event(
    services: Services, cli: CliRunner
) -> None:
    two = cli.invoke(
        app,
        [
            "enrol",
            "-w",
            "w",
            "-s",
            "x",
            "-c",
            CATEGORY,
            str(KIT / "london_001_neutral.jpg"),
            str(KIT / "../CREDITS.md"),
        ],
    )
    assert two.exit_code == 1 and "nothing was enrolled" in two.stderr
    with work(services) as ctx:
        assert ctx.db.execute(select(WatchlistVersion)).first() is None  # not even created
    assert _actions(services) == ["subject.enrolment_rejected"]
    bad_category = cli.invoke(
        app, ["enrol", "-w", "w", "-s", "x", "-c", "gossip", str(KIT / "london_001_neutral.jpg")]
    )
    assert bad_category.exit_code == 1 and "is not allowed" in bad_category.stderr
    unknown = cli.invoke(app, ["identify", "-w", "nope", str(KIT / "london_001_neutral.jpg")])
    assert unknown.exit_code == 1 and "no watchlist named 'nope'" in unknown.stderr
