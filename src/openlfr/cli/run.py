"""``openlfr run``: live recognition on cameras, files, streams or folders against a watchlist."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import threading
import time
from types import FrameType

import typer
from rich.live import Live
from rich.text import Text

from openlfr.alerts import AlertSink, FanOut, JsonLinesSink
from openlfr.cli.common import (
    check_watchlist_name,
    fail_usage,
    reject,
    services,
    stderr,
    stdout,
    work,
)
from openlfr.config import Settings
from openlfr.storage.errors import DomainError
from openlfr.stream import CameraState, CameraStatus, Runner, parse_source, pipeline_factory
from openlfr.stream.sources import SourceSpec
from openlfr.types import Alert
from openlfr.watchlist import LiveGallery
from openlfr.watchlist_records import named

SOURCE_HELP = (
    "A camera: a video file, a folder of images, rtsp://… or http://… stream, or webcam:N. "
    "Prefix NAME= to name the camera. Repeat for several cameras."
)


class _ConsoleSink:
    """Alerts as readable lines on stdout (without --json)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def emit(self, alert: Alert) -> None:
        when = time.strftime("%H:%M:%S", time.localtime(alert.captured_at))
        with self._lock:
            stdout.print(
                f"[bold red]ALERT[/] {when}  camera [bold]{alert.camera_id}[/]  track "
                f"{alert.track_id}  → [bold]{alert.subject_id}[/]  score {alert.score:.3f} "
                f"({len(alert.looks)} looks)",
                highlight=False,
            )

    def close(self) -> None:
        pass


class _Rates:
    """Per-camera rates between two status snapshots."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[float, int, int]] = {}

    def line(self, statuses: list[CameraStatus]) -> Text:
        now = time.monotonic()
        parts = []
        for s in statuses:
            c = s.counters
            t0, f0, n0 = self._last.get(s.camera_id, (now, c.frames, c.faces))
            dt = now - t0
            fps = (c.frames - f0) / dt if dt > 0 else 0.0
            faces = (c.faces - n0) / dt if dt > 0 else 0.0
            if dt >= 1.0 or s.camera_id not in self._last:
                self._last[s.camera_id] = (now, c.frames, c.faces)
            parts.append(
                f"{s.camera_id} {s.state}: {fps:5.1f} fps {faces:5.1f} faces/s "
                f"drops {s.dropped} alerts {c.alerts}"
            )
        return Text("  |  ".join(parts))


def _summary(statuses: list[CameraStatus]) -> None:
    for s in statuses:
        c = s.counters
        src = s.source_stats
        line = (
            f"{s.camera_id} ({s.source}): {s.state}; frames {c.frames}, faces {c.faces}, "
            f"tracks {c.tracks}, embeddings {c.embeddings}, alerts {c.alerts}"
        )
        if src is not None:
            line += f", dropped {src.dropped}, reconnects {src.reconnects}"
        if s.error:
            line += f" — {s.error}"
        stderr.print(line, highlight=False, markup=False, soft_wrap=True)


def _relay(proc: subprocess.Popen[str], json_out: bool, lock: threading.Lock) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        if not line.strip():
            continue
        with lock:
            if json_out:
                sys.stdout.write(line)
                sys.stdout.flush()
            else:
                record = json.loads(line)
                stdout.print(
                    f"[bold red]ALERT[/] {record['time']}  camera [bold]{record['camera']}[/]  "
                    f"track {record['track']}  → [bold]{record['subject']}[/]  "
                    f"score {record['score']:.3f}",
                    highlight=False,
                )


def run_processes(specs: list[SourceSpec], options: list[str], *, json_out: bool) -> int:
    """One ``openlfr run`` process per camera; their JSON alerts relayed to stdout.

    Each process loads its own models (more memory, no shared sessions) and
    is isolated from the others' crashes. SIGINT/SIGTERM are passed on.
    """
    lock = threading.Lock()
    entry = [sys.executable, "-c", "from openlfr.cli import main; main()", "run"]
    procs = [
        subprocess.Popen(
            [*entry, "-s", f"{spec.camera_id}={spec.location}", *options],
            stdout=subprocess.PIPE,
            text=True,
        )
        for spec in specs
    ]

    def forward(signum: int, _frame: FrameType | None) -> None:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    relays = [threading.Thread(target=_relay, args=(p, json_out, lock)) for p in procs]
    try:
        for relay in relays:
            relay.start()
        for relay in relays:
            relay.join()
        codes = [proc.wait() for proc in procs]
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return max(codes)


def run(
    source: list[str] = typer.Option(..., "--source", "-s", help=SOURCE_HELP),
    watchlist: str = typer.Option(..., "--watchlist", "-w", help="Watchlist to search."),
    threshold: float | None = typer.Option(
        None, min=-1.0, max=1.0, help="Alert threshold (cosine); default from configuration."
    ),
    json_out: bool = typer.Option(
        False, "--json", help="One JSON object per alert on stdout, nothing else there."
    ),
    json_crops: bool = typer.Option(
        False, "--json-crops", help="With --json, include each alert's probe crop (base64 JPEG)."
    ),
    realtime: bool = typer.Option(
        False,
        "--realtime",
        help="Pace files at their frame rate like a camera (drops when behind).",
    ),
    loop: bool = typer.Option(False, "--loop", help="Start files and folders again when they end."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No status line on stderr."),
    processes: bool = typer.Option(
        False, "--processes", help="Run each camera in a process of its own (own models)."
    ),
) -> None:
    """Recognise watchlist subjects live on one or more cameras until they end or Ctrl-C."""
    try:
        specs: list[SourceSpec] = [parse_source(text, i) for i, text in enumerate(source)]
    except ValueError as exc:
        fail_usage(str(exc))
    if len({s.camera_id for s in specs}) != len(specs):
        fail_usage("two sources have the same camera name; name them with NAME=SOURCE")
    if processes and len(specs) > 1:
        options = ["-w", watchlist, "--json", "-q"]
        options += [] if threshold is None else ["--threshold", str(threshold)]
        options += ["--json-crops"] if json_crops else []
        options += ["--realtime"] if realtime else []
        options += ["--loop"] if loop else []
        code = run_processes(specs, options, json_out=json_out)
        raise typer.Exit(code)
    check_watchlist_name(watchlist)
    svc = services()
    try:
        with work(svc) as ctx:
            gallery = named.gallery(ctx, watchlist).gallery
    except DomainError as exc:
        reject(exc.message)
    if gallery.model_id != svc.pack.model_id:
        reject(
            f"watchlist {watchlist!r} holds {gallery.model_id} templates but the configured "
            f"model is {svc.pack.model_id}"
        )
    base = svc.settings
    source_cfg = base.pipeline.source.model_copy(
        update={
            "realtime": realtime or base.pipeline.source.realtime,
            "loop": loop or base.pipeline.source.loop,
        }
    )
    settings: Settings = base.model_copy(
        update={"pipeline": base.pipeline.model_copy(update={"source": source_cfg})}
    )
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(message)s"
        )
    sinks: list[AlertSink] = [
        JsonLinesSink(include_crop=json_crops) if json_out else _ConsoleSink()
    ]
    sink = FanOut(sinks)
    factory = pipeline_factory(
        settings,
        svc.pack,
        LiveGallery(gallery),
        watchlist=watchlist,
        threshold=threshold,
        cameras=len(specs),
    )
    runner = Runner(specs, factory, sink, settings.pipeline.source)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stderr.print(f"{signal.Signals(signum).name}: stopping…", highlight=False)
        runner.stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        runner.start()
        if stderr.is_terminal and not quiet:
            rates = _Rates()
            with Live(rates.line(runner.status()), console=stderr, refresh_per_second=4) as live:
                while not runner.wait(0.5):
                    live.update(rates.line(runner.status()))
        else:
            while not runner.wait(0.5):
                pass
    finally:
        runner.stop()
        runner.wait(10.0)
        sink.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    statuses = runner.status()
    _summary(statuses)
    if any(s.state is CameraState.FAILED for s in statuses):
        raise typer.Exit(1)
