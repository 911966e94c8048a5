"""Routes for planning, authorising, running and closing deployments (thin: the service decides)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, status

from openlfr.api.auth import Caller, need
from openlfr.api.deps import Plane
from openlfr.api.pagination import Page, Paging
from openlfr.api.params import RowId
from openlfr.deployments import legal, legal_clock, service
from openlfr.deployments.models import (
    AuthoriseRequest,
    AuthorityRecord,
    CameraCreate,
    CameraLiveRead,
    CameraRead,
    CloseRequest,
    Deployment,
    DeploymentCreate,
    DeploymentRead,
    DeploymentState,
    DeploymentUpdate,
    EvidenceOverride,
    GoLiveCheck,
    ReasonRequest,
    StartRequest,
    ThresholdChange,
)
from openlfr.users.roles import Permission as P
from openlfr.users.roles import allows

router = APIRouter(tags=["deployments"])
Reader = Annotated[Caller, need(P.DEPLOYMENTS_READ)]
Planner = Annotated[Caller, need(P.DEPLOYMENTS_PLAN)]
Authoriser = Annotated[Caller, need(P.DEPLOYMENTS_AUTHORISE)]
Operator = Annotated[Caller, need(P.DEPLOYMENTS_OPERATE)]
Closer = Annotated[Caller, need(P.DEPLOYMENTS_CLOSE)]
Legal = Annotated[Caller, need(P.DEPLOYMENTS_LEGAL)]


@router.get("/deployments", response_model=Page[DeploymentRead])
def list_deployments(
    caller: Reader, page: Paging, state: Annotated[DeploymentState | None, Query()] = None
) -> Page[DeploymentRead]:
    rows, total = service.list_deployments(
        caller.ctx, offset=page.offset, limit=page.limit, state=state
    )
    return Page(
        items=[DeploymentRead.model_validate(d) for d in rows],
        total=total,
        offset=page.offset,
        limit=page.limit,
    )


@router.post("/deployments", response_model=DeploymentRead, status_code=201)
def create_deployment(body: DeploymentCreate, caller: Planner, plane: Plane) -> Deployment:
    """Plan a deployment (state ``draft``)."""
    return service.create(
        caller.ctx,
        body,
        default_threshold=plane.settings.matching.threshold,
        authorisation=plane.settings.authorisation,
    )


@router.get("/deployments/{deployment_id}", response_model=DeploymentRead)
def get_deployment(deployment_id: RowId, caller: Reader) -> Deployment:
    return service.get(caller.ctx, deployment_id)


@router.get("/deployments/{deployment_id}/live", response_model=list[CameraLiveRead])
def live_status(deployment_id: RowId, caller: Reader, plane: Plane) -> list[CameraLiveRead]:
    """Each camera's state and counters while the deployment runs (empty when it does not)."""
    service.get(caller.ctx, deployment_id)
    status = plane.live.status(deployment_id) or []
    return [CameraLiveRead.model_validate(s, from_attributes=True) for s in status]


@router.patch("/deployments/{deployment_id}", response_model=DeploymentRead)
def update_deployment(
    deployment_id: RowId, body: DeploymentUpdate, caller: Planner, plane: Plane
) -> Deployment:
    """Edit a draft; once authorised only the threshold can change (with a reason)."""
    return service.update(
        caller.ctx,
        service.get(caller.ctx, deployment_id, lock=True),
        body,
        authorisation=plane.settings.authorisation,
    )


@router.get("/deployments/{deployment_id}/go-live", response_model=GoLiveCheck)
def go_live_check(deployment_id: RowId, caller: Reader, plane: Plane) -> GoLiveCheck:
    """Whether the legal record lets the deployment go live, with every reason it does not
    (the jurisdiction's profile: ``authorisation.jurisdiction``)."""
    return legal.check(service.get(caller.ctx, deployment_id), plane.settings.authorisation)


@router.post("/deployments/{deployment_id}/cameras", response_model=CameraRead, status_code=201)
def add_camera(deployment_id: RowId, body: CameraCreate, caller: Planner) -> CameraRead:
    dep = service.get(caller.ctx, deployment_id, lock=True)
    return CameraRead.model_validate(service.add_camera(caller.ctx, dep, body))


@router.delete(
    "/deployments/{deployment_id}/cameras/{camera_id}", status_code=status.HTTP_204_NO_CONTENT
)
def remove_camera(deployment_id: RowId, camera_id: RowId, caller: Planner) -> None:
    service.remove_camera(caller.ctx, service.get(caller.ctx, deployment_id, lock=True), camera_id)


@router.post("/deployments/{deployment_id}/authorise", response_model=DeploymentRead)
def authorise(
    deployment_id: RowId, body: AuthoriseRequest, caller: Authoriser, plane: Plane
) -> Deployment:
    """Approve the plan; freezes its watchlist version. The authoriser must not be one who
    planned or edited it (``governance.separate_authoriser``, on by default)."""
    return service.authorise(
        caller.ctx,
        service.get(caller.ctx, deployment_id, lock=True),
        note=body.note,
        policy=plane.settings.governance,
        authority_reference=body.authority_reference,
    )


@router.post("/deployments/{deployment_id}/start", response_model=DeploymentRead)
def start(
    deployment_id: RowId,
    caller: Operator,
    plane: Plane,
    tasks: BackgroundTasks,
    body: StartRequest | None = None,
) -> Deployment:
    """Go live: the cameras start on the frozen watchlist once this is recorded. Refused
    (409 ``authorisation_incomplete``, every reason in the message) while the legal record
    misses what the jurisdiction requires; an officer or commander may start urgently
    without the authority's reference, for at most ``authorisation.urgent_hours``."""
    dep = service.get(caller.ctx, deployment_id, lock=True)
    role = caller.role
    service.start(
        caller.ctx,
        dep,
        body,
        authorisation=plane.settings.authorisation,
        may_start_urgently=role is not None and allows(role, P.DEPLOYMENTS_LEGAL),
    )
    tasks.add_task(plane.live.start, dep.id)
    return dep


@router.post("/deployments/{deployment_id}/authority", response_model=DeploymentRead)
def record_authority(
    deployment_id: RowId,
    body: AuthorityRecord,
    caller: Legal,
    plane: Plane,
    tasks: BackgroundTasks,
) -> Deployment:
    """The authority's answer (officers and commanders): its reference, which ends an urgent
    start's clock, or a refusal, which stops the deployment at once and purges its alerts,
    crops and watchlist (audited)."""
    dep = service.get(caller.ctx, deployment_id, lock=True)
    legal_clock.record_authority(caller.ctx, dep, body)
    if dep.revoked_reason is not None:
        tasks.add_task(plane.live.stop, dep.id)
    return dep


@router.post("/deployments/{deployment_id}/stop", response_model=DeploymentRead)
def stop(
    deployment_id: RowId,
    body: ReasonRequest,
    caller: Operator,
    plane: Plane,
    tasks: BackgroundTasks,
) -> Deployment:
    """End this period of live use; the cameras stop (the deployment may start again)."""
    dep = service.get(caller.ctx, deployment_id, lock=True)
    service.stop(caller.ctx, dep, reason=body.reason)
    tasks.add_task(plane.live.stop, dep.id)
    return dep


@router.post("/deployments/{deployment_id}/threshold", response_model=DeploymentRead)
def change_threshold(
    deployment_id: RowId,
    body: ThresholdChange,
    caller: Authoriser,
    plane: Plane,
    tasks: BackgroundTasks,
) -> Deployment:
    """Move the threshold; after authorisation a written reason is required (audited)."""
    dep = service.get(caller.ctx, deployment_id, lock=True)
    service.change_threshold(
        caller.ctx,
        dep,
        threshold=body.threshold,
        reason=body.reason,
        policy=plane.settings.governance,
    )
    tasks.add_task(plane.live.set_threshold, dep.id, dep.threshold)
    return dep


@router.post("/deployments/{deployment_id}/evidence-override", response_model=DeploymentRead)
def override_evidence(
    deployment_id: RowId, body: EvidenceOverride, caller: Authoriser, plane: Plane
) -> Deployment:
    """Let the deployment run on a threshold no stored calibration backs: the written reason,
    who gave it and when are audited and published in the deployment record."""
    dep = service.get(caller.ctx, deployment_id, lock=True)
    return service.override_evidence(
        caller.ctx,
        dep,
        reason=body.reason,
        threshold=body.threshold,
        policy=plane.settings.governance,
    )


@router.post("/deployments/{deployment_id}/close", response_model=DeploymentRead)
def close(
    deployment_id: RowId,
    body: CloseRequest,
    caller: Closer,
    plane: Plane,
    tasks: BackgroundTasks,
) -> Deployment:
    """Close for good (commanders and authorising officers only): cameras stop, the
    deployment record is published (final, never rebuilt); the watchlist and its templates are
    purged by the next retention run after the configured grace (at most 24 h). With alerts
    still waiting for a decision it is refused (409 ``alerts_pending``) unless
    ``pending_reason`` says why."""
    dep = service.get(caller.ctx, deployment_id, lock=True)
    service.close(
        caller.ctx,
        dep,
        reason=body.reason,
        retention=plane.settings.retention,
        pending_reason=body.pending_reason,
        policy=plane.settings.governance,
    )
    tasks.add_task(plane.live.stop, dep.id)
    # After the cameras' last counts: anchor the log as the deployment's record stands.
    tasks.add_task(plane.checkpoints.publish_quietly, f"deployment {dep.id} closed")
    return dep
