"""Who is calling (session cookie or API token) and whether the route's permission allows it.

Every route declares exactly one :func:`need` (or :data:`Public`); the
permission-matrix test reads these declarations from the route table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Request

from openlfr.api.deps import DbSession, Plane
from openlfr.storage.context import Actor, Ctx
from openlfr.storage.errors import Forbidden, Unauthorised
from openlfr.users import service as users
from openlfr.users.models import User
from openlfr.users.roles import Permission, Role, allows

SESSION_COOKIE = "openlfr_session"


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated caller of one request and its unit of work."""

    ctx: Ctx
    user: User | None
    session_secret: str | None = None

    @property
    def role(self) -> Role | None:
        return None if self.user is None else Role(self.user.role)


class Requires:
    """Dependency that authenticates the caller and checks one permission.

    ``permission=None`` marks a public route (still identifies a caller if one
    presents credentials, e.g. for logout).
    """

    def __init__(self, permission: Permission | None) -> None:
        self.permission = permission

    def __repr__(self) -> str:
        return f"Requires({self.permission})"

    def __call__(self, request: Request, plane: Plane, db: DbSession) -> Caller:
        now = plane.clock.now()
        user: User | None = None
        secret: str | None = None
        via_token = False
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            user = users.user_for_token(db, header[7:].strip(), now=now)
            via_token = True
            if user is None:
                raise Unauthorised("invalid, expired or revoked API token")
        else:
            secret = request.cookies.get(SESSION_COOKIE)
            if secret:
                _same_origin(request)
                user = users.user_for_session(db, secret, now=now, config=plane.settings.auth)
        actor = (
            users.actor_for(user, via_token=via_token)
            if user is not None
            else Actor.anonymous(request.client.host if request.client else "anonymous")
        )
        caller = Caller(
            ctx=Ctx(db=db, actor=actor, now=now, blobs=plane.blobs),
            user=user,
            session_secret=secret if user is not None else None,
        )
        if self.permission is None:
            return caller
        if user is None:
            raise Unauthorised("log in, or send an API token as 'Authorization: Bearer …'")
        if not allows(Role(user.role), self.permission):
            raise Forbidden(
                f"role {user.role} lacks permission {self.permission}", code="forbidden"
            )
        return caller


def _same_origin(request: Request) -> None:
    """Refuse a cookie-authenticated change sent from another site's page.

    The SameSite=Strict cookie already keeps other sites' requests cookie-less;
    checking ``Origin`` as well covers browsers and proxies that do not honour it.
    """
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    origin = request.headers.get("origin")
    if origin is None:
        return
    host = request.headers.get("host", "")
    if urlsplit(origin).netloc != host:
        raise Forbidden(f"cross-site request from {origin} refused", code="cross_site")


def need(permission: Permission) -> Any:
    """``caller: Annotated[Caller, need(Permission.X)]`` declares a route's permission."""
    return Depends(Requires(permission))


Public = Annotated[Caller, Depends(Requires(None))]
