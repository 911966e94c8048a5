"""Accounts, logins with lockout, console sessions and API tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.config.server import AuthConfig
from openlfr.storage.context import Actor, ActorKind, Ctx
from openlfr.storage.errors import Conflict, DomainError, NotFound
from openlfr.users.credentials import (
    Passwords,
    digest,
    new_api_token,
    new_session_secret,
    same_digest,
    split_api_token,
)
from openlfr.users.models import ApiToken, LoginSession, TokenCreate, User, UserCreate, UserUpdate
from openlfr.users.roles import Role

ENTITY = "user"


class LoginFailed(DomainError):
    """Wrong username or password, a disabled account, or a locked one (one message for all,
    so the response does not reveal which). The failure is audited and counted."""

    code = "login_failed"
    commit_anyway = True

    def __init__(self) -> None:
        super().__init__("login failed: wrong username or password, or the account is locked")


def actor_for(user: User, *, via_token: bool = False) -> Actor:
    return Actor(ActorKind.TOKEN if via_token else ActorKind.USER, user.username, user.id)


def get(ctx: Ctx, user_id: int) -> User:
    user = ctx.db.get(User, user_id)
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    return user


def list_users(ctx: Ctx, *, offset: int, limit: int) -> tuple[list[User], int]:
    rows = ctx.db.execute(select(User).order_by(User.id).offset(offset).limit(limit)).scalars()
    total = ctx.db.execute(select(func.count()).select_from(User)).scalar_one()
    return list(rows), int(total)


def create(ctx: Ctx, data: UserCreate, passwords: Passwords) -> User:
    taken = ctx.db.execute(select(User.id).where(User.username == data.username)).first()
    if taken:
        raise Conflict(f"username {data.username!r} is taken", code="username_taken")
    user = User(
        username=data.username,
        display_name=data.display_name,
        role=data.role,
        password_hash=passwords.hash(data.password) if data.password else None,
        active=True,
        failed_logins=0,
        created_at=ctx.now,
        created_by=ctx.actor.label,
    )
    ctx.db.add(user)
    ctx.db.flush()
    audit.record(
        ctx,
        Action.USER_CREATED,
        entity_type=ENTITY,
        entity_id=user.id,
        details={"username": user.username, "role": user.role, "machine": data.password is None},
    )
    return user


def update(ctx: Ctx, user: User, data: UserUpdate, passwords: Passwords) -> User:
    changed: list[str] = []
    if data.display_name is not None:
        user.display_name = data.display_name
        changed.append("display_name")
    if data.role is not None and data.role != user.role:
        _keep_an_admin(ctx, user, becoming=data.role)
        user.role = data.role
        changed.append("role")
    if data.active is not None and data.active != user.active:
        if not data.active:
            _keep_an_admin(ctx, user, becoming=None)
            _end_sessions(ctx.db, user.id)
        user.active = data.active
        changed.append("active")
    if data.password is not None:
        user.password_hash = passwords.hash(data.password)
        _end_sessions(ctx.db, user.id)
        changed.append("password")
    if data.unlock:
        user.failed_logins = 0
        user.locked_until = None
        changed.append("unlocked")
    ctx.db.flush()
    audit.record(
        ctx,
        Action.USER_UPDATED,
        entity_type=ENTITY,
        entity_id=user.id,
        details={"username": user.username, "changed": changed, "role": user.role},
    )
    return user


def _keep_an_admin(ctx: Ctx, user: User, *, becoming: Role | None) -> None:
    if user.role != Role.ADMIN or becoming == Role.ADMIN:
        return
    others = ctx.db.execute(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN, User.active.is_(True), User.id != user.id)
    ).scalar_one()
    if not others:
        raise Conflict(
            "this is the last active admin; create another admin first", code="last_admin"
        )


def _end_sessions(db: Session, user_id: int) -> None:
    db.execute(delete(LoginSession).where(LoginSession.user_id == user_id))


@dataclass(frozen=True, slots=True)
class LoginResult:
    user: User
    session_secret: str
    expires_at: datetime


def login(
    ctx: Ctx, username: str, password: str, passwords: Passwords, config: AuthConfig
) -> LoginResult:
    """Check a password and open a session; :class:`LoginFailed` (audited) otherwise.

    After ``lockout_threshold`` consecutive failures the account is locked for
    ``lockout_minutes``; a correct password does not open a locked account.
    """
    user = ctx.db.execute(
        select(User).where(User.username == username).with_for_update()
    ).scalar_one_or_none()
    ok = passwords.verify(user.password_hash if user else None, password)
    locked = user is not None and user.locked_until is not None and user.locked_until > ctx.now
    if user is None or not ok or locked or not user.active:
        reason = (
            "unknown user"
            if user is None
            else "locked"
            if locked
            else "disabled"
            if not user.active
            else "wrong password"
        )
        audit.record(
            ctx,
            Action.LOGIN_FAILED,
            entity_type=ENTITY,
            entity_id=None if user is None else user.id,
            details={"username": username[:64], "reason": reason},
        )
        if user is not None and not ok and not locked:
            user.failed_logins += 1
            if user.failed_logins >= config.lockout_threshold:
                user.locked_until = ctx.now + timedelta(minutes=config.lockout_minutes)
                audit.record(
                    ctx,
                    Action.ACCOUNT_LOCKED,
                    entity_type=ENTITY,
                    entity_id=user.id,
                    details={
                        "username": user.username,
                        "failures": user.failed_logins,
                        "until": user.locked_until.isoformat(),
                    },
                )
        ctx.db.flush()
        raise LoginFailed()
    assert user.password_hash is not None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = ctx.now
    secret = new_session_secret()
    expires = ctx.now + timedelta(hours=config.session_hours)
    ctx.db.add(
        LoginSession(
            user_id=user.id,
            token_hash=digest(secret),
            created_at=ctx.now,
            expires_at=expires,
            last_seen_at=ctx.now,
        )
    )
    ctx.db.flush()
    audit.record(
        ctx,
        Action.LOGIN,
        entity_type=ENTITY,
        entity_id=user.id,
        details={"username": user.username},
    )
    return LoginResult(user, secret, expires)


def logout(ctx: Ctx, session_secret: str) -> None:
    row = ctx.db.execute(
        select(LoginSession).where(LoginSession.token_hash == digest(session_secret))
    ).scalar_one_or_none()
    if row is not None:
        ctx.db.delete(row)
        audit.record(ctx, Action.LOGOUT, entity_type=ENTITY, entity_id=row.user_id)
        ctx.db.flush()


def user_for_session(
    db: Session, session_secret: str, *, now: datetime, config: AuthConfig
) -> User | None:
    """The active user behind a session cookie, refreshing its idle timer; None if invalid."""
    row = db.execute(
        select(LoginSession).where(LoginSession.token_hash == digest(session_secret))
    ).scalar_one_or_none()
    if row is None:
        return None
    idle_limit = row.last_seen_at + timedelta(minutes=config.idle_minutes)
    if now >= row.expires_at or now >= idle_limit:
        db.delete(row)
        return None
    user = db.get(User, row.user_id)
    if user is None or not user.active:
        return None
    row.last_seen_at = now
    return user


def user_for_token(db: Session, token: str, *, now: datetime) -> User | None:
    """The active user behind an API token; None if malformed, unknown, revoked or expired."""
    parts = split_api_token(token)
    if parts is None:
        return None
    prefix, secret = parts
    row = db.execute(select(ApiToken).where(ApiToken.prefix == prefix)).scalar_one_or_none()
    if row is None or not same_digest(row.token_hash, digest(secret)):
        return None
    if row.revoked_at is not None or (row.expires_at is not None and now >= row.expires_at):
        return None
    user = db.get(User, row.user_id)
    if user is None or not user.active:
        return None
    row.last_used_at = now
    return user


def create_token(ctx: Ctx, user: User, data: TokenCreate) -> tuple[ApiToken, str]:
    token, prefix, secret = new_api_token()
    row = ApiToken(
        user_id=user.id,
        name=data.name,
        prefix=prefix,
        token_hash=digest(secret),
        created_at=ctx.now,
        expires_at=None
        if data.expires_days is None
        else ctx.now + timedelta(days=data.expires_days),
    )
    ctx.db.add(row)
    ctx.db.flush()
    audit.record(
        ctx,
        Action.TOKEN_CREATED,
        entity_type="token",
        entity_id=row.id,
        details={"user": user.username, "name": row.name, "prefix": prefix},
    )
    return row, token


def list_tokens(ctx: Ctx, user: User) -> list[ApiToken]:
    return list(
        ctx.db.execute(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
        ).scalars()
    )


def revoke_token(ctx: Ctx, user: User, token_id: int) -> ApiToken:
    row = ctx.db.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound(f"no token {token_id} for {user.username}")
    if row.revoked_at is None:
        row.revoked_at = ctx.now
        audit.record(
            ctx,
            Action.TOKEN_REVOKED,
            entity_type="token",
            entity_id=row.id,
            details={"user": user.username, "name": row.name},
        )
        ctx.db.flush()
    return row


def purge_expired_sessions(db: Session, *, now: datetime) -> int:
    result = db.execute(delete(LoginSession).where(LoginSession.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)
