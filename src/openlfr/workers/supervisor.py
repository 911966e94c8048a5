"""Local worker processes for the embedded hub: spawned, watched, restarted when they die."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from openlfr.storage.blobs import BlobStore
from openlfr.storage.clock import Clock
from openlfr.storage.context import Actor, Ctx
from openlfr.storage.engine import Database
from openlfr.users import service as users
from openlfr.users.credentials import Passwords
from openlfr.users.models import TokenCreate, User, UserCreate
from openlfr.users.roles import Role

log = logging.getLogger(__name__)

LOCAL_ACCOUNT = "local-workers"
TOKEN_ENV = "OPENLFR_WORKER_TOKEN"
# A worker that exits sooner than this after its start is crash-looping (bad settings, no
# models): it is restarted with a growing delay rather than at once.
_QUICK_DEATH_S = 5.0


def local_worker_token(
    database: Database, blobs: BlobStore, clock: Clock, passwords: Passwords
) -> str:
    """A fresh API token of the local workers' machine account (created on first use).

    The account has the worker role only; earlier local tokens are revoked, so a
    token outlives the hub process that made it by at most its expiry.
    """
    actor = Actor.system("hub")
    with database.session() as db:
        ctx = Ctx(db=db, actor=actor, now=clock.now(), blobs=blobs)
        user = db.execute(select(User).where(User.username == LOCAL_ACCOUNT)).scalar_one_or_none()
        if user is None:
            user = users.create(
                ctx,
                UserCreate(
                    username=LOCAL_ACCOUNT, display_name="Local camera workers", role=Role.WORKER
                ),
                passwords,
            )
        for old in users.list_tokens(ctx, user):
            if old.revoked_at is None:
                users.revoke_token(ctx, user, old.id)
        _, token = users.create_token(ctx, user, TokenCreate(name="local workers", expires_days=30))
    return token


@dataclass(slots=True)
class _Child:
    name: str
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = 0.0
    due_at: float | None = None
    quick_deaths: int = 0
    pids: list[int] = field(default_factory=list)


# Each camera thread searches the watchlist with a small matrix product. Multithreaded
# BLAS under contention (other cameras, other jobs) made one search of 10,000 templates
# 30x slower on 2 cores (12.4 ms against 0.42 ms single-threaded: bench/cost_curves.py);
# the models keep their own thread pools. Set before the child imports NumPy.
WORKER_THREAD_ENV = {"OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class LocalWorkers:
    """``count`` worker processes on this machine, each restarted when it exits.

    The token reaches each child in its environment, never on its command line.

    Args:
        hub_url: where the workers find the hub.
        token: the workers' API token.
        home: each worker's spool lives in ``home/<name>/``.
        count: how many processes.
        extra_args: more ``openlfr worker`` options.
    """

    def __init__(
        self,
        hub_url: str,
        token: str,
        home: Path,
        *,
        count: int = 1,
        extra_args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self._hub_url = hub_url
        self._token = token
        self._home = home
        self._extra = extra_args
        self._env = env
        self._children = [_Child(f"local-{i + 1}") for i in range(count)]
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name="worker-supervisor", daemon=True)

    def start(self) -> None:
        with self._lock:
            for child in self._children:
                self._spawn(child)
        self._thread.start()

    def _spawn(self, child: _Child) -> None:
        env = dict(os.environ if self._env is None else self._env)
        env[TOKEN_ENV] = self._token
        for name, value in WORKER_THREAD_ENV.items():
            env.setdefault(name, value)
        args = [
            sys.executable,
            "-m",
            "openlfr",
            "worker",
            "--hub",
            self._hub_url,
            "--name",
            child.name,
            "--spool-dir",
            str(self._home / child.name),
            "--exit-with-parent",
            *self._extra,
        ]
        child.process = subprocess.Popen(args, env=env, start_new_session=True)
        child.started_at = time.monotonic()
        child.pids.append(child.process.pid)
        log.info("worker %s started (pid %s)", child.name, child.process.pid)

    def _watch(self) -> None:
        while not self._stop.wait(0.2):
            with self._lock:
                for child in self._children:
                    if child.process is None or child.process.poll() is None:
                        continue
                    now = time.monotonic()
                    if child.due_at is None:
                        # A worker that dies at once again and again is restarted ever more
                        # slowly; one that ran a while is restarted at once.
                        quick = now - child.started_at < _QUICK_DEATH_S
                        child.quick_deaths = child.quick_deaths + 1 if quick else 0
                        delay = min(10.0, 0.25 * 2 ** min(child.quick_deaths, 6)) if quick else 0.0
                        child.due_at = now + delay
                        log.warning(
                            "worker %s exited (%s); restarting in %.1f s",
                            child.name,
                            child.process.returncode,
                            delay,
                        )
                    if now >= child.due_at:
                        child.due_at = None
                        child.restarts += 1
                        self._spawn(child)

    def pids(self) -> dict[str, int | None]:
        with self._lock:
            return {c.name: None if c.process is None else c.process.pid for c in self._children}

    def restarts(self) -> dict[str, int]:
        with self._lock:
            return {c.name: c.restarts for c in self._children}

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        with self._lock:
            procs = [c.process for c in self._children if c.process is not None]
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for p in procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def hub_url(host: str, port: int) -> str:
    """Where local workers reach a hub listening on ``host``: loopback for any-address binds."""
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def start_local_workers(
    database: Database,
    blobs: BlobStore,
    clock: Clock,
    passwords: Passwords,
    *,
    url: str,
    home: Path,
    count: int,
    extra_args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> LocalWorkers:
    """The embedded default: ``count`` worker processes beside this hub, with a fresh token."""
    token = local_worker_token(database, blobs, clock, passwords)
    workers = LocalWorkers(url, token, home, count=count, extra_args=extra_args, env=env)
    workers.start()
    return workers
