"""The FastAPI application factory: one app per ControlPlane, every router under /api/v1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute

from openlfr import __version__
from openlfr.alert_records.router import router as alerts_router
from openlfr.api import errors
from openlfr.api.auth import Requires
from openlfr.api.docs import ASSETS_PREFIX, mount_docs
from openlfr.api.headers import SecurityHeaders
from openlfr.api.intake import Intake, route_rules
from openlfr.api.plane import ControlPlane
from openlfr.api.system import router as system_router
from openlfr.audit.router import router as audit_router
from openlfr.calibrations.router import router as calibrations_router
from openlfr.config import Settings
from openlfr.deployments.live import PipelineLauncher
from openlfr.deployments.router import router as deployments_router
from openlfr.episodes.router import router as episodes_router
from openlfr.evidence.router import router as evidence_router
from openlfr.notify.router import router as notify_router
from openlfr.services import Services
from openlfr.storage.clock import Clock
from openlfr.users.router import router as users_router
from openlfr.watchlist_records.router import router as watchlists_router
from openlfr.web.app import PREFIX as CONSOLE
from openlfr.web.app import mount_console
from openlfr.workers.router import router as workers_router

API_PREFIX = "/api/v1"
ROUTERS = (
    system_router,
    users_router,
    watchlists_router,
    calibrations_router,
    deployments_router,
    alerts_router,
    episodes_router,
    notify_router,
    audit_router,
    evidence_router,
    workers_router,
)


def create_app(
    settings: Settings | None = None,
    *,
    services: Services | None = None,
    clock: Clock | None = None,
    launcher: PipelineLauncher | None = None,
    webhook_transport: httpx.BaseTransport | None = None,
    background: bool = True,
) -> FastAPI:
    """The openlfr HTTP API for ``settings`` (default: environment and config file).

    The database schema is migrated, and the outbox dispatcher and retention
    scheduler started, when the app starts (its lifespan); they stop with it.
    """
    services = services or Services(settings or Settings())
    plane = ControlPlane(
        services,
        clock=clock,
        launcher=launcher,
        webhook_transport=webhook_transport,
        background=background,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        plane.start()
        try:
            yield
        finally:
            plane.stop()

    app = FastAPI(
        title="openlfr",
        version=__version__,
        summary="Open, accountable live facial recognition: the control plane.",
        description=(
            "Deployments, watchlists, alerts and adjudication, users and roles, a hash-chained "
            "audit log and retention. Every route declares the permission it needs; every "
            "error has the body `{error: {code, message, fields, rejections}}`."
        ),
        lifespan=lifespan,
        responses=errors.ERROR_RESPONSES,
        docs_url=None,  # served from local files below, never from a CDN
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.plane = plane
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    _check_permissions_declared(app)
    mount_console(app)  # the operator console, at /console
    if plane.settings.http.docs:
        mount_docs(app)
    # The last added runs outermost: the headers go on every response, refusals included.
    rules = route_rules((r.method, r.path, r.route.endpoint) for r in route_table(app))
    app.add_middleware(Intake, rules=rules, config=plane.settings.http)
    app.add_middleware(SecurityHeaders, static_prefixes=(f"{CONSOLE}/static/", ASSETS_PREFIX))
    return app


@dataclass(frozen=True, slots=True)
class ApiRoute:
    """One operation of the API as served: full path, method, the route and its permission."""

    path: str
    method: str
    route: APIRoute
    requirement: Requires | None


def declared_permission(route: APIRoute) -> Requires | None:
    """The :class:`Requires` a route depends on, or None if it declares none."""
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, Requires):
            return dep.call
        stack.extend(dep.dependencies)
    return None


def route_table(app: FastAPI) -> list[ApiRoute]:
    """Every API operation: the domain routers under the prefix plus any route on the app."""
    found = [
        (API_PREFIX + r.path, r)
        for router in ROUTERS
        for r in router.routes
        if isinstance(r, APIRoute)
    ]
    found += [(r.path, r) for r in app.routes if isinstance(r, APIRoute)]
    return [
        ApiRoute(path, method, route, declared_permission(route))
        for path, route in found
        for method in sorted(route.methods or ())
    ]


def _check_permissions_declared(app: FastAPI) -> None:
    missing = [f"{r.method} {r.path}" for r in route_table(app) if r.requirement is None]
    if missing:
        raise RuntimeError(f"routes without a declared permission: {', '.join(missing)}")
