"""Routes for alert episodes: the queue's items, listed, read and decided; scene thumbnails."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from openlfr.alert_records import service as alerts
from openlfr.api.auth import Caller, need
from openlfr.api.deps import Plane
from openlfr.api.pagination import Page, Paging
from openlfr.api.params import QueryRowId, RowId
from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.episodes import decisions
from openlfr.episodes import service as episodes
from openlfr.episodes.models import EpisodeDecision, EpisodeDetail, EpisodeRead, LookRead
from openlfr.episodes.service import QueueOrder
from openlfr.storage.context import Ctx
from openlfr.users.roles import Permission as P

router = APIRouter(tags=["episodes"])
Reader = Annotated[Caller, need(P.ALERTS_READ)]
CropViewer = Annotated[Caller, need(P.ALERT_CROPS_VIEW)]
Adjudicator = Annotated[Caller, need(P.ALERTS_ADJUDICATE)]


def detail(ctx: Ctx, episode_id: int) -> EpisodeDetail:
    ep = episodes.get(ctx, episode_id)
    looks = [
        LookRead(
            id=a.id,
            camera=a.camera,
            score=a.score,
            captured_at=a.captured_at,
            track_id=a.track_id,
            scene=a.scene_blob_id is not None,
        )
        for a in episodes.looks(ctx, ep)
    ]
    return EpisodeDetail.model_validate(
        {**EpisodeRead.model_validate(ep).model_dump(), "every_look": looks}
    )


@router.get("/episodes", response_model=Page[EpisodeRead])
def list_episodes(
    caller: Reader,
    page: Paging,
    deployment_id: QueryRowId = None,
    pending: Annotated[bool, Query(description="Only episodes not yet decided.")] = False,
    order: Annotated[
        QueueOrder, Query(description="For pending ones: oldest waiting first, or priority.")
    ] = QueueOrder.WAITING,
) -> Page[EpisodeRead]:
    """Queue items: each subject's repeat sightings in a deployment, in queue order. Audited."""
    rows, total = episodes.list_episodes(
        caller.ctx,
        offset=page.offset,
        limit=page.limit,
        deployment_id=deployment_id,
        pending_only=pending,
        order=order,
    )
    return Page(
        items=[EpisodeRead.model_validate(e) for e in rows],
        total=total,
        offset=page.offset,
        limit=page.limit,
    )


@router.get("/episodes/{episode_id}", response_model=EpisodeDetail)
def get_episode(episode_id: RowId, caller: Reader) -> EpisodeDetail:
    """One episode with every look (camera, score, time). Audited."""
    found = detail(caller.ctx, episode_id)
    audit.record(
        caller.ctx,
        Action.ALERT_READ,
        entity_type=episodes.ENTITY,
        entity_id=episode_id,
        deployment_id=found.deployment_id,
        details={"alert_ids": [look.id for look in found.every_look]},
    )
    return found


@router.post("/episodes/{episode_id}/decision", response_model=EpisodeDetail, status_code=201)
def decide(
    episode_id: RowId, body: EpisodeDecision, caller: Adjudicator, plane: Plane
) -> EpisodeDetail:
    """Decide an episode (every undecided look). Under two-person verification an "engage" is
    first a proposal; a second, different person confirms it (another "engage", then the
    outcome) or disagrees (409 ``second_person_required`` for the proposer)."""
    decisions.decide(caller.ctx, episode_id, body, policy=plane.settings.governance)
    return detail(caller.ctx, episode_id)


@router.get(
    "/alerts/{alert_id}/scene",
    response_class=Response,
    responses={200: {"content": {"image/*": {}}, "description": "The scene thumbnail."}},
)
def alert_scene(alert_id: RowId, caller: CropViewer) -> Response:
    """The scene at the alert, small, with everything but the alerted face obscured. Audited."""
    alert, data = alerts.scene(caller.ctx, alert_id)
    return Response(
        content=data,
        media_type=alert.scene_media_type or "image/jpeg",
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )
