"""A worker's durable, encrypted, bounded queue of alerts not yet stored at the hub.

Each alert (sealed crop included) is written here, and fsynced, before the
worker tries to deliver it; it is deleted when the hub acknowledges it. Only
alerts are ever written: a face that raised no alert never reaches the spool.
Entries are sealed with AES-GCM under the worker's own key (the payload is
bound to its uid), so a copied spool file reads as noise. When the spool is
full a new alert is refused, counted and reported as an alarm, never dropped
silently.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from openlfr.privacy.crypto import BlobCipher
from openlfr.workers.protocol import AlertDelivery

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    deployment_id INTEGER NOT NULL,
    created REAL NOT NULL,
    sealed BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS counts (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO counts VALUES ('accepted', 0);
"""


@dataclass(frozen=True, slots=True)
class SpoolEntry:
    seq: int
    created: float
    alert: AlertDelivery


@dataclass(frozen=True, slots=True)
class SpoolStats:
    depth: int
    capacity: int
    refused: int
    accepted: int
    oldest_age_s: float | None


class SpoolFull(RuntimeError):
    """The spool holds ``capacity`` alerts already."""


class Spool:
    """Alerts waiting for the hub, oldest first.

    Args:
        path: the SQLite file (its folder is created, owner-only).
        cipher: seals each entry.
        capacity: most alerts held; beyond it :meth:`put` raises :class:`SpoolFull`.
    """

    def __init__(self, path: Path, cipher: BlobCipher, *, capacity: int = 10_000) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = path
        self.capacity = capacity
        self._cipher = cipher
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: an alert acknowledged to the pipeline survives a power cut, not only a crash.
        self._db.execute("PRAGMA synchronous=FULL")
        # Acknowledged entries are overwritten, not left in free pages.
        self._db.execute("PRAGMA secure_delete=ON")
        self._db.executescript(_SCHEMA)
        self.refused = 0
        self._wake = threading.Condition(self._lock)

    def _purpose(self, uid: str) -> str:
        return f"spool-alert:{uid}"

    def put(self, alert: AlertDelivery) -> None:
        """Durably add an alert (a uid already held is kept once)."""
        sealed = self._cipher.seal(alert.model_dump_json().encode(), self._purpose(alert.uid))
        with self._lock:
            (depth,) = self._db.execute("SELECT COUNT(*) FROM spool").fetchone()
            if depth >= self.capacity:
                self.refused += 1
                raise SpoolFull(f"the spool holds {depth} alerts (its capacity)")
            # One transaction: the entry and the count of every alert ever accepted (which
            # outlives restarts, so "raised = stored" can be checked from outside).
            self._db.execute("BEGIN IMMEDIATE")
            try:
                cur = self._db.execute(
                    "INSERT OR IGNORE INTO spool (uid, deployment_id, created, sealed) "
                    "VALUES (?, ?, ?, ?)",
                    (alert.uid, alert.deployment_id, time.time(), sealed),
                )
                if cur.rowcount:
                    self._db.execute("UPDATE counts SET value = value + 1 WHERE name = 'accepted'")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._wake.notify_all()

    def oldest(self, timeout: float | None = None) -> SpoolEntry | None:
        """The oldest entry, waiting up to ``timeout`` for one; None if there is none."""
        with self._lock:
            row = self._head()
            if row is None and timeout:
                self._wake.wait(timeout)
                row = self._head()
        if row is None:
            return None
        seq, uid, created, sealed = row
        payload = self._cipher.open(sealed, self._purpose(uid))
        return SpoolEntry(seq, created, AlertDelivery.model_validate_json(payload))

    def _head(self) -> tuple[int, str, float, bytes] | None:
        row = self._db.execute(
            "SELECT seq, uid, created, sealed FROM spool ORDER BY seq LIMIT 1"
        ).fetchone()
        return None if row is None else (int(row[0]), str(row[1]), float(row[2]), bytes(row[3]))

    def delete(self, seq: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM spool WHERE seq = ?", (seq,))

    def purge_deployment(self, deployment_id: int) -> int:
        """Delete everything held for a deployment (it was closed); how many went."""
        with self._lock:
            cur = self._db.execute("DELETE FROM spool WHERE deployment_id = ?", (deployment_id,))
            return int(cur.rowcount)

    def purge_older(self, max_age_s: float) -> int:
        """Delete entries past the alert retention period (the hub would purge them anyway)."""
        with self._lock:
            cur = self._db.execute(
                "DELETE FROM spool WHERE created < ?", (time.time() - max_age_s,)
            )
            return int(cur.rowcount)

    def deployments(self) -> list[int]:
        with self._lock:
            return [int(r[0]) for r in self._db.execute("SELECT DISTINCT deployment_id FROM spool")]

    def stats(self) -> SpoolStats:
        with self._lock:
            depth, oldest = self._db.execute("SELECT COUNT(*), MIN(created) FROM spool").fetchone()
            (accepted,) = self._db.execute(
                "SELECT value FROM counts WHERE name = 'accepted'"
            ).fetchone()
        return SpoolStats(
            depth=int(depth),
            capacity=self.capacity,
            refused=self.refused,
            accepted=int(accepted),
            oldest_age_s=None if oldest is None else max(0.0, time.time() - float(oldest)),
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()
