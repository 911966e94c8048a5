"""``openlfr demo``: set up the demo's state, serve the console, go live, stop cleanly on Ctrl-C."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import sys
import threading
import webbrowser
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import uvicorn

from openlfr.alert_records.models import AlertRecord
from openlfr.api.app import create_app
from openlfr.api.plane import ControlPlane
from openlfr.config import Settings
from openlfr.demo.output import DemoOutput, StoppedSummary
from openlfr.demo.setup import DemoState, demo_settings, prepare, prepare_home, start_live
from openlfr.deployments import service as deployments
from openlfr.services import Services
from openlfr.storage import migrate
from openlfr.storage.context import Actor
from openlfr.workers.hub import WorkerHub
from openlfr.workers.supervisor import LocalWorkers, hub_url, start_local_workers

# How long the web server waits for open event streams (the console's) when stopping.
_GRACEFUL_S = 3
_READY_TIMEOUT_S = 120


class DemoError(Exception):
    """The demo cannot start (a busy port, an unusable folder); the message says why."""


@dataclass(frozen=True, slots=True)
class DemoOptions:
    home: Path
    host: str = "127.0.0.1"
    port: int = 8000
    reset: bool = False
    headless: bool = False


def check_port(host: str, port: int) -> None:
    """Refuse early, with a clear message, when the port is taken."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise DemoError(
                f"cannot listen on {host}:{port} ({exc.strerror}); choose another with --port"
            ) from None


def hold_lock(home: Path) -> IO[bytes]:
    """One demo per folder: a second one would record the first's cameras as stopped (or,
    with --reset, delete its state). The lock lives beside the folder and ends with the
    process."""
    home.parent.mkdir(parents=True, exist_ok=True)
    handle = home.with_name(home.name + ".lock").open("a+b")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise DemoError(f"another 'openlfr demo' is running on {home}") from None
    return handle


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _display_available() -> bool:
    return sys.platform in ("darwin", "win32") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )


def _stopped_summary(plane: ControlPlane, state: DemoState) -> StoppedSummary:
    with plane.work(Actor.system("demo")) as ctx:
        dep = deployments.get(ctx, state.deployment_id)
        run = dep.runs[-1] if dep.runs else None
        return StoppedSummary(
            deployment_id=dep.id,
            state=str(dep.state),
            planned_end=dep.planned_end,
            alerts_total=dep.alerts_total,
            faces_seen=None if run is None else run.faces_seen,
            end_reason=None if run is None else run.end_reason,
        )


def _worker_env(settings: Settings) -> dict[str, str]:
    """The demo's worker reads the demo's settings: its home and looping real-time cameras."""
    source = settings.pipeline.source
    return {
        **os.environ,
        "OPENLFR_HOME": str(settings.home),
        "OPENLFR_PIPELINE__SOURCE__REALTIME": str(source.realtime).lower(),
        "OPENLFR_PIPELINE__SOURCE__LOOP": str(source.loop).lower(),
    }


def run_demo(options: DemoOptions, out: DemoOutput) -> int:
    """Run the demo until interrupted; the exit status (0 after a clean stop)."""
    check_port(options.host, options.port)
    with hold_lock(options.home):
        return _run(options, out)


def _run(options: DemoOptions, out: DemoOutput) -> int:
    kept = prepare_home(options.home, reset=options.reset)
    settings = demo_settings(options.home, Settings())
    services = Services(settings)
    out.status(f"{'reusing' if kept else 'creating'} the demo's state in {options.home}")
    migrate.upgrade(services.database)
    app = create_app(services=services, launcher=WorkerHub(preview=services.preview))
    plane: ControlPlane = app.state.plane
    out.status("loading the face models and preparing the demo deployment…")
    state = prepare(plane, services.pack)

    def announce(alert: AlertRecord) -> None:
        if alert.deployment_id == state.deployment_id:
            out.alert(alert)

    plane.recorder.add_listener(announce)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=options.host,
            port=options.port,
            log_level="warning",
            timeout_graceful_shutdown=_GRACEFUL_S,
        )
    )
    base = f"http://{options.host}:{options.port}"
    failed = threading.Event()

    def go_live() -> None:
        # The server's start-up records any deployment left live as stopped, so the
        # deployment goes live only once the server is up.
        for _ in range(_READY_TIMEOUT_S * 20):
            if server.started or server.should_exit:
                break
            threading.Event().wait(0.05)
        if not server.started:
            return
        if not start_live(plane, state.deployment_id):
            out.status("the cameras could not start; see the deployment page for the reason")
            failed.set()
        out.ready(base, state, plane.settings)
        if not options.headless and _display_available():
            with contextlib.suppress(Exception):
                webbrowser.open(f"{base}/console/login")

    # The cameras run in a worker process beside the hub, restarted if it dies.
    local: LocalWorkers = start_local_workers(
        plane.database,
        plane.blobs,
        plane.clock,
        plane.passwords,
        url=hub_url(options.host, options.port),
        home=options.home / "worker",
        count=1,
        env=_worker_env(settings),
    )
    threading.Thread(target=go_live, name="demo-go-live", daemon=True).start()
    # uvicorn stops gracefully on SIGINT and SIGTERM, then raises the signal again with the
    # handler it found: make SIGTERM end up here too, not kill the process unannounced.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.run()
    except KeyboardInterrupt:
        pass  # uvicorn has shut down already; the lifespan recorded the end of use
    finally:
        signal.signal(signal.SIGTERM, previous)
        local.stop()
    out.stopped(_stopped_summary(plane, state), options.home)
    return 1 if failed.is_set() else 0
