"""Routes for logging in and out, accounts and API tokens (thin: the service decides)."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from fastapi import APIRouter, Request, Response, status

from openlfr.api.auth import SESSION_COOKIE, Caller, Public, client_address, need
from openlfr.api.deps import Plane
from openlfr.api.errors import ErrorBody
from openlfr.api.intake import checks_text_itself
from openlfr.api.pagination import Page, Paging
from openlfr.api.params import RowId
from openlfr.users import second_factor, service
from openlfr.users.models import (
    LoginRequest,
    PasswordChange,
    TokenCreate,
    TokenCreated,
    TokenRead,
    TotpCode,
    TotpEnrolment,
    User,
    UserCreate,
    UserRead,
    UserUpdate,
)
from openlfr.users.roles import Permission as P

router = APIRouter(tags=["users"])
Manager = Annotated[Caller, need(P.USERS_MANAGE)]
Self = Annotated[Caller, need(P.ACCOUNT_SELF)]


@router.post(
    "/auth/login",
    response_model=UserRead,
    responses={429: {"model": ErrorBody, "description": "Wait Retry-After seconds."}},
)
@checks_text_itself
def login(
    body: LoginRequest, caller: Public, plane: Plane, request: Request, response: Response
) -> User:
    """Open a console session (an HttpOnly, SameSite=Strict cookie; Secure unless served
    on loopback). Accounts enrolled in two-factor sign-in send ``totp`` as well. Failed
    attempts slow down further ones from the same address (429 with Retry-After)."""
    result = service.login(
        caller.ctx,
        body.username,
        body.password,
        plane.passwords,
        plane.settings.auth,
        throttle=plane.throttle,
        address=client_address(request),
        code=body.totp,
    )
    response.set_cookie(
        SESSION_COOKIE,
        result.session_secret,
        max_age=int(plane.settings.auth.session_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=cookie_secure(request, plane.settings.auth.cookie_secure),
        path="/",
    )
    return result.user


def cookie_secure(request: Request, setting: bool | None) -> bool:
    """The configured choice, else Secure unless this server answers on loopback."""
    if setting is not None:
        return setting
    if request.url.scheme == "https":
        return True
    server = request.scope.get("server")
    host = server[0] if server else request.url.hostname or ""
    return not _loopback(str(host))


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(caller: Public, response: Response) -> None:
    """End the current console session (no effect without one)."""
    if caller.session_secret:
        service.logout(caller.ctx, caller.session_secret)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/auth/me", response_model=UserRead)
def me(caller: Self) -> User:
    assert caller.user is not None
    return caller.user


@router.post("/auth/me/password", response_model=UserRead)
def change_my_password(body: PasswordChange, caller: Self, plane: Plane) -> User:
    """Choose a new password (policy checked); other sessions of yours end."""
    assert caller.user is not None
    return service.change_own_password(
        caller.ctx,
        caller.user,
        body.current_password,
        body.new_password,
        plane.passwords,
        keep_session=caller.session_id,
    )


@router.post("/auth/me/totp", response_model=TotpEnrolment, status_code=201)
def start_totp(caller: Self) -> TotpEnrolment:
    """Start two-factor sign-in: a new secret for an authenticator app (shown once)."""
    assert caller.user is not None
    e = second_factor.start(caller.ctx, caller.user)
    return TotpEnrolment(secret=e.secret, uri=e.uri, qr_svg_data_uri=e.qr_svg_data_uri)


@router.post("/auth/me/totp/confirm", response_model=UserRead)
def confirm_totp(body: TotpCode, caller: Self) -> User:
    """Turn two-factor sign-in on with a code the app shows for the new secret."""
    assert caller.user is not None
    return second_factor.confirm(caller.ctx, caller.user, body.code)


@router.post("/auth/me/totp/remove", response_model=UserRead)
def remove_totp(body: TotpCode, caller: Self, plane: Plane) -> User:
    """Turn two-factor sign-in off (only for roles that do not require it)."""
    assert caller.user is not None
    return second_factor.remove(caller.ctx, caller.user, body.code, plane.settings.auth)


@router.get("/auth/me/tokens", response_model=list[TokenRead])
def my_tokens(caller: Self) -> list[TokenRead]:
    assert caller.user is not None
    return [TokenRead.model_validate(t) for t in service.list_tokens(caller.ctx, caller.user)]


@router.post("/auth/me/tokens", response_model=TokenCreated, status_code=201)
def create_my_token(body: TokenCreate, caller: Self) -> TokenCreated:
    """A further token for the calling service account (people hold no tokens)."""
    assert caller.user is not None
    row, token = service.create_token(caller.ctx, caller.user, body)
    return TokenCreated.model_validate(
        {**TokenRead.model_validate(row).model_dump(), "token": token}
    )


@router.delete("/auth/me/tokens/{token_id}", response_model=TokenRead)
def revoke_my_token(token_id: RowId, caller: Self) -> TokenRead:
    assert caller.user is not None
    return TokenRead.model_validate(service.revoke_token(caller.ctx, caller.user, token_id))


@router.get("/users", response_model=Page[UserRead])
def list_users(caller: Manager, page: Paging) -> Page[UserRead]:
    rows, total = service.list_users(caller.ctx, offset=page.offset, limit=page.limit)
    return Page(
        items=[UserRead.model_validate(u) for u in rows],
        total=total,
        offset=page.offset,
        limit=page.limit,
    )


@router.post("/users", response_model=UserRead, status_code=201)
def create_user(body: UserCreate, caller: Manager, plane: Plane) -> User:
    """A person (with a password) or a service account (API tokens only)."""
    return service.create(caller.ctx, body, plane.passwords)


@router.get("/users/{user_id}", response_model=UserRead)
def get_user(user_id: RowId, caller: Manager) -> User:
    return service.get(caller.ctx, user_id)


@router.patch("/users/{user_id}", response_model=UserRead)
def update_user(user_id: RowId, body: UserUpdate, caller: Manager, plane: Plane) -> User:
    """Change role, disable, reset the password (temporary: the owner must change it; their
    sessions and tokens end) or reset two-factor sign-in."""
    return service.update(caller.ctx, service.get(caller.ctx, user_id), body, plane.passwords)


@router.get("/users/{user_id}/tokens", response_model=list[TokenRead])
def list_user_tokens(user_id: RowId, caller: Manager) -> list[TokenRead]:
    user = service.get(caller.ctx, user_id)
    return [TokenRead.model_validate(t) for t in service.list_tokens(caller.ctx, user)]


@router.post("/users/{user_id}/tokens", response_model=TokenCreated, status_code=201)
def create_user_token(user_id: RowId, body: TokenCreate, caller: Manager) -> TokenCreated:
    """An API token for a service account (refused for people); the secret is in this
    response only."""
    row, token = service.create_token(caller.ctx, service.get(caller.ctx, user_id), body)
    return TokenCreated.model_validate(
        {**TokenRead.model_validate(row).model_dump(), "token": token}
    )


@router.delete("/users/{user_id}/tokens/{token_id}", response_model=TokenRead)
def revoke_user_token(user_id: RowId, token_id: RowId, caller: Manager) -> TokenRead:
    user = service.get(caller.ctx, user_id)
    return TokenRead.model_validate(service.revoke_token(caller.ctx, user, token_id))
