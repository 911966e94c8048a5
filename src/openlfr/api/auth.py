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
    session_id: int | None = None

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
        found: users.Credential | None = None
        secret: str | None = None
        via_token = False
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            found = users.user_for_token(db, header[7:].strip(), now=now)
            via_token = True
            if found is None:
                raise Unauthorised("invalid, expired or revoked API token")
        else:
            secret = request.cookies.get(SESSION_COOKIE)
            if secret:
                _same_origin(request)
                found = users.user_for_session(db, secret, now=now, config=plane.settings.auth)
        user = None if found is None else found.user
        actor = (
            users.actor_for(found.user, via_token=via_token, credential=found.label)
            if found is not None
            else Actor.anonymous(client_address(request))
        )
        caller = Caller(
            ctx=Ctx(db=db, actor=actor, now=now, blobs=plane.blobs),
            user=user,
            session_secret=secret if user is not None else None,
            session_id=None if found is None else found.session_id,
        )
        if self.permission is None:
            return caller
        if user is None:
            raise Unauthorised("log in, or send an API token as 'Authorization: Bearer …'")
        if not allows(Role(user.role), self.permission):
            raise Forbidden(
                f"role {user.role} lacks permission {self.permission}", code="forbidden"
            )
        pending = users.pending_setup(user, plane.settings.auth)
        if pending is not None and self.permission is not Permission.ACCOUNT_SELF:
            raise Forbidden(_PENDING[pending], code=pending)
        return caller


_PENDING = {
    "password_change_required": "your password was set by an administrator: choose your own "
    "first (POST /api/v1/auth/me/password, or the console's Account page)",
    "totp_enrolment_required": "your role signs in with a second factor: set up an "
    "authenticator app first (POST /api/v1/auth/me/totp, or the console's Account page)",
}


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


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
