"""The Account page: choose a new password, set up or leave two-factor sign-in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from openlfr.users.service import pending_setup
from openlfr.web.guard import Viewer, viewer_of
from openlfr.web.render import render

router = APIRouter()
AccountViewer = Annotated[Viewer, viewer_of(None, setup=True)]


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, viewer: AccountViewer) -> Response:
    user = viewer.caller.user
    assert user is not None
    auth = request.app.state.plane.settings.auth
    return render(
        request,
        "account.html",
        viewer,
        title="Account",
        pending=pending_setup(user, auth),
        totp_enabled=user.totp_enabled,
        totp_required=user.role in auth.totp_required_roles,
        min_length=auth.password_min_length,
    )
