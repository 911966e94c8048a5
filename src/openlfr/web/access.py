"""Which console pages each role may open, from the role table's permissions (one place).

A page names the permissions any one of which opens it. The navigation shows
only the pages a role may open, and every page and console endpoint checks the
same table on the server, whatever the navigation showed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from openlfr.users.roles import ROLE_PERMISSIONS, Permission, Role


class Page(StrEnum):
    ALERTS = "alerts"
    CAMERAS = "cameras"
    DEPLOYMENTS = "deployments"
    WATCHLISTS = "watchlists"
    AUDIT = "audit"
    USERS = "users"


@dataclass(frozen=True, slots=True)
class PageInfo:
    page: Page
    title: str
    path: str
    any_of: frozenset[Permission]
    purpose: str


_P = Permission

PAGES: tuple[PageInfo, ...] = (
    # Only those who compare faces: the queue and the camera view show alert faces.
    PageInfo(
        Page.ALERTS,
        "Alert queue",
        "/console/alerts",
        frozenset({_P.ALERT_CROPS_VIEW}),
        "Live alerts to compare and adjudicate.",
    ),
    PageInfo(
        Page.CAMERAS,
        "Cameras",
        "/console/cameras",
        frozenset({_P.ALERT_CROPS_VIEW}),
        "Privacy view of each live camera: obscured except faces that raised an alert.",
    ),
    PageInfo(
        Page.DEPLOYMENTS,
        "Deployments",
        "/console/deployments",
        frozenset({_P.DEPLOYMENTS_READ}),
        "Plan, authorise, start, stop and close deployments.",
    ),
    # Building, approving or overseeing watchlists; operators see subjects only
    # through the alerts they adjudicate.
    PageInfo(
        Page.WATCHLISTS,
        "Watchlists",
        "/console/watchlists",
        frozenset({_P.WATCHLISTS_WRITE, _P.DEPLOYMENTS_AUTHORISE, _P.AUDIT_READ}),
        "Build watchlists from reference photos; see which are frozen.",
    ),
    PageInfo(
        Page.AUDIT,
        "Audit log",
        "/console/audit",
        frozenset({_P.AUDIT_READ}),
        "Search, verify and export the hash-chained audit log.",
    ),
    PageInfo(
        Page.USERS,
        "Users",
        "/console/users",
        frozenset({_P.USERS_MANAGE}),
        "The people behind the accounts: name, rank, collar or staff number, role.",
    ),
)
_BY_PAGE = {info.page: info for info in PAGES}

# Where each role lands after signing in (a preference, not an access rule).
_HOME: dict[Role, Page] = {
    Role.OPERATOR: Page.ALERTS,
    Role.AUTHORISING_OFFICER: Page.DEPLOYMENTS,
    Role.COMMANDER: Page.DEPLOYMENTS,
    Role.WATCHLIST_MANAGER: Page.WATCHLISTS,
    Role.AUDITOR: Page.AUDIT,
    Role.ADMIN: Page.DEPLOYMENTS,
}

ROLE_LABELS: dict[Role, str] = {
    Role.ADMIN: "Administrator",
    Role.AUTHORISING_OFFICER: "Authorising officer",
    Role.COMMANDER: "Deployment commander",
    Role.WATCHLIST_MANAGER: "Watchlist manager",
    Role.OPERATOR: "Operator",
    Role.AUDITOR: "Auditor",
}


def page_info(page: Page) -> PageInfo:
    return _BY_PAGE[page]


def can(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


def can_open(role: Role, page: Page) -> bool:
    return bool(_BY_PAGE[page].any_of & ROLE_PERMISSIONS[role])


def navigation(role: Role) -> list[PageInfo]:
    """The pages ``role`` may open, in menu order."""
    return [info for info in PAGES if can_open(role, info.page)]


def home(role: Role) -> str:
    """The path a role lands on after signing in."""
    preferred = _HOME.get(role)
    if preferred is not None and can_open(role, preferred):
        return _BY_PAGE[preferred].path
    pages = navigation(role)
    return pages[0].path if pages else _BY_PAGE[Page.DEPLOYMENTS].path
