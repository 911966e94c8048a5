"""Camera workers as Ray actors: Ray places them, restarts them and moves them off a dead node.

Each actor runs one :class:`~openlfr.workers.agent.WorkerAgent`, the same loop
as a worker process: one model session shared by the cameras it holds, frames
decoded and faces matched inside the actor, and only alerts (spooled first),
heartbeats and counters sent to the hub over HTTP. Actors are named
(``ray-1``, ``ray-2``, …) and detached: when an actor's process or node dies,
Ray starts it again on a node that has room, under the same name, and the hub
gives that name its cameras back (or, if it was silent past the hub's stale
time, another worker has taken them). Placement, restarts and failover are
Ray's: nothing here keeps a membership list or a lease.

Ray is an optional extra (``openlfr[ray]``): this module imports it only when
a cluster is used.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openlfr.config import Settings
from openlfr.config.workers import RayConfig
from openlfr.services import Services
from openlfr.workers.agent import open_agent

log = logging.getLogger(__name__)

# What an actor takes from the driver's settings: how to run the pipeline, never the hub's
# database, keys or accounts (the actor's node supplies its own home for the spool).
_SECTIONS = {"models", "runtime", "detector", "pipeline", "retention"}
# How long the driver waits on one call to an actor before taking it as busy or restarting.
_CALL_S = 10.0


@dataclass(frozen=True, slots=True)
class ActorSpec:
    """What every actor is created with; Ray keeps it to create the actor again after a death.

    It holds the worker token, so anyone who can run code on the cluster can
    read it: the cluster is inside the trust boundary of the worker role
    (which can do nothing but take assignments and deliver alerts).
    """

    hub: str
    token: str
    settings_json: str
    spool_root: str | None = None
    spool_capacity: int = 10_000
    sync_s: float = 1.0
    log_level: str = "info"

    @classmethod
    def of(cls, settings: Settings, hub: str, token: str, **kw: Any) -> ActorSpec:
        return cls(hub, token, settings.model_dump_json(include=_SECTIONS), **kw)


@dataclass(frozen=True, slots=True)
class Placement:
    """Where an actor runs now."""

    name: str
    node: str
    pid: int


class CameraWorker:
    """The actor: a worker agent on a thread of its own, and two calls for the driver."""

    def __init__(self, name: str, spec: ActorSpec) -> None:
        import ray

        logging.basicConfig(
            level=spec.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
        )
        logging.getLogger("httpx").setLevel(logging.WARNING)
        # The driver's pipeline sections over this node's own settings (its home, its paths).
        settings = Settings(**json.loads(spec.settings_json))
        services = Services(settings)
        root = Path(spec.spool_root) if spec.spool_root else settings.home / "worker"
        self._name = name
        self._node = str(ray.get_runtime_context().get_node_id())
        self._agent = open_agent(
            services,
            spec.hub,
            spec.token,
            name,
            root / name,
            spool_capacity=spec.spool_capacity,
            sync_s=spec.sync_s,
            engine="ray",
            node=self._node,
        )
        services.pack  # noqa: B018 -- load the models before the first camera needs them
        self._thread = threading.Thread(target=self._agent.run, name=f"worker-{name}", daemon=True)
        self._thread.start()
        log.info("worker %s started on node %s (pid %s)", name, self._node, os.getpid())

    def where(self) -> Placement:
        return Placement(self._name, self._node, os.getpid())

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop the cameras and the delivery; True when they stopped within ``timeout``."""
        self._agent.stop()
        self._thread.join(timeout)
        stopped = not self._thread.is_alive()
        if stopped:
            self._agent.spool.close()
        return stopped


def actor_options(config: RayConfig, name: str) -> dict[str, Any]:
    """Ray's options for the actor ``name``: its resources, its restarts, its stable name."""
    return {
        "name": name,
        "namespace": config.namespace,
        # Detached: the actors outlive the command that made them (a driver that dies
        # leaves the cameras running); a new driver finds them by name.
        "lifetime": "detached",
        "get_if_exists": True,
        "num_cpus": config.num_cpus,
        "num_gpus": config.num_gpus,
        "resources": dict(config.resources),
        "max_restarts": config.max_restarts,
        "max_task_retries": config.max_task_retries,
        # Best-effort spread: one actor per node while nodes have room, several on one
        # node when others have died (a strict spread could not restart them).
        "scheduling_strategy": "SPREAD",
    }


def nodes_that_fit(nodes: Sequence[Mapping[str, Any]], config: RayConfig) -> int:
    """How many alive nodes (``ray.nodes()`` rows) can hold one actor as ``config`` asks."""
    wants = {"CPU": config.num_cpus, "GPU": config.num_gpus, **config.resources}
    return sum(
        1
        for n in nodes
        if n.get("Alive")
        and all(n.get("Resources", {}).get(k, 0.0) >= v for k, v in wants.items() if v > 0)
    )


def actor_names(prefix: str, count: int) -> list[str]:
    return [f"{prefix}-{i}" for i in range(1, count + 1)]


class RayWorkers:
    """The driver's side: create (or find) the named actors, wait until placed, stop them."""

    def __init__(self, config: RayConfig, prefix: str = "ray") -> None:
        self._config = config
        self._prefix = prefix
        self._actors: dict[str, Any] = {}

    def connect(self) -> None:
        import ray

        ray.init(
            address=self._config.address,
            namespace=self._config.namespace,
            ignore_reinit_error=True,
            log_to_driver=True,
        )

    def start(self, spec: ActorSpec) -> list[str]:
        """Create the actors (an actor of the same name already running is kept as it is)."""
        import ray

        count = self._config.workers or nodes_that_fit(ray.nodes(), self._config)
        if count == 0:
            raise RuntimeError(
                "no node of the cluster offers what a worker asks for "
                f"(num_cpus={self._config.num_cpus}, num_gpus={self._config.num_gpus}, "
                f"resources={self._config.resources})"
            )
        remote = ray.remote(CameraWorker)
        for name in actor_names(self._prefix, count):
            options = actor_options(self._config, name)
            self._actors[name] = remote.options(**options).remote(name, spec)
        return list(self._actors)

    def wait_placed(self, patience_s: float = 30.0) -> list[Placement]:
        """Wait until every actor runs; says which are still waiting for room every so often."""
        import ray

        pending = {a.where.remote(): name for name, a in self._actors.items()}
        placed: list[Placement] = []
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=patience_s)
            for ref in ready:
                del pending[ref]
                placed.append(ray.get(ref))  # an actor whose start failed raises here
            if pending:
                log.warning(
                    "waiting for Ray to place %s (is there a node with room for it?)",
                    ", ".join(sorted(pending.values())),
                )
        return sorted(placed, key=lambda p: p.name)

    def placements(self) -> dict[str, Placement | None]:
        """Where each actor is now; None for one that does not answer (being restarted)."""
        import ray

        refs = {name: a.where.remote() for name, a in self._actors.items()}
        out: dict[str, Placement | None] = {}
        for name, ref in refs.items():
            try:
                out[name] = ray.get(ref, timeout=_CALL_S)
            except Exception:  # a timeout or a dead actor: Ray restarts it, if it can
                out[name] = None
        return out

    def stop(self) -> None:
        """Stop every actor's cameras, then end the actors for good (no restart)."""
        stop_actors(self._actors)
        self._actors.clear()

    def stop_all_named(self) -> list[str]:
        """Stop the actors named ``<prefix>-N`` in the namespace, whoever made them."""
        import ray

        names = [
            n
            for n in ray.util.list_named_actors()
            if n.startswith(f"{self._prefix}-") and n[len(self._prefix) + 1 :].isdigit()
        ]
        stop_actors({n: ray.get_actor(n, namespace=self._config.namespace) for n in names})
        return names


def stop_actors(actors: Mapping[str, Any]) -> None:
    import ray

    refs = {name: a.stop.remote() for name, a in actors.items()}
    for name, ref in refs.items():
        try:
            if not ray.get(ref, timeout=60):
                log.warning("worker %s was slow to stop its cameras", name)
        except Exception as exc:  # it is killed below all the same
            log.warning("worker %s did not answer the stop: %s", name, exc)
    for actor in actors.values():
        ray.kill(actor, no_restart=True)


def run_on_ray(
    config: RayConfig,
    spec: ActorSpec,
    *,
    prefix: str,
    detach: bool,
    watch_s: float = 10.0,
) -> None:
    """``openlfr worker --engine ray``: start the actors, then say where they run until
    SIGINT or SIGTERM (and stop them then), or leave them running at once when ``detach``."""
    workers = RayWorkers(config, prefix)
    workers.connect()
    # After connecting: Ray's own SIGTERM handler aborts the driver, leaving no time to
    # stop the cameras.
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    workers.start(spec)
    seen = {p.name: p for p in workers.wait_placed()}
    for p in seen.values():
        log.info("worker %s runs on node %s (pid %s)", p.name, p.node, p.pid)
    if detach:
        log.info("the workers run on, detached: 'openlfr worker --engine ray --stop' ends them")
        return
    try:
        while not stop.wait(watch_s):
            for name, now in workers.placements().items():
                before = seen.get(name)
                if now is None:
                    log.warning("worker %s does not answer (Ray restarts it if it died)", name)
                elif before is None or (now.node, now.pid) != (before.node, before.pid):
                    log.warning(
                        "worker %s restarted: now on node %s (pid %s)", name, now.node, now.pid
                    )
                if now is not None:
                    seen[name] = now
    finally:
        workers.stop()
