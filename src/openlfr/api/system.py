"""Routes about the service itself: health, policy lists, running the retention purge."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel

from openlfr.api.auth import Caller, Public, need
from openlfr.api.deps import Plane
from openlfr.privacy.retention import run_purge
from openlfr.users.roles import Permission as P
from openlfr.users.roles import Role

router = APIRouter(tags=["system"])


class Health(BaseModel):
    status: str
    database: str


class Policy(BaseModel):
    offence_categories: list[str]
    roles: list[Role]
    alert_retention_days: float
    closed_deployment_purge_hours: float
    default_threshold: float
    jurisdiction: str = ""
    go_live_requirements: list[str] = []
    legal_basis_categories: list[str] = []
    urgent_hours: float = 24.0
    audit_floor_days: float = 184.0


class PurgeRead(BaseModel):
    at: datetime
    alerts_purged: int
    deployments_purged: int
    reference_images_purged: int
    subjects_expired: int
    sessions_ended: int
    orphan_blobs_deleted: int
    deployments_revoked: list[int] = []
    deployments_stopped: list[int] = []


@router.get("/health", response_model=Health)
def health(caller: Public, plane: Plane) -> Health:
    """Liveness: answers when the database does."""
    return Health(status="ok", database=plane.database.dialect)


@router.get("/policy", response_model=Policy)
def policy(caller: Annotated[Caller, need(P.ACCOUNT_SELF)], plane: Plane) -> Policy:
    """The lists and limits the server enforces (for forms)."""
    s = plane.settings
    return Policy(
        offence_categories=list(s.governance.offence_categories),
        roles=list(Role),
        alert_retention_days=s.retention.alert_days,
        closed_deployment_purge_hours=s.retention.closed_deployment_hours,
        default_threshold=s.matching.threshold,
        jurisdiction=s.authorisation.jurisdiction,
        go_live_requirements=[str(r) for r in s.authorisation.requirements],
        legal_basis_categories=list(s.authorisation.categories),
        urgent_hours=s.authorisation.urgent_hours,
        audit_floor_days=s.retention.audit_floor_days,
    )


@router.post("/retention/run", response_model=PurgeRead)
def retention_run(caller: Annotated[Caller, need(P.RETENTION_RUN)], plane: Plane) -> PurgeRead:
    """Run every retention rule now (the server also runs them on a schedule)."""
    # The purge works in its own transactions: release this request's first
    # (on SQLite it holds the write lock).
    caller.ctx.db.commit()
    report = run_purge(
        plane.database,
        plane.blobs,
        plane.clock,
        plane.settings.retention,
        actor=caller.ctx.actor,
        authorisation=plane.settings.authorisation,
        on_stopped=plane.live.stop,
    )
    return PurgeRead(**{k: getattr(report, k) for k in PurgeRead.model_fields})
