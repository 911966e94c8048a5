"""The demo's state: its own home and settings, accounts with fresh passwords, a watchlist from
the kit and an authorised deployment on the demo clips, reused from one run to the next.

Every step goes through the control plane's services as the person whose job it
is (the watchlist manager enrols, the authorising officer plans and authorises),
so the demo's audit log reads like a real deployment's.
"""

from __future__ import annotations

import json
import secrets
import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import select

from openlfr.api.plane import ControlPlane
from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.calibrations import service as calibrations
from openlfr.config import Settings
from openlfr.config.server import DEFAULT_OFFENCE_CATEGORIES, DatabaseConfig, GovernanceConfig
from openlfr.demo.cast import DEMO_CATEGORY, demo_watchlist, scene_cast
from openlfr.demo.scene import FaceBox, Image, Locate, SceneClip, ensure_clip
from openlfr.demokit import CALIBRATIONS_DIR, STREET_CLIP
from openlfr.deployments import evidence
from openlfr.deployments import service as deployments
from openlfr.deployments.models import (
    CameraCreate,
    Deployment,
    DeploymentCreate,
    DeploymentState,
    StartRequest,
)
from openlfr.storage.context import Actor, Ctx
from openlfr.users import service as users
from openlfr.users import totp
from openlfr.users.models import User, UserCreate
from openlfr.users.roles import Role
from openlfr.vision.pack import ModelPack
from openlfr.watchlist_records import service as watchlists
from openlfr.watchlist_records.models import WatchlistCreate, WatchlistVersion
from openlfr.watchlist_records.service import SubjectDetails

MARKER = ".openlfr-demo"
DEPLOYMENT_NAME = "Demo: synthetic high street"
AUTHORISED_HOURS = 12.0
# A deployment with less left than this is closed and a new one authorised.
MIN_REMAINING = timedelta(minutes=30)
SUBJECT_AUTHORITY = timedelta(days=7)  # outlasts the authorised period, as authorising requires
SETUP = Actor.system("demo")


class DemoHomeError(Exception):
    """The demo's folder cannot be used (e.g. ``--reset`` on a folder that is not a demo's)."""


@dataclass(frozen=True, slots=True)
class DemoAccount:
    """A demo user and the password printed for this run only."""

    username: str
    display_name: str
    role: Role
    password: str
    duty: str
    # The authenticator key of an account whose role signs in with a code (this run only).
    totp_key: str | None = None


ACCOUNTS: tuple[tuple[Role, str, str, str], ...] = (
    (Role.OPERATOR, "demo-operator", "A. Demo", "operator: adjudicates alerts"),
    (Role.OPERATOR, "demo-operator-2", "B. Demo", "second operator: confirms engagements"),
    (Role.AUTHORISING_OFFICER, "demo-officer", "C. Demo", "officer: authorises, closes"),
    (Role.WATCHLIST_MANAGER, "demo-manager", "D. Demo", "watchlist manager"),
    (Role.AUDITOR, "demo-auditor", "E. Demo", "auditor: audit log, records"),
    (Role.ADMIN, "demo-admin", "F. Demo", "admin: accounts, never a face"),
)
# Invented ranks and collar/staff numbers, so records name people as a force's would.
RANKS: dict[str, tuple[str, str]] = {
    "demo-operator": ("PC", "4101"),
    "demo-operator-2": ("PC", "4102"),
    "demo-officer": ("Supt", "0301"),
    "demo-manager": ("DS", "2201"),
    "demo-auditor": ("", "S8801"),
    "demo-admin": ("", "S8802"),
}


@dataclass(frozen=True, slots=True)
class DemoState:
    """What the demo runs: its deployment, cameras and whether it was reused."""

    deployment_id: int
    reused: bool
    closed_previous: int | None
    scene: SceneClip
    accounts: tuple[DemoAccount, ...]
    evidence: str = ""  # what backs the threshold, in words (shown on screen)


def prepare_home(home: Path, *, reset: bool) -> bool:
    """Create (or with ``reset`` empty) the demo's folder; True if earlier state is kept."""
    marker = home / MARKER
    if home.exists() and any(home.iterdir()) and not marker.is_file():
        raise DemoHomeError(
            f"{home} exists and is not an openlfr demo folder; choose another with --home"
        )
    if reset and home.exists():
        shutil.rmtree(home)
    existed = marker.is_file()
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o700)
    marker.write_text("state of 'openlfr demo'; 'openlfr demo --reset' deletes this folder\n")
    return existed


def demo_settings(home: Path, base: Settings) -> Settings:
    """The demo's settings: the user's model choices, but its own home, embedded database,
    key, looping real-time cameras and the neutral "demo" category."""
    source = base.pipeline.source.model_copy(update={"realtime": True, "loop": True})
    return base.model_copy(
        update={
            "home": home,
            "key_file": home / "keys" / "data.key",
            "database": DatabaseConfig(),
            "pipeline": base.pipeline.model_copy(update={"source": source}),
            "governance": GovernanceConfig(
                offence_categories=(*DEFAULT_OFFENCE_CATEGORIES, DEMO_CATEGORY)
            ),
        }
    )


def detector_locate(pack: ModelPack) -> Locate:
    """The largest face the configured detector finds in a photo (for composing the scene)."""

    def locate(image: Image) -> FaceBox | None:
        found = pack.detect(image)
        if len(found) == 0:
            return None
        b = found.boxes
        i = int(np.argmax((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])))
        x1, y1, x2, y2 = (float(v) for v in b[i])
        return (x1, y1, x2 - x1, y2 - y1)

    return locate


def _user(ctx: Ctx, username: str) -> User | None:
    return ctx.db.execute(select(User).where(User.username == username)).scalar_one_or_none()


def ensure_accounts(plane: ControlPlane) -> tuple[DemoAccount, ...]:
    """The demo users, created on the first run; every run gives each a new password."""
    accounts = []
    with plane.work(SETUP) as ctx:
        for role, username, display, duty in ACCOUNTS:
            password = secrets.token_urlsafe(12)
            user = _user(ctx, username)
            if user is None:
                users.create(
                    ctx,
                    UserCreate(
                        username=username,
                        display_name=display,
                        rank=RANKS[username][0],
                        staff_number=RANKS[username][1],
                        role=role,
                        password=password,
                    ),
                    plane.passwords,
                )
            else:
                # The demo hands out each run's password itself: not a temporary one.
                users.set_password(ctx, user, password, plane.passwords, by_owner=True)
                audit.record(
                    ctx,
                    Action.USER_UPDATED,
                    entity_type="user",
                    entity_id=user.id,
                    details={"username": username, "changed": ["password"], "why": "demo run"},
                )
            key = (
                _enrol_second_factor(plane, ctx, username)
                if (role in plane.settings.auth.totp_required_roles)
                else None
            )
            accounts.append(DemoAccount(username, display, role, password, duty, key))
    return tuple(accounts)


def _enrol_second_factor(plane: ControlPlane, ctx: Ctx, username: str) -> str:
    """A new TOTP key for a demo account whose role needs one, printed with its password
    (a real account enrols on its Account page, confirming with a code)."""
    user = _user(ctx, username)
    assert user is not None
    key = totp.new_secret(ctx.blobs, user).secret
    user.totp_confirmed_at = ctx.now
    audit.record(
        ctx,
        Action.TOTP_ENROLLED,
        entity_type="user",
        entity_id=user.id,
        details={"username": username, "why": "demo run"},
    )
    return key


def _acting(ctx: Ctx, username: str) -> Ctx:
    user = _user(ctx, username)
    assert user is not None, username
    return Ctx(db=ctx.db, actor=users.actor_for(user), now=ctx.now, blobs=ctx.blobs)


def _latest_demo(ctx: Ctx) -> Deployment | None:
    return ctx.db.execute(
        select(Deployment)
        .where(Deployment.name == DEPLOYMENT_NAME)
        .order_by(Deployment.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def _reusable(dep: Deployment, ctx: Ctx) -> bool:
    if not (
        dep.state in (DeploymentState.AUTHORISED, DeploymentState.LIVE)
        and dep.planned_end - ctx.now > MIN_REMAINING
        and all(Path(c.source).is_file() for c in dep.cameras)
        and dep.watchlist_id is not None
    ):
        return False
    # One authorised before going live needed a legal record cannot start now: replace it.
    if dep.authority_reference is None or dep.legal_basis_category is None:
        return False
    # One authorised before thresholds needed evidence cannot start now: replace it.
    wl = watchlists.get(ctx, dep.watchlist_id)
    return evidence.problem(ctx, dep, wl) is None or evidence.covered(dep)


def _new_watchlist(plane: ControlPlane, ctx: Ctx) -> int:
    """A new watchlist with every demo subject, enrolled through the quality gate."""
    n = 1
    while ctx.db.execute(
        select(WatchlistVersion.id).where(WatchlistVersion.name == f"demo-{n}")
    ).first():
        n += 1
    manager = _acting(ctx, "demo-manager")
    source = plane.template_source()
    wl = watchlists.create(
        manager,
        WatchlistCreate(
            name=f"demo-{n}",
            description="Demo volunteers from the shipped kit (see demokit/CREDITS.md)",
        ),
        model_id=source.model_id,
        dim=source.dim,
    )
    for subject in demo_watchlist():
        watchlists.enrol_subject(
            manager,
            wl,
            SubjectDetails(
                reference=subject.reference,
                name=subject.name,
                category=DEMO_CATEGORY,
                image_source=subject.image_source,
                notes=subject.notes,
                expires_at=ctx.now + SUBJECT_AUTHORITY,
            ),
            [(subject.photo.name, subject.photo.read_bytes())],
            source=source,
            policy=plane.settings.governance,
        )
    return wl.id


def _shipped_calibration(ctx: Ctx, model_id: str, threshold: float) -> int | None:
    """Store the kit's calibration of ``model_id`` that backs ``threshold``, if one ships."""
    for path in sorted(CALIBRATIONS_DIR.glob("*.json")):
        document = json.loads(path.read_text())
        if document.get("model_id") != model_id:
            continue
        threshold_ok = (document.get("threshold") or 2.0) <= threshold + 1e-9
        if threshold_ok and document.get("resolved"):
            row = calibrations.store(
                ctx, document, note=f"shipped with openlfr's demo kit ({path.name})"
            )
            return row.id
    return None


def describe_evidence(dep: Deployment) -> str:
    """One line for the screen: what the demo deployment's threshold rests on."""
    if dep.calibration_id is not None and dep.evidence_override is None:
        return (
            f"threshold {dep.threshold:.3f} backed by calibration {dep.calibration_id} "
            f"(SHA-256 {(dep.calibration_sha256 or '')[:16]}…)"
        )
    return (
        f"threshold {dep.threshold:.3f} runs on an audited override, not a calibration: "
        f"{dep.evidence_override}"
    )


def _new_deployment(plane: ControlPlane, ctx: Ctx, scene: SceneClip) -> int:
    # Planned by the manager, authorised by the officer: two people (separation of duties).
    planner = _acting(ctx, "demo-manager")
    officer = _acting(ctx, "demo-officer")
    threshold = plane.settings.matching.threshold
    calibration_id = _shipped_calibration(officer, plane.template_source().model_id, threshold)
    loop_s = scene.scene.duration_s
    dep = deployments.create(
        planner,
        DeploymentCreate(
            name=DEPLOYMENT_NAME,
            location="Demo High Street (a synthetic scene) and Intel's sample street clip",
            area="Demo borough",
            purpose="Demonstration: find the demo volunteers on the demo watchlist. "
            "No real person is sought.",
            legal_basis="None needed: a demonstration on photos of consenting volunteers "
            "(CC BY 4.0); not a policing operation",
            planned_start=ctx.now - timedelta(minutes=1),
            planned_end=ctx.now + timedelta(hours=AUTHORISED_HOURS),
            watchlist_id=_new_watchlist(plane, ctx),
            cameras=[
                CameraCreate(
                    name="street",
                    source=str(scene.path),
                    description=f"Synthetic street scene from the demo kit ({loop_s:.0f} s loop)",
                ),
                CameraCreate(
                    name="intel-street",
                    source=str(STREET_CLIP),
                    description="Intel IoT DevKit sample clip (CC BY 4.0), 11 s loop",
                ),
            ],
            calibration_id=calibration_id,
            # The legal record either profile (UK, EU) asks for, filled in as what it is.
            legal_basis_category="demonstration",
            authority="openlfr demo (a demonstration: no authority needed)",
            impact_assessment_reference="demo: not applicable (no real person is sought)",
            registration_reference="demo: not applicable (not a policing operation)",
        ),
        default_threshold=threshold,
        authorisation=plane.settings.authorisation,
    )
    wl = watchlists.get(ctx, dep.watchlist_id) if dep.watchlist_id is not None else None
    if wl is not None and evidence.problem(ctx, dep, wl) is not None:
        # A pack or threshold the kit has no calibration for: run on an override, and say so.
        deployments.override_evidence(
            officer,
            dep,
            reason="Demonstration only: the demo kit ships no calibration of model "
            f"{wl.model_id} that backs threshold {threshold:.3f} (calibrate with "
            "'openlfr calibrate --record' for a real deployment).",
            threshold=None,
            policy=plane.settings.governance,
        )
    deployments.authorise(
        officer,
        dep,
        note="Demo: authorised by 'openlfr demo' for the demo volunteers' photos.",
        policy=plane.settings.governance,
        authority_reference=f"DEMO-{ctx.now:%Y%m%d-%H%M}",
    )
    return dep.id


def prepare(plane: ControlPlane, pack: ModelPack) -> DemoState:
    """Accounts, the scene clip, and the demo deployment (reused while its authorisation
    lasts; otherwise closed, which publishes its record, and replaced)."""
    accounts = ensure_accounts(plane)
    scene = ensure_clip(plane.settings.home / "media", scene_cast(), detector_locate(pack))
    closed: int | None = None
    with plane.work(SETUP) as ctx:
        latest = _latest_demo(ctx)
        if latest is not None and _reusable(latest, ctx):
            return DemoState(latest.id, True, None, scene, accounts, describe_evidence(latest))
        if latest is not None and latest.state != DeploymentState.CLOSED:
            deployments.close(
                _acting(ctx, "demo-officer"),
                latest,
                reason="demo: its authorised period is (nearly) over; a new one replaces it",
                retention=plane.settings.retention,
                pending_reason="demo: a new demo deployment replaces this one",
            )
            closed = latest.id
    with plane.work(SETUP) as ctx:
        dep_id = _new_deployment(plane, ctx, scene)
        told = describe_evidence(deployments.get(ctx, dep_id))
        return DemoState(dep_id, False, closed, scene, accounts, told)


def start_live(plane: ControlPlane, deployment_id: int) -> bool:
    """Go live as the operator would (a period of use, then the cameras); False if the
    cameras could not start (the reason is recorded with the period of use)."""
    with plane.work(SETUP) as ctx:
        dep = deployments.get(ctx, deployment_id, lock=True)
        if dep.state == DeploymentState.LIVE:
            deployments.stop(ctx, dep, reason="demo restarted")
        deployments.start(
            _acting(ctx, "demo-operator"),
            dep,
            StartRequest(signage_confirmed=True),
            authorisation=plane.settings.authorisation,
        )
    return plane.live.start(deployment_id)
