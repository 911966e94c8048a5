"""Roles and the permissions each grants: the single table every route's check reads."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a user is for. One role per account keeps duties separate."""

    ADMIN = "admin"
    AUTHORISING_OFFICER = "authorising_officer"
    COMMANDER = "commander"
    WATCHLIST_MANAGER = "watchlist_manager"
    OPERATOR = "operator"
    AUDITOR = "auditor"
    # A camera worker's machine account: pulls its assignments, reports alerts and health.
    WORKER = "worker"


class Permission(StrEnum):
    """One capability a route can demand."""

    USERS_MANAGE = "users:manage"
    ACCOUNT_SELF = "account:self"
    DEPLOYMENTS_READ = "deployments:read"
    DEPLOYMENTS_PLAN = "deployments:plan"
    DEPLOYMENTS_AUTHORISE = "deployments:authorise"
    DEPLOYMENTS_OPERATE = "deployments:operate"
    DEPLOYMENTS_CLOSE = "deployments:close"
    # Record the authority's reference or refusal, and start urgently before the reference.
    DEPLOYMENTS_LEGAL = "deployments:legal"
    # Export an alert's evidence pack (its images included) and a deployment's use log.
    EVIDENCE_EXPORT = "evidence:export"
    WATCHLISTS_READ = "watchlists:read"
    WATCHLISTS_WRITE = "watchlists:write"
    REFERENCE_IMAGES_VIEW = "reference_images:view"
    ALERTS_READ = "alerts:read"
    ALERT_CROPS_VIEW = "alert_crops:view"
    ALERTS_ADJUDICATE = "alerts:adjudicate"
    ALERTS_HOLD = "alerts:hold"
    AUDIT_READ = "audit:read"
    RETENTION_RUN = "retention:run"
    SUBSCRIPTIONS_MANAGE = "subscriptions:manage"
    WORKERS_SYNC = "workers:sync"


_P = Permission

# Admins run the system but see no biometric data; auditors read everything that
# is not a face; only those who must compare faces (operators, and the officers
# and managers who approve and build watchlists) can open images.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(
        {
            _P.USERS_MANAGE,
            _P.ACCOUNT_SELF,
            _P.DEPLOYMENTS_READ,
            _P.DEPLOYMENTS_PLAN,
            _P.WATCHLISTS_READ,
            _P.AUDIT_READ,
            _P.RETENTION_RUN,
            _P.SUBSCRIPTIONS_MANAGE,
        }
    ),
    Role.AUTHORISING_OFFICER: frozenset(
        {
            _P.ACCOUNT_SELF,
            _P.DEPLOYMENTS_READ,
            _P.DEPLOYMENTS_PLAN,
            _P.DEPLOYMENTS_AUTHORISE,
            _P.DEPLOYMENTS_OPERATE,
            _P.DEPLOYMENTS_CLOSE,
            _P.DEPLOYMENTS_LEGAL,
            _P.WATCHLISTS_READ,
            _P.REFERENCE_IMAGES_VIEW,
            _P.ALERTS_READ,
            _P.ALERT_CROPS_VIEW,
            _P.ALERTS_HOLD,
            _P.EVIDENCE_EXPORT,
        }
    ),
    # The deployment commander runs the deployment on the day: starts and stops its
    # cameras and closes it (which purges its watchlist); sees alerts but no faces.
    Role.COMMANDER: frozenset(
        {
            _P.ACCOUNT_SELF,
            _P.DEPLOYMENTS_READ,
            _P.DEPLOYMENTS_OPERATE,
            _P.DEPLOYMENTS_CLOSE,
            _P.DEPLOYMENTS_LEGAL,
            _P.WATCHLISTS_READ,
            _P.ALERTS_READ,
        }
    ),
    Role.WATCHLIST_MANAGER: frozenset(
        {
            _P.ACCOUNT_SELF,
            _P.DEPLOYMENTS_READ,
            _P.DEPLOYMENTS_PLAN,
            _P.WATCHLISTS_READ,
            _P.WATCHLISTS_WRITE,
            _P.REFERENCE_IMAGES_VIEW,
        }
    ),
    Role.OPERATOR: frozenset(
        {
            _P.ACCOUNT_SELF,
            _P.DEPLOYMENTS_READ,
            _P.DEPLOYMENTS_OPERATE,
            _P.WATCHLISTS_READ,
            _P.REFERENCE_IMAGES_VIEW,
            _P.ALERTS_READ,
            _P.ALERT_CROPS_VIEW,
            _P.ALERTS_ADJUDICATE,
        }
    ),
    Role.AUDITOR: frozenset(
        {
            _P.ACCOUNT_SELF,
            _P.DEPLOYMENTS_READ,
            _P.WATCHLISTS_READ,
            _P.ALERTS_READ,
            _P.AUDIT_READ,
        }
    ),
    # Nothing else: a worker reads no alert, user or audit event, not even its own account.
    Role.WORKER: frozenset({_P.WORKERS_SYNC}),
}


def allows(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]
