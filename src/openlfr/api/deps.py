"""Request-scoped dependencies: the control plane and one database transaction per request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from openlfr.api.plane import ControlPlane
from openlfr.storage.errors import DomainError


def get_plane(request: Request) -> ControlPlane:
    plane = request.app.state.plane
    assert isinstance(plane, ControlPlane)
    return plane


Plane = Annotated[ControlPlane, Depends(get_plane)]


def _db(plane: Plane) -> Iterator[Session]:
    """One transaction per request, committed before the response is sent.

    A refusal that must leave a trace (a failed login, a refused enrolment)
    commits the audit events written before it; any other error rolls back.
    """
    db = plane.database.new_session()
    try:
        yield db
        db.commit()
    except DomainError as exc:
        if exc.commit_anyway:
            db.commit()
        else:
            db.rollback()
        raise
    except BaseException:
        db.rollback()
        raise
    finally:
        db.close()


DbSession = Annotated[Session, Depends(_db, scope="function")]
