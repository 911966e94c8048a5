"""``openlfr worker``: a camera worker that takes its assignments from a hub."""

from __future__ import annotations

import logging
import os
import signal
import socket
from pathlib import Path

import httpx
import typer

from openlfr.cli.common import fail_usage, services
from openlfr.privacy.crypto import BlobCipher, load_or_create_key
from openlfr.workers.supervisor import TOKEN_ENV


def worker(
    hub: str = typer.Option("http://127.0.0.1:8000", help="The hub's base URL."),
    name: str = typer.Option(
        socket.gethostname(), help="This worker's stable name (its cameras stay with it)."
    ),
    spool_dir: Path | None = typer.Option(
        None, help="Where the alert spool and its key live (default: <home>/worker/<name>)."
    ),
    token_file: Path | None = typer.Option(
        None, help=f"File holding the worker's API token (default: ${TOKEN_ENV})."
    ),
    engine: str = typer.Option("process", help="Where the pipelines run: 'process' (this one)."),
    address: str | None = typer.Option(None, help="A cluster's address (other engines)."),
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
    token = token_file.read_text().strip() if token_file else os.environ.get(TOKEN_ENV, "")
    if not token:
        fail_usage(f"no worker token: pass --token-file or set {TOKEN_ENV}")
    svc = services()
    folder = spool_dir or svc.settings.home / "worker" / name
    if engine != "process":
        fail_usage(f"unknown engine {engine!r}: this version runs 'process' only")
    del address

    from openlfr.workers.agent import WorkerAgent
    from openlfr.workers.spool import Spool

    spool = Spool(
        folder / "spool.sqlite3",
        BlobCipher(load_or_create_key(folder / "spool.key")),
        capacity=spool_capacity,
    )
    # Timeouts longer than the hub's database busy timeout: a slow answer is still an answer.
    client = httpx.Client(
        base_url=hub,
        headers={"authorization": f"Bearer {token}"},
        timeout=httpx.Timeout(60.0, connect=5.0),
    )
    agent = WorkerAgent(
        svc,
        client,
        name,
        spool,
        sync_s=sync_s,
        retention_s=svc.settings.retention.alert_days * 86400.0,
        parent_pid=os.getppid() if exit_with_parent else None,
    )
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr="127.0.0.1", registry=agent.metrics.registry)
    signal.signal(signal.SIGTERM, lambda *_: agent.stop())
    signal.signal(signal.SIGINT, lambda *_: agent.stop())
    svc.pack  # noqa: B018 -- load the models before the first camera needs them
    agent.run()
    spool.close()
