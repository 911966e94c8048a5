"""The operator console as a sub-application of the API app, mounted at ``/console``.

It shares the API's control plane, sessions and error bodies: pages read
through the domain services with the signed-in user's permissions, and
forms and buttons call the REST API (``/api/v1``) from a little JavaScript.
Being a mounted application, its pages stay out of the API's OpenAPI
document and permission matrix; :mod:`openlfr.web.access` is their table.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from openlfr.api import errors
from openlfr.api.plane import ControlPlane
from openlfr.storage.errors import Conflict, DomainError, Forbidden, NotFound, Unauthorised
from openlfr.web import (
    account_pages,
    alerts,
    audit_pages,
    auth_pages,
    cameras,
    deployment_pages,
    users_pages,
    watchlist_pages,
)
from openlfr.web.access import page_info
from openlfr.web.guard import LoginRequired, PageForbidden, SetupRequired
from openlfr.web.live import ConsoleHub
from openlfr.web.preview import PreviewHub
from openlfr.web.record_pages import router as record_router
from openlfr.web.render import STATIC, render

PREFIX = "/console"


def _wants_html(request: Request) -> bool:
    if request.url.path.startswith(f"{PREFIX}/api/"):
        return False
    return "text/html" in request.headers.get("accept", "")


def console_app(plane: ControlPlane, preview: PreviewHub) -> FastAPI:
    """The console: pages, fragments and the few JSON endpoints its scripts need."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.plane = plane
    hub = ConsoleHub(plane.database)
    # Claims and decisions made on other hub processes reach this one's consoles.
    plane.feed.follow(hub.follow())
    app.state.hub = hub
    app.state.preview = preview
    errors.install(app)
    json_domain = app.exception_handlers[DomainError]

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        return RedirectResponse(f"{PREFIX}/login?next={quote(exc.back_to, safe='/')}", 303)

    async def setup_required(request: Request, exc: Exception) -> Response:
        return RedirectResponse(f"{PREFIX}/account", 303)

    async def page_forbidden(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageForbidden)
        info = page_info(exc.page)
        return render(
            request,
            "error.html",
            exc.viewer,
            title="Not available to your role",
            status_code=403,
            heading="Not available to your role",
            message=f"Your role may not open {info.title}. The server refuses it whatever the "
            "menu shows; ask an administrator if your duties have changed.",
            signed_in=True,
        )

    async def domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        if not _wants_html(request):
            result = json_domain(request, exc)
            if isinstance(result, Awaitable):
                result = await result
            assert isinstance(result, Response)
            return result
        status = 400
        for cls, code in ((NotFound, 404), (Conflict, 409), (Forbidden, 403), (Unauthorised, 401)):
            if isinstance(exc, cls):
                status = code
        return render(
            request,
            "error.html",
            None,
            title="Cannot show this page",
            status_code=status,
            heading="Cannot show this page",
            message=exc.message,
            signed_in=True,
        )

    handlers: dict[type[Exception], Callable[[Request, Exception], Awaitable[Response]]] = {
        LoginRequired: login_required,
        SetupRequired: setup_required,
        PageForbidden: page_forbidden,
        DomainError: domain_error,
    }
    for exc_type, handler in handlers.items():
        app.add_exception_handler(exc_type, handler)

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    for module in (
        auth_pages,
        account_pages,
        alerts,
        cameras,
        deployment_pages,
        watchlist_pages,
        audit_pages,
        users_pages,
    ):
        app.include_router(module.router)
    app.include_router(record_router)  # published deployment records
    return app


def mount_console(app: FastAPI) -> FastAPI:
    """Mount the console into the API app (``/console``; ``/`` leads there)."""
    plane: ControlPlane = app.state.plane
    console = console_app(plane, plane.services.preview)
    app.mount(PREFIX, console, name="console")

    async def root(request: Request) -> Response:
        return RedirectResponse(f"{PREFIX}/", 307)

    app.add_route("/", root, include_in_schema=False)
    # The console's event streams must end with the server, like the alert stream
    # (an open stream would otherwise hold up a graceful shutdown).
    inner = app.router.lifespan_context
    hub: ConsoleHub = console.state.hub

    @asynccontextmanager
    async def lifespan(parent: FastAPI) -> AsyncIterator[Any]:
        async with inner(parent) as state:
            try:
                yield state
            finally:
                hub.close()

    app.router.lifespan_context = lifespan
    return console
