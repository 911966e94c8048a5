"""Long-lived responses (event streams) re-check their credential while they run."""

from __future__ import annotations

import time

from starlette.concurrency import run_in_threadpool

from openlfr.api.plane import ControlPlane
from openlfr.users import service as users


class CredentialWatch:
    """Whether the session or token that opened a stream still stands.

    Checked against the database at most every ``auth.stream_recheck_s`` seconds,
    so a stream ends within that long of logout, revocation, an admin's password
    reset or disabling the account, whatever it is waiting for.
    """

    def __init__(self, plane: ControlPlane, credential: str | None) -> None:
        self._plane = plane
        self._credential = credential
        self.interval_s = plane.settings.auth.stream_recheck_s
        self._checked_at = time.monotonic()
        self._valid = True

    def _check(self) -> bool:
        assert self._credential is not None
        with self._plane.database.session() as db:
            return users.still_valid(
                db,
                self._credential,
                now=self._plane.clock.now(),
                config=self._plane.settings.auth,
            )

    async def still_valid(self) -> bool:
        if self._credential is None or not self._valid:
            return self._valid
        if time.monotonic() - self._checked_at >= self.interval_s:
            self._checked_at = time.monotonic()
            self._valid = await run_in_threadpool(self._check)
        return self._valid
