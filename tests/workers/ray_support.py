"""A small Ray cluster on this machine and ``openlfr worker --engine ray`` driving it."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from workers_support import LIVE_ENV, HubProcess

from openlfr.users.roles import Role
from openlfr.workers.supervisor import TOKEN_ENV

# The custom resource a camera node offers: two actors' worth, so the actors of a dead node
# can restart on a node left (each actor asks for one).
SLOT = "openlfr_camera"
_MB = 1024 * 1024


@contextlib.contextmanager
def local_cluster(camera_nodes: int, *, cpus_per_node: float = 1) -> Iterator[Any]:
    """A head (no camera slots: it holds Ray's control services) and ``camera_nodes`` nodes,
    small enough for a 2-core machine; always shut down, whatever happens inside."""
    from ray.cluster_utils import Cluster

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    small = {"object_store_memory": 80 * _MB}
    cluster = Cluster(
        initialize_head=True,
        connect=False,
        head_node_args={"num_cpus": 1, "include_dashboard": False, **small},
    )
    try:
        for _ in range(camera_nodes):
            cluster.add_node(num_cpus=cpus_per_node, resources={SLOT: 2}, **small)
        cluster.wait_for_nodes()
        yield cluster
    finally:
        cluster.shutdown()


class RayDriver:
    """``python -m openlfr worker --engine ray`` against ``cluster`` for the hub at ``hub``."""

    def __init__(self, cluster: Any, hub: str, token: str, spools: Path, *, workers: int) -> None:
        self.spools = spools
        self.log = spools.parent / "ray-driver.log"
        self._args = [
            sys.executable,
            "-m",
            "openlfr",
            "worker",
            "--engine",
            "ray",
            "--address",
            cluster.address,
            "--hub",
            hub,
            "--workers",
            str(workers),
            # Half a node's CPU and one of its two slots: a node left can take a dead one's.
            "--num-cpus",
            "0.5",
            "--resource",
            f"{SLOT}=1",
            "--spool-dir",
            str(spools),
            "--sync-s",
            "0.5",
            "--log-level",
            "info",
        ]
        self._env = {
            **os.environ,
            "OPENLFR_HOME": str(spools.parent / "driver-home"),
            TOKEN_ENV: token,
            **LIVE_ENV,
        }
        self.process: subprocess.Popen[bytes] | None = None

    @classmethod
    def of(cls, cluster: Any, hub: HubProcess, spools: Path, *, workers: int) -> RayDriver:
        return cls(cluster, hub.base, hub.prepared.tokens[Role.WORKER], spools, workers=workers)

    def __enter__(self) -> RayDriver:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            self._args,
            env=self._env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> int:
        """SIGTERM: the driver stops the actors' cameras and ends the actors; its exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(120)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


def ray_workers(hub: HubProcess, fresh_s: float = 5.0) -> dict[str, dict[str, Any]]:
    """The last heartbeat of each Ray worker the hub heard from in the last ``fresh_s``."""
    r = hub.call("GET", "/workers", Role.AUDITOR)
    if r.status_code != 200:
        return {}
    return {
        w["name"]: w["heartbeat"]
        for w in r.json()
        if w["heartbeat"]["engine"] == "ray" and w["seconds_since_heard"] < fresh_s
    }


def accepted(spools: Path) -> int:
    """Alerts ever spooled by all the actors (each spool counts its own, across restarts)."""
    total = 0
    for path in spools.glob("*/spool.sqlite3"):
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as db:
            row = db.execute("SELECT value FROM counts WHERE name = 'accepted'").fetchone()
        total += int(row[0]) if row else 0
    return total


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie nobody has reaped yet does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
