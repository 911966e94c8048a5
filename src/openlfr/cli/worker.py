"""``openlfr worker``: a camera worker that takes its assignments from a hub."""

from __future__ import annotations

import logging
import os
import signal
import socket
from pathlib import Path

import typer

from openlfr.cli.common import fail_usage, services
from openlfr.config.workers import RayConfig
from openlfr.services import Services
from openlfr.workers.supervisor import TOKEN_ENV


def worker(
    hub: str = typer.Option("http://127.0.0.1:8000", help="The hub's base URL."),
    name: str | None = typer.Option(
        None,
        help="This worker's stable name (its cameras stay with it); with --engine ray, the "
        "prefix of its actors' names (default: this host's name; 'ray' for actors).",
    ),
    spool_dir: Path | None = typer.Option(
        None,
        help="Where the alert spool and its key live (default: <home>/worker/<name>); with "
        "--engine ray, the folder of each actor's <name>-N spool on its node.",
    ),
    token_file: Path | None = typer.Option(
        None, help=f"File holding the worker's API token (default: ${TOKEN_ENV})."
    ),
    engine: str | None = typer.Option(
        None,
        help="Where the pipelines run: 'process' (this one) or 'ray' (actors on a Ray "
        "cluster; needs openlfr[ray]). Default: the worker.engine setting.",
    ),
    address: str | None = typer.Option(
        None, help="The Ray cluster: 'auto', HOST:PORT or ray://HOST:10001 (worker.ray.address)."
    ),
    workers: int | None = typer.Option(
        None, min=0, help="Ray: actors to run (0: one per node that has room)."
    ),
    num_cpus: float | None = typer.Option(None, min=0, help="Ray: CPUs each actor reserves."),
    num_gpus: float | None = typer.Option(None, min=0, help="Ray: GPUs each actor reserves."),
    resource: list[str] = typer.Option(
        [], help="Ray: a custom resource each actor reserves, NAME=AMOUNT (repeatable)."
    ),
    detach: bool = typer.Option(
        False, help="Ray: start the actors and exit, leaving them running."
    ),
    stop: bool = typer.Option(False, help="Ray: stop the actors a detached start left running."),
    metrics_port: int | None = typer.Option(
        None, min=1, max=65535, help="Serve /metrics (Prometheus) on this port."
    ),
    spool_capacity: int = typer.Option(10_000, min=1, help="Most alerts the spool holds."),
    sync_s: float = typer.Option(1.0, min=0.1, max=60, help="Seconds between heartbeats."),
    log_level: str = typer.Option("info", help="Logging level."),
    exit_with_parent: bool = typer.Option(
        False, help="Stop when the parent process (a local hub supervising it) is gone."
    ),
) -> None:
    """Run the cameras the hub assigns to this worker until interrupted."""
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per heartbeat otherwise
    svc = services()
    chosen = engine or svc.settings.worker.engine
    if chosen == "ray":
        config = _ray_config(
            svc.settings.worker.ray, address, workers, num_cpus, num_gpus, resource
        )
        _run_ray(
            svc,
            config,
            hub,
            name or "ray",
            spool_dir,
            token_file,
            detach,
            stop,
            spool_capacity,
            sync_s,
            log_level,
        )
        return
    if chosen != "process":
        fail_usage(f"unknown engine {chosen!r}: 'process' or 'ray'")
    token = _token(token_file)
    name = name or socket.gethostname()
    folder = spool_dir or svc.settings.home / "worker" / name

    from openlfr.workers.agent import open_agent

    agent = open_agent(
        svc,
        hub,
        token,
        name,
        folder,
        spool_capacity=spool_capacity,
        sync_s=sync_s,
        parent_pid=os.getppid() if exit_with_parent else None,
    )
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr="127.0.0.1", registry=agent.metrics.registry)
    signal.signal(signal.SIGTERM, lambda *_: agent.stop())
    signal.signal(signal.SIGINT, lambda *_: agent.stop())
    svc.pack  # noqa: B018 -- load the models before the first camera needs them
    agent.run()
    agent.spool.close()


def _token(token_file: Path | None) -> str:
    token = token_file.read_text().strip() if token_file else os.environ.get(TOKEN_ENV, "")
    if not token:
        fail_usage(f"no worker token: pass --token-file or set {TOKEN_ENV}")
    return token


def _ray_config(
    base: RayConfig,
    address: str | None,
    workers: int | None,
    num_cpus: float | None,
    num_gpus: float | None,
    resource: list[str],
) -> RayConfig:
    """The worker.ray settings with the command line's options over them."""
    update: dict[str, object] = {
        k: v
        for k, v in (
            ("address", address),
            ("workers", workers),
            ("num_cpus", num_cpus),
            ("num_gpus", num_gpus),
        )
        if v is not None
    }
    if resource:
        resources = dict(base.resources)
        for item in resource:
            key, sep, amount = item.partition("=")
            try:
                resources[key.strip()] = float(amount)
            except ValueError:
                sep = ""
            if not sep or not key.strip() or resources[key.strip()] < 0:
                fail_usage(f"--resource {item!r}: write NAME=AMOUNT, e.g. camera_slot=1")
        update["resources"] = resources
    return RayConfig.model_validate({**base.model_dump(), **update})


def _run_ray(
    svc: Services,
    config: RayConfig,
    hub: str,
    prefix: str,
    spool_dir: Path | None,
    token_file: Path | None,
    detach: bool,
    stop: bool,
    spool_capacity: int,
    sync_s: float,
    log_level: str,
) -> None:
    try:
        import ray  # noqa: F401 -- the extra is present

        from openlfr.workers.ray_engine import ActorSpec, RayWorkers, run_on_ray
    except ImportError:
        fail_usage("--engine ray needs Ray: pip install 'openlfr[ray]'")
    if stop:
        workers = RayWorkers(config, prefix)
        workers.connect()
        gone = workers.stop_all_named()
        logging.getLogger(__name__).info("stopped %s", ", ".join(gone) or "nothing")
        return
    spec = ActorSpec.of(
        svc.settings,
        hub,
        _token(token_file),
        spool_root=str(spool_dir) if spool_dir else None,
        spool_capacity=spool_capacity,
        sync_s=sync_s,
        log_level=log_level,
    )
    run_on_ray(config, spec, prefix=prefix, detach=detach)
