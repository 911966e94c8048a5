"""CLI commands for the control plane: serve, db upgrade, user add, purge."""

from __future__ import annotations

import getpass
import sys
from dataclasses import asdict

import typer
from pydantic import ValidationError
from sqlalchemy import select

from openlfr.cli.common import emit_json, fail_usage, reject, services, stderr, stdout
from openlfr.privacy import keys
from openlfr.privacy.crypto import DataKeyError
from openlfr.privacy.retention import run_purge
from openlfr.services import Services
from openlfr.storage import migrate
from openlfr.storage.clock import SystemClock
from openlfr.storage.context import Actor, Ctx
from openlfr.storage.errors import DomainError
from openlfr.users import service as users
from openlfr.users.credentials import Passwords
from openlfr.users.models import User, UserCreate, UserUpdate
from openlfr.users.roles import Role
from openlfr.users.totp import code_now

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="User accounts.", no_args_is_help=True)


def cli_actor() -> Actor:
    return Actor.system(f"cli:{getpass.getuser()}")


def ready(svc: Services) -> Services:
    """Services with the schema brought up to date (the database is created on first use)
    and the data key checked against it (a missing or wrong key stops here, exit 1)."""
    migrate.upgrade(svc.database)
    try:
        fingerprint = svc.cipher.fingerprint
    except DataKeyError as exc:
        reject(str(exc))
    with svc.database.session() as db:
        keys.record_fingerprint(db, fingerprint)
    return svc


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="TCP port."),
    log_level: str = typer.Option("info", help="uvicorn log level."),
    workers: int = typer.Option(
        1,
        min=0,
        max=64,
        help="Local camera worker processes to run and supervise (0: remote only).",
    ),
) -> None:
    """Run the hub (API, console, database) and its local camera workers until interrupted."""
    import uvicorn

    from openlfr.api.app import create_app
    from openlfr.workers.hub import WorkerHub
    from openlfr.workers.supervisor import hub_url, start_local_workers

    svc = ready(services())
    with svc.database.session() as db:
        has_users = db.execute(select(User.id).limit(1)).first() is not None
    if not has_users:
        stderr.print(
            "no accounts yet: create the first with 'openlfr user add NAME --role admin'",
            highlight=False,
        )
    app = create_app(services=svc, launcher=WorkerHub(preview=svc.preview))
    plane = app.state.plane
    local = None
    if workers:
        local = start_local_workers(
            plane.database,
            plane.blobs,
            plane.clock,
            plane.passwords,
            url=hub_url(host, port),
            home=svc.settings.home / "worker",
            count=workers,
        )
    stderr.print(
        f"openlfr API on http://{host}:{port}/api/v1  (docs: /docs)  database: "
        f"{svc.database.url.render_as_string(hide_password=True)}",
        highlight=False,
    )
    # Open SSE streams never end by themselves: give them a few seconds on shutdown.
    try:
        uvicorn.run(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=5)
    finally:
        if local is not None:
            local.stop()


@db_app.command("upgrade")
def db_upgrade(json_out: bool = typer.Option(False, "--json")) -> None:
    """Create the database or migrate it to the newest schema."""
    svc = services()
    before = migrate.current_revision(svc.database)
    after = migrate.upgrade(svc.database)
    url = svc.database.url.render_as_string(hide_password=True)
    if json_out:
        emit_json({"database": url, "from": before, "to": after})
    else:
        stdout.print(f"{url}: schema {before or 'empty'} → {after}", highlight=False)


@user_app.command("add")
def user_add(
    username: str = typer.Argument(..., help="Login name (lower case)."),
    role: Role = typer.Option(
        ...,
        metavar="ROLE",
        # The choices are listed in the help text, which wraps, not in the option's column.
        help="The account's role: " + ", ".join(r.value for r in Role) + ".",
    ),
    name: str | None = typer.Option(
        None, "--name", help="The person's name, e.g. 'J. Smith' (default: username)."
    ),
    rank: str = typer.Option("", "--rank", help="Rank as written, e.g. 'PC', 'Insp'."),
    number: str = typer.Option("", "--number", help="Collar or staff number, e.g. '1234'."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input."
    ),
    machine: bool = typer.Option(
        False,
        "--machine",
        "--service",
        help="A service account (workers, integrations): no password, API tokens only.",
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Create an account (the first admin is made this way)."""
    if machine and password_stdin:
        fail_usage("--machine accounts have no password")
    password: str | None = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif not machine:
        password = getpass.getpass("password: ")
        if password != getpass.getpass("again: "):
            reject("the passwords differ")
    try:
        data = UserCreate(
            username=username,
            display_name=name or username,
            rank=rank,
            staff_number=number,
            role=role,
            password=password,
        )
    except ValidationError as exc:
        reject("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
    svc = ready(services())
    try:
        with svc.database.session() as db:
            ctx = Ctx(db=db, actor=cli_actor(), now=SystemClock().now(), blobs=svc.blobs)
            user = users.create(ctx, data, Passwords(svc.settings.auth))
    except DomainError as exc:
        reject(exc.message)
    if json_out:
        emit_json(
            {"id": user.id, "username": user.username, "person": user.person, "role": user.role}
        )
    else:
        stdout.print(f"created {user.role} {user.username}: {user.person} (id {user.id})")


@user_app.command("update")
def user_update(
    username: str = typer.Argument(..., help="The account's login name."),
    name: str | None = typer.Option(None, "--name", help="The person's name, e.g. 'J. Smith'."),
    rank: str | None = typer.Option(None, "--rank", help="Rank as written ('' to clear)."),
    number: str | None = typer.Option(
        None, "--number", help="Collar or staff number ('' to clear)."
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Change the name, rank or collar/staff number records show for an account."""
    try:
        given = {"display_name": name, "rank": rank, "staff_number": number}
        data = UserUpdate(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        reject("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
    svc = ready(services())
    try:
        with svc.database.session() as db:
            ctx = Ctx(db=db, actor=cli_actor(), now=SystemClock().now(), blobs=svc.blobs)
            user = users.by_username(ctx, username)
            users.update(ctx, user, data, Passwords(svc.settings.auth))
            person = user.person
    except DomainError as exc:
        reject(exc.message)
    if json_out:
        emit_json({"username": username, "person": person})
    else:
        stdout.print(f"{username}: {person}")


@user_app.command("totp-code")
def totp_code(
    key: str = typer.Argument(..., help="The base32 authenticator key (e.g. the demo's)."),
) -> None:
    """Print the current 6-digit sign-in code for an authenticator key (what an app shows)."""
    try:
        stdout.print(code_now(key.replace(" ", "").upper(), now=SystemClock().now()))
    except (ValueError, TypeError) as exc:
        reject(f"not a base32 authenticator key: {exc}")


def purge(json_out: bool = typer.Option(False, "--json")) -> None:
    """Apply every retention rule now: expired alerts, closed deployments' watchlists, …"""
    svc = ready(services())
    report = run_purge(
        svc.database,
        svc.blobs,
        SystemClock(),
        svc.settings.retention,
        actor=cli_actor(),
        authorisation=svc.settings.authorisation,
    )
    counts = {k: v for k, v in asdict(report).items() if k != "at"}
    if json_out:
        emit_json({"at": report.at.isoformat(), **counts})
    else:
        stdout.print(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in counts.items()))
