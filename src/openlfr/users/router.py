"""Routes for logging in and out, accounts and API tokens (thin: the service decides)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response, status

from openlfr.api.auth import SESSION_COOKIE, Caller, Public, need
from openlfr.api.deps import Plane
from openlfr.api.pagination import Page, Paging
from openlfr.users import service
from openlfr.users.models import (
    LoginRequest,
    TokenCreate,
    TokenCreated,
    TokenRead,
    User,
    UserCreate,
    UserRead,
    UserUpdate,
)
from openlfr.users.roles import Permission as P

router = APIRouter(tags=["users"])
Manager = Annotated[Caller, need(P.USERS_MANAGE)]
Self = Annotated[Caller, need(P.ACCOUNT_SELF)]


@router.post("/auth/login", response_model=UserRead)
def login(body: LoginRequest, caller: Public, plane: Plane, response: Response) -> User:
    """Open a console session (an HttpOnly, SameSite=Strict cookie)."""
    result = service.login(
        caller.ctx, body.username, body.password, plane.passwords, plane.settings.auth
    )
    response.set_cookie(
        SESSION_COOKIE,
        result.session_secret,
        max_age=int(plane.settings.auth.session_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=plane.settings.auth.cookie_secure,
        path="/",
    )
    return result.user


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


@router.get("/auth/me/tokens", response_model=list[TokenRead])
def my_tokens(caller: Self) -> list[TokenRead]:
    assert caller.user is not None
    return [TokenRead.model_validate(t) for t in service.list_tokens(caller.ctx, caller.user)]


@router.post("/auth/me/tokens", response_model=TokenCreated, status_code=201)
def create_my_token(body: TokenCreate, caller: Self) -> TokenCreated:
    """A personal API token for scripts, with the caller's own role."""
    assert caller.user is not None
    row, token = service.create_token(caller.ctx, caller.user, body)
    return TokenCreated.model_validate(
        {**TokenRead.model_validate(row).model_dump(), "token": token}
    )


@router.delete("/auth/me/tokens/{token_id}", response_model=TokenRead)
def revoke_my_token(token_id: int, caller: Self) -> TokenRead:
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
    """A person (with a password) or a machine account (API tokens only)."""
    return service.create(caller.ctx, body, plane.passwords)


@router.get("/users/{user_id}", response_model=UserRead)
def get_user(user_id: int, caller: Manager) -> User:
    return service.get(caller.ctx, user_id)


@router.patch("/users/{user_id}", response_model=UserRead)
def update_user(user_id: int, body: UserUpdate, caller: Manager, plane: Plane) -> User:
    """Change role, disable, reset the password (ends sessions) or clear a lockout."""
    return service.update(caller.ctx, service.get(caller.ctx, user_id), body, plane.passwords)


@router.get("/users/{user_id}/tokens", response_model=list[TokenRead])
def list_user_tokens(user_id: int, caller: Manager) -> list[TokenRead]:
    user = service.get(caller.ctx, user_id)
    return [TokenRead.model_validate(t) for t in service.list_tokens(caller.ctx, user)]


@router.post("/users/{user_id}/tokens", response_model=TokenCreated, status_code=201)
def create_user_token(user_id: int, body: TokenCreate, caller: Manager) -> TokenCreated:
    """An API token for a (machine) account; the secret is in this response only."""
    row, token = service.create_token(caller.ctx, service.get(caller.ctx, user_id), body)
    return TokenCreated.model_validate(
        {**TokenRead.model_validate(row).model_dump(), "token": token}
    )


@router.delete("/users/{user_id}/tokens/{token_id}", response_model=TokenRead)
def revoke_user_token(user_id: int, token_id: int, caller: Manager) -> TokenRead:
    user = service.get(caller.ctx, user_id)
    return TokenRead.model_validate(service.revoke_token(caller.ctx, user, token_id))
