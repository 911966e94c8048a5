"""Accounts, throttled sign-in with passwords and TOTP, console sessions and API tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.config.server import AuthConfig
from openlfr.storage.context import Actor, ActorKind, Ctx
from openlfr.storage.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyAttempts,
)
from openlfr.users import totp
from openlfr.users.credentials import (
    Passwords,
    digest,
    new_api_token,
    new_session_secret,
    same_digest,
    split_api_token,
)
from openlfr.users.models import ApiToken, LoginSession, TokenCreate, User, UserCreate, UserUpdate
from openlfr.users.policy import check_password
from openlfr.users.roles import Role
from openlfr.users.throttle import LoginThrottle

ENTITY = "user"


class LoginFailed(DomainError):
    """Wrong username, password or code, or a disabled account (one message for all, so
    the response does not reveal which). The failure is audited and counted."""

    code = "login_failed"
    commit_anyway = True

    def __init__(self) -> None:
        super().__init__(
            "login failed: wrong username or password (or authentication code, if you use one)"
        )


class SignInRefused(InvalidInput):
    """A sign-in holding a NUL character (no account's name or password has one): refused
    as invalid, and audited and counted like any failed attempt."""

    commit_anyway = True

    def __init__(self, field: str) -> None:
        super().__init__(
            f"{field}: NUL characters are not accepted", field=field, code="validation_error"
        )


class NotAPerson(Forbidden):
    """API tokens belong to service accounts; people sign in with their own password."""

    def __init__(self, username: str) -> None:
        super().__init__(
            f"{username} is a person's account: API tokens are only for service accounts "
            "(workers, integrations). Create a service account for the job.",
            code="not_a_service_account",
        )


def actor_for(user: User, *, via_token: bool = False, credential: str | None = None) -> Actor:
    return Actor(
        ActorKind.TOKEN if via_token else ActorKind.USER,
        user.username,
        user.id,
        credential,
        user.person,
    )


def pending_setup(user: User, config: AuthConfig) -> str | None:
    """What a person must do before anything else: change a password someone else set,
    or enrol in two-factor sign-in that their role requires. None when nothing is due."""
    if user.service_account:
        return None
    if user.must_change_password:
        return "password_change_required"
    if user.role in config.totp_required_roles and not user.totp_enabled:
        return "totp_enrolment_required"
    return None


def get(ctx: Ctx, user_id: int) -> User:
    user = ctx.db.get(User, user_id)
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    return user


def by_username(ctx: Ctx, username: str) -> User:
    user = ctx.db.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def list_users(ctx: Ctx, *, offset: int, limit: int) -> tuple[list[User], int]:
    rows = ctx.db.execute(select(User).order_by(User.id).offset(offset).limit(limit)).scalars()
    total = ctx.db.execute(select(func.count()).select_from(User)).scalar_one()
    return list(rows), int(total)


def create(ctx: Ctx, data: UserCreate, passwords: Passwords) -> User:
    """A person (password) or a service account (tokens); the password must pass the policy."""
    if data.password is not None:
        check_password(
            data.password,
            passwords.config,
            user_inputs=(data.username, data.display_name),
            field="password",
        )
    taken = ctx.db.execute(select(User.id).where(User.username == data.username)).first()
    if taken:
        raise Conflict(f"username {data.username!r} is taken", code="username_taken")
    user = User(
        username=data.username,
        display_name=data.display_name,
        rank=data.rank.strip(),
        staff_number=data.staff_number.strip(),
        role=data.role,
        password_hash=passwords.hash(data.password) if data.password else None,
        service_account=bool(data.service_account),
        must_change_password=False,
        active=True,
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
        details={
            "username": user.username,
            "person": user.person,
            "role": user.role,
            "service_account": user.service_account,
        },
    )
    return user


def update(ctx: Ctx, user: User, data: UserUpdate, passwords: Passwords) -> User:
    changed: list[str] = []
    if data.display_name is not None:
        user.display_name = data.display_name
        changed.append("display_name")
    for key in ("rank", "staff_number"):
        value = getattr(data, key)
        if value is not None and value.strip() != getattr(user, key):
            setattr(user, key, value.strip())
            changed.append(key)
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
        set_password(ctx, user, data.password, passwords, by_owner=ctx.actor.user_id == user.id)
        changed.append("password")
    if data.reset_totp and user.totp_sealed is not None:
        totp.clear(user)
        _end_sessions(ctx.db, user.id)
        changed.append("totp_reset")
    ctx.db.flush()
    audit.record(
        ctx,
        Action.USER_UPDATED,
        entity_type=ENTITY,
        entity_id=user.id,
        details={
            "username": user.username,
            "person": user.person,
            "changed": changed,
            "role": user.role,
        },
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


def set_password(
    ctx: Ctx, user: User, password: str, passwords: Passwords, *, by_owner: bool
) -> None:
    """Set a password (policy checked). Set by anyone but its owner, it is temporary: the
    owner must change it at the next sign-in, and every session and token of theirs ends,
    so whoever set it cannot act as them."""
    if user.service_account:
        raise InvalidInput(
            "a service account has no password (it uses API tokens)", field="password"
        )
    check_password(
        password,
        passwords.config,
        user_inputs=(user.username, user.display_name),
        field="password",
    )
    user.password_hash = passwords.hash(password)
    user.must_change_password = not by_owner
    _end_sessions(ctx.db, user.id)
    if not by_owner:
        _revoke_tokens(ctx, user)


def change_own_password(
    ctx: Ctx, user: User, current: str, new: str, passwords: Passwords, *, keep_session: int | None
) -> User:
    """The owner changes their password: the current one proves it is them. Their other
    sessions end; the one they use now (``keep_session``) stays."""
    if not passwords.verify(user.password_hash, current):
        raise InvalidInput("the current password is wrong", field="current_password")
    if passwords.verify(user.password_hash, new):
        raise InvalidInput("choose a password you have not used here", field="new_password")
    try:
        check_password(
            new,
            passwords.config,
            user_inputs=(user.username, user.display_name),
            field="new_password",
        )
    except InvalidInput:
        raise
    user.password_hash = passwords.hash(new)
    user.must_change_password = False
    query = delete(LoginSession).where(LoginSession.user_id == user.id)
    if keep_session is not None:
        query = query.where(LoginSession.id != keep_session)
    ctx.db.execute(query)
    ctx.db.flush()
    audit.record(
        ctx,
        Action.PASSWORD_CHANGED,
        entity_type=ENTITY,
        entity_id=user.id,
        details={"username": user.username},
    )
    return user


def _end_sessions(db: Session, user_id: int) -> None:
    db.execute(delete(LoginSession).where(LoginSession.user_id == user_id))


def _revoke_tokens(ctx: Ctx, user: User) -> None:
    for row in ctx.db.execute(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).scalars():
        row.revoked_at = ctx.now
        audit.record(
            ctx,
            Action.TOKEN_REVOKED,
            entity_type="token",
            entity_id=row.id,
            details={"user": user.username, "name": row.name, "why": "password reset"},
        )


@dataclass(frozen=True, slots=True)
class LoginResult:
    user: User
    session_secret: str
    session_id: int
    expires_at: datetime


def login(
    ctx: Ctx,
    username: str,
    password: str,
    passwords: Passwords,
    config: AuthConfig,
    *,
    throttle: LoginThrottle,
    address: str,
    code: str | None = None,
) -> LoginResult:
    """Check the password (and TOTP code, once enrolled) and open a session.

    Refusals are audited: :class:`LoginFailed` for any wrong part, and
    :class:`TooManyAttempts` while the throttle makes this address wait (checked
    before the password, so waiting attempts reveal nothing and cost nothing).
    """
    wait = throttle.wait_s(username, address)
    if wait > 0:
        _failed(ctx, username, None, "throttled", address)
        raise TooManyAttempts(
            f"too many failed sign-ins from this address: try again in {wait:.0f} s",
            retry_after_s=wait,
        )
    for field, text in (("username", username), ("password", password), ("totp", code)):
        if text is not None and "\x00" in text:
            # Before any query: PostgreSQL cannot even compare a text holding one.
            throttle.failed(username, address)
            _failed(ctx, username, None, "NUL character", address)
            raise SignInRefused(field)
    user = ctx.db.execute(
        select(User).where(User.username == username).with_for_update()
    ).scalar_one_or_none()
    ok = passwords.verify(user.password_hash if user else None, password)
    reason = None
    if user is None:
        reason = "unknown user"
    elif not ok:
        reason = "wrong password"
    elif not user.active:
        reason = "disabled"
    elif user.totp_enabled and not totp.check_code(ctx.blobs, user, code or "", now=ctx.now):
        reason = "wrong or missing authentication code"
    if reason is not None or user is None:
        throttle.failed(username, address)
        _failed(ctx, username, user, reason or "unknown user", address)
        ctx.db.flush()
        raise LoginFailed()
    assert user.password_hash is not None
    throttle.succeeded(username, address)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash(password)
    user.last_login_at = ctx.now
    secret = new_session_secret()
    expires = ctx.now + timedelta(hours=config.session_hours)
    row = LoginSession(
        user_id=user.id,
        token_hash=digest(secret),
        created_at=ctx.now,
        expires_at=expires,
        last_seen_at=ctx.now,
    )
    ctx.db.add(row)
    ctx.db.flush()
    # The event names the session it opened (the actor was anonymous until now).
    acting = Ctx(
        db=ctx.db,
        actor=actor_for(user, credential=f"session:{row.id}"),
        now=ctx.now,
        blobs=ctx.blobs,
    )
    audit.record(
        acting,
        Action.LOGIN,
        entity_type=ENTITY,
        entity_id=user.id,
        details={
            "username": user.username,
            "address": address,
            "second_factor": user.totp_enabled,
            "pending": pending_setup(user, config),
        },
    )
    return LoginResult(user, secret, row.id, expires)


def _failed(ctx: Ctx, username: str, user: User | None, reason: str, address: str) -> None:
    audit.record(
        ctx,
        Action.LOGIN_FAILED,
        entity_type=ENTITY,
        entity_id=None if user is None else user.id,
        details={
            "username": username[:64].replace("\x00", "\ufffd"),
            "reason": reason,
            "address": address,
        },
    )


def logout(ctx: Ctx, session_secret: str) -> None:
    row = ctx.db.execute(
        select(LoginSession).where(LoginSession.token_hash == digest(session_secret))
    ).scalar_one_or_none()
    if row is not None:
        ctx.db.delete(row)
        audit.record(ctx, Action.LOGOUT, entity_type=ENTITY, entity_id=row.user_id)
        ctx.db.flush()


@dataclass(frozen=True, slots=True)
class Credential:
    """Who a request's credential belongs to, and which credential it is."""

    user: User
    label: str  # "session:<id>" or "token:<id>"
    session_id: int | None = None


def user_for_session(
    db: Session, session_secret: str, *, now: datetime, config: AuthConfig, touch: bool = True
) -> Credential | None:
    """The active person behind a session cookie, refreshing its idle timer (unless
    ``touch`` is False); None if invalid."""
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
    if touch:
        row.last_seen_at = now
    return Credential(user, f"session:{row.id}", row.id)


def user_for_token(
    db: Session, token: str, *, now: datetime, touch: bool = True
) -> Credential | None:
    """The active service account behind an API token; None if malformed, unknown,
    revoked, expired, or held by a person's account (issued before tokens were refused
    to people)."""
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
    if user is None or not user.active or not user.service_account:
        return None
    if touch:
        row.last_used_at = now
    return Credential(user, f"token:{row.id}")


def still_valid(db: Session, credential: str, *, now: datetime, config: AuthConfig) -> bool:
    """Whether a credential (``session:<id>`` / ``token:<id>``) still stands: not logged
    out, expired, revoked, and its account active. Touches nothing."""
    kind, _, raw = credential.partition(":")
    if not raw.isdigit():
        return False
    user: User | None = None
    if kind == "session":
        session = db.get(LoginSession, int(raw))
        if session is None or now >= session.expires_at:
            return False
        if now >= session.last_seen_at + timedelta(minutes=config.idle_minutes):
            return False
        user = db.get(User, session.user_id)
    elif kind == "token":
        token = db.get(ApiToken, int(raw))
        if token is None or token.revoked_at is not None:
            return False
        if token.expires_at is not None and now >= token.expires_at:
            return False
        user = db.get(User, token.user_id)
        if user is not None and not user.service_account:
            return False
    return user is not None and user.active


def create_token(ctx: Ctx, user: User, data: TokenCreate) -> tuple[ApiToken, str]:
    """A new API token for a service account (:class:`NotAPerson` for a person's)."""
    if not user.service_account:
        raise NotAPerson(user.username)
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
