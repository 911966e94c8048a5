"""The Users page: who each account is (name, rank, collar or staff number) and its role."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from openlfr.users import service as users
from openlfr.users.roles import Role
from openlfr.web.access import ROLE_LABELS, Page
from openlfr.web.guard import Viewer, viewer_of
from openlfr.web.render import render

router = APIRouter()
UsersViewer = Annotated[Viewer, viewer_of(Page.USERS)]
LIST_LIMIT = 500


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, viewer: UsersViewer) -> Response:
    """Every account with the person it names; forms call ``/api/v1/users``."""
    rows, total = users.list_users(viewer.caller.ctx, offset=0, limit=LIST_LIMIT)
    return render(
        request,
        "users.html",
        viewer,
        title="Users",
        rows=rows,
        total=total,
        roles=[(r.value, ROLE_LABELS.get(r, r.value)) for r in Role if r != Role.WORKER],
        role_labels={r.value: ROLE_LABELS.get(r, r.value) for r in Role},
    )
