"""The signed-in person behind a console page, and the page-level access check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from openlfr.api.auth import Caller, Requires
from openlfr.users.models import User
from openlfr.users.roles import Permission, Role
from openlfr.users.service import pending_setup
from openlfr.web.access import ROLE_LABELS, Page, PageInfo, can, can_open, navigation


class LoginRequired(Exception):
    """No valid session: the page answers with the sign-in page (then comes back)."""

    def __init__(self, back_to: str) -> None:
        super().__init__(back_to)
        self.back_to = back_to


class SetupRequired(Exception):
    """Signed in, but a step is due first (a new password, two-factor set-up): every page
    leads to the Account page until it is done."""


class PageForbidden(Exception):
    """Signed in, but the role may not open this page."""

    def __init__(self, page: Page, viewer: Viewer) -> None:
        super().__init__(page)
        self.page = page
        self.viewer = viewer


@dataclass(frozen=True, slots=True)
class Person:
    """The signed-in person, copied out of the database row (pages outlive the transaction:
    an error page is rendered after it rolled back)."""

    id: int
    username: str
    display_name: str
    # Rank, number and name ("PC 1234 J. Smith"): how pages name who acted.
    person: str = ""

    @classmethod
    def of(cls, user: User) -> Person:
        return cls(user.id, user.username, user.display_name, user.person)


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking at a page, and what the page may offer them."""

    caller: Caller
    user: Person
    role: Role

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    @property
    def nav(self) -> list[PageInfo]:
        return navigation(self.role)

    def can(self, permission: Permission) -> bool:
        return can(self.role, permission)


class OpenPage:
    """Dependency for a page: the viewer, after checking the page table for their role.

    ``setup=True`` marks the Account page, the one page open while a step is due.
    """

    def __init__(self, page: Page | None, *, setup: bool = False) -> None:
        self.page = page
        self.setup = setup

    def __call__(
        self, request: Request, caller: Annotated[Caller, Depends(Requires(None))]
    ) -> Viewer:
        if caller.user is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise LoginRequired(target)
        auth = request.app.state.plane.settings.auth
        if not self.setup and pending_setup(caller.user, auth) is not None:
            raise SetupRequired()
        role = Role(caller.user.role)
        viewer = Viewer(caller=caller, user=Person.of(caller.user), role=role)
        if self.page is not None and not can_open(role, self.page):
            raise PageForbidden(self.page, viewer)
        return viewer


def viewer_of(page: Page | None, *, setup: bool = False) -> object:
    """``viewer: Annotated[Viewer, viewer_of(Page.X)]`` guards a page."""
    return Depends(OpenPage(page, setup=setup))
