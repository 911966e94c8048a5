"""Enrolling in, and leaving, two-factor sign-in (TOTP), audited."""

from __future__ import annotations

from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.config.server import AuthConfig
from openlfr.storage.context import Ctx
from openlfr.storage.errors import Conflict, Forbidden, InvalidInput
from openlfr.users import totp
from openlfr.users.models import User

ENTITY = "user"


def start(ctx: Ctx, user: User) -> totp.Enrolment:
    """A new secret for the owner's authenticator app (shown once, confirmed by a code)."""
    if user.service_account:
        raise Conflict("a service account signs in with tokens, not codes", code="service_account")
    if user.totp_enabled:
        raise Conflict(
            "two-factor sign-in is already set up; an administrator can reset it (a lost phone)",
            code="totp_enrolled",
        )
    enrolment = totp.new_secret(ctx.blobs, user)
    ctx.db.flush()
    return enrolment


def confirm(ctx: Ctx, user: User, code: str) -> User:
    """Turn two-factor sign-in on once the owner shows a right code from the new secret."""
    if user.totp_enabled:
        raise Conflict("two-factor sign-in is already set up", code="totp_enrolled")
    if user.totp_sealed is None:
        raise Conflict("start the enrolment first", code="totp_not_started")
    if not totp.check_code(ctx.blobs, user, code, now=ctx.now):
        raise InvalidInput(
            "that code is not right: check the app's clock and type the code it shows now",
            field="code",
        )
    user.totp_confirmed_at = ctx.now
    ctx.db.flush()
    audit.record(
        ctx,
        Action.TOTP_ENROLLED,
        entity_type=ENTITY,
        entity_id=user.id,
        details={"username": user.username},
    )
    return user


def remove(ctx: Ctx, user: User, code: str, config: AuthConfig) -> User:
    """Leave two-factor sign-in (roles that require it cannot)."""
    if user.role in config.totp_required_roles:
        raise Forbidden(
            f"the {user.role} role must sign in with a code", code="totp_required_for_role"
        )
    if not user.totp_enabled:
        raise Conflict("two-factor sign-in is not set up", code="totp_not_enrolled")
    if not totp.check_code(ctx.blobs, user, code, now=ctx.now):
        raise InvalidInput("that code is not right", field="code")
    totp.clear(user)
    ctx.db.flush()
    audit.record(
        ctx,
        Action.TOTP_REMOVED,
        entity_type=ENTITY,
        entity_id=user.id,
        details={"username": user.username},
    )
    return user
