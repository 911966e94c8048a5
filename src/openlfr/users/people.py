"""Who an audit actor or a stored "by" was: the person (rank, number, name) behind an account."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from openlfr.users.models import User

# Actor labels that name an account ("user:<username>", "token:<username>").
_ACCOUNT_KINDS = ("user", "token")


def _username(label: str) -> str | None:
    kind, sep, name = label.partition(":")
    return name if sep and kind in _ACCOUNT_KINDS and name else None


def people(db: Session, labels: Iterable[str | None]) -> dict[str, str]:
    """Each account label's person (``user:pc-jones`` → ``PC 1234 R. Jones``).

    Labels of system actors (the pipeline, the CLI) and of accounts that no longer
    exist map to themselves, so a page can always show something.
    """
    wanted = {label for label in labels if label}
    names = {n for n in (_username(label) for label in wanted) if n}
    found: dict[str, str] = {}
    if names:
        for user in db.execute(select(User).where(User.username.in_(names))).scalars():
            found[user.username] = user.person
    out = {}
    for label in wanted:
        name = _username(label)
        out[label] = found.get(name, label) if name else label
    return out


def person(db: Session, label: str | None) -> str | None:
    """One label's person (None stays None)."""
    return None if label is None else people(db, [label])[label]


def person_by_id(db: Session, user_id: int | None, fallback: str | None) -> str | None:
    """The person of a user id (kept beside a label), else the label as stored."""
    user = None if user_id is None else db.get(User, user_id)
    if user is None:
        return fallback if fallback is None else person(db, fallback)
    return user.person
