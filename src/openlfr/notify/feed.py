"""Rows that any hub process committed, told to this one: PostgreSQL LISTEN/NOTIFY, or polling.

Several hub processes may serve one database (behind one address). Each tells
its own streams at once about what it stores itself; a :class:`HubFeed` in
every process finds what the *others* stored, so every console shows the same
queue. On PostgreSQL the writer's transaction runs ``NOTIFY`` (sent only if it
commits) and the feed ``LISTEN`` s on a connection of its own; on SQLite the
feed looks for new row ids every ``poll_s``. Either way the database is the
truth: a notification only says "look", the feed reads the committed rows, and
after a lost connection it reads whatever it missed.

Row ids are not committed in id order on PostgreSQL (a transaction that took
id 10 may commit after the one that took 11), so the feed does not keep just a
high-water mark: it looks again at a window of ids below the highest it has
seen and skips, through :class:`Seen`, the ones already told.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from openlfr.storage.engine import Database

log = logging.getLogger(__name__)

ALERTS_CHANNEL = "openlfr_alerts"
WINDOW = 1024
BATCH = 500
RETRY_MAX_S = 5.0
# Without any notification, a listening feed still looks this many poll intervals apart.
SAFETY_POLLS = 20

Deliver = Callable[[Session, list[int]], None]


def signal(db: Session, channel: str, row_id: int) -> None:
    """Tell the other hub processes about a row, if and when this transaction commits.

    PostgreSQL holds a transaction's notifications until it commits (and drops
    them if it rolls back, savepoints included); SQLite has none, the feeds poll.
    """
    if db.get_bind().dialect.name == "postgresql":
        db.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {"channel": channel, "payload": str(row_id)},
        )


class Seen:
    """Row ids already told, so each is told once; ids at or below the floor count as told.

    Thread-safe. It keeps the ids of a window below the highest, which is all a
    late commit can fall into; older ones are folded into the floor.
    """

    def __init__(self, floor: int = 0, *, window: int = WINDOW) -> None:
        self._lock = threading.Lock()
        self._floor = floor
        self._high = floor
        self._ids: set[int] = set()
        self._window = window

    def first(self, row_id: int) -> bool:
        """Mark ``row_id`` told; True if it had not been."""
        with self._lock:
            if row_id <= self._floor or row_id in self._ids:
                return False
            self._ids.add(row_id)
            self._high = max(self._high, row_id)
            if len(self._ids) > 2 * self._window:
                cut = self._high - self._window
                self._ids = {i for i in self._ids if i > cut}
                self._floor = max(self._floor, cut)
            return True

    def unseen(self, ids: Iterable[int]) -> list[int]:
        with self._lock:
            return [i for i in ids if i > self._floor and i not in self._ids]

    def look_from(self) -> int:
        """The id above which a catch-up looks (a window below the highest told)."""
        with self._lock:
            return max(self._floor, self._high - self._window)

    def start_at(self, floor: int) -> None:
        """Count everything up to ``floor`` as told (what was stored before this process)."""
        with self._lock:
            self._floor = max(self._floor, floor)
            self._high = max(self._high, floor)


@dataclass(frozen=True, slots=True)
class Follow:
    """One table the feed follows: its rows' ids, the channel that names them, and who is told.

    ``deliver`` gets a session and the new ids; it loads the rows and tells its
    streams of each one it marks first in ``seen``.
    """

    table: str
    channel: str
    seen: Seen
    deliver: Deliver


class HubFeed:
    """A thread that tells this process about rows committed by any process.

    Args:
        database: the shared database.
        poll_s: SQLite: how often to look for new rows. PostgreSQL: how long to
            wait for a notification before checking whether to stop.
    """

    def __init__(self, database: Database, *, poll_s: float = 0.5) -> None:
        self._database = database
        self._poll_s = poll_s
        self._follows: list[Follow] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listening = threading.Event()
        self.catch_ups = 0
        self.reconnects = 0

    def follow(self, follow: Follow) -> None:
        if self._thread is not None:
            raise RuntimeError("follow tables before the feed starts")
        self._follows.append(follow)

    @property
    def listening(self) -> bool:
        """PostgreSQL: the LISTEN connection is up (tests wait on it)."""
        return self._listening.is_set()

    def start(self) -> None:
        if self._thread is not None or not self._follows:
            return
        for f in self._follows:
            f.seen.start_at(self._max_id(f.table))
        self._stop.clear()
        target = self._listen if self._database.dialect == "postgresql" else self._poll
        self._thread = threading.Thread(target=target, name="openlfr-feed", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    # -- reading -------------------------------------------------------------------------

    def _ids_after(self, table: str, after: int) -> list[int]:
        # A raw connection in autocommit: on SQLite a plain read, never the write lock that
        # every ORM transaction takes (BEGIN IMMEDIATE), so polling never delays a writer.
        raw = self._database.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(
                f"SELECT id FROM {table} WHERE id > {int(after)} ORDER BY id LIMIT {BATCH}"
            )
            ids = [int(row[0]) for row in cursor.fetchall()]
            cursor.close()
            raw.rollback()
            return ids
        finally:
            raw.close()

    def _max_id(self, table: str) -> int:
        raw = self._database.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(f"SELECT max(id) FROM {table}")
            row = cursor.fetchone()
            cursor.close()
            raw.rollback()
            return int(row[0]) if row and row[0] is not None else 0
        finally:
            raw.close()

    def catch_up(self, follows: Iterable[Follow] | None = None) -> int:
        """Tell whatever committed rows have not been told yet; how many were new."""
        told = 0
        for f in self._follows if follows is None else follows:
            while True:
                ids = self._ids_after(f.table, f.seen.look_from())
                new = f.seen.unseen(ids)
                if new:
                    with self._database.session() as db:
                        f.deliver(db, new)
                    told += len(new)
                if len(ids) < BATCH:
                    break
        self.catch_ups += 1
        return told

    # -- SQLite: polling -------------------------------------------------------------------

    def _poll(self) -> None:
        while not self._stop.wait(self._poll_s):
            try:
                self.catch_up()
            except Exception:  # a locked or missing database: look again next time
                log.warning("hub feed: could not read new rows", exc_info=True)

    # -- PostgreSQL: LISTEN ----------------------------------------------------------------

    def _connect(self) -> object:
        import psycopg

        engine = self._database.engine
        _, params = engine.dialect.create_connect_args(engine.url)
        params.pop("context", None)
        conn = psycopg.connect(**params, autocommit=True, application_name="openlfr-feed")
        for f in self._follows:
            conn.execute(f'LISTEN "{f.channel}"')
        return conn

    def _listen(self) -> None:
        import psycopg

        by_channel = {f.channel: f for f in self._follows}
        wait = self._poll_s
        while not self._stop.is_set():
            conn: psycopg.Connection[object] | None = None
            try:
                conn = self._connect()  # type: ignore[assignment]
                assert conn is not None
                # Listening first, then reading: nothing committed in between is missed.
                self.catch_up()
                self._listening.set()
                wait = self._poll_s
                quiet = 0
                while not self._stop.is_set():
                    woken = {n.channel for n in conn.notifies(timeout=self._poll_s, stop_after=1)}
                    quiet = 0 if woken else quiet + 1
                    if woken:
                        self.catch_up([by_channel[c] for c in woken if c in by_channel])
                    elif quiet >= SAFETY_POLLS:
                        quiet = 0
                        self.catch_up()
            except Exception:
                self._listening.clear()
                self.reconnects += 1
                log.warning("hub feed: database connection lost; reconnecting", exc_info=True)
                self._stop.wait(wait)
                wait = min(RETRY_MAX_S, wait * 2)
            finally:
                self._listening.clear()
                if conn is not None:
                    try:
                        conn.close()
                    except Exception:  # already broken
                        log.debug("hub feed: close failed", exc_info=True)
