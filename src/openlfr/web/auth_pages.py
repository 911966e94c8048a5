"""Sign-in page and the console's front door (each role lands on its own first page)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from openlfr.api.auth import Public
from openlfr.users.roles import Role
from openlfr.web.access import home
from openlfr.web.guard import Viewer, viewer_of
from openlfr.web.render import render

router = APIRouter()


def safe_next(target: str | None) -> str | None:
    """Only a path inside the console is followed after signing in (no open redirect)."""
    if not target or not target.startswith("/console/") or target.startswith("//"):
        return None
    if any(c in target for c in "\\\r\n"):
        return None
    return target


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request,
    caller: Public,
    next_: Annotated[str | None, Query(alias="next", max_length=2000)] = None,
) -> Response:
    """The sign-in form (signed-in visitors go straight on)."""
    target = safe_next(next_)
    if caller.user is not None:
        return RedirectResponse(target or home(Role(caller.user.role)), 303)
    return render(request, "login.html", None, title="Sign in", next=target or "/console/")


@router.get("/", response_class=HTMLResponse)
def front_door(viewer: Annotated[Viewer, viewer_of(None)]) -> Response:
    return RedirectResponse(home(viewer.role), 303)
