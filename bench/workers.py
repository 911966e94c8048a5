"""Live cameras in the API process (threads), in worker processes and on Ray, in one run.

    .venv/bin/python bench/workers.py                      # 720p and 1080p, 1-2 cameras, 20 s each
    .venv/bin/python bench/workers.py --seconds 30 --cameras 1 2 3
    .venv/bin/python bench/workers.py --modes workers ray  # leave a layout out
    git archive <commit> src | tar -x -C /tmp/openlfr-base  # an earlier version as the baseline
    .venv/bin/python bench/workers.py --modes workers --baseline-src /tmp/openlfr-base/src \
        --sizes 1080p --cameras 2 --seconds 60

``--baseline-src`` runs every worker case twice, alternately: on that source
tree ("baseline") and on this one ("new"), so both see the same machine load.

Each case is a real deployment on real SQLite: N copies of the Obama clip (real
video, with a moment of empty picture so each pass alerts), scaled to 720p or
1080p and paced at 25 fps like live cameras. "threads" is how openlfr ran before
workers: the pipelines in the API process, each alert stored synchronously.
"workers" is ``openlfr serve`` with its supervised worker process: alerts go to
the spool and are delivered over HTTP. "ray" is ``openlfr worker --engine ray``
on a local Ray cluster (a head and one camera node, ``ray.cluster_utils``): one
actor holding every camera with one model session, its alerts spooled and
delivered over HTTP like a worker process's (needs openlfr[ray]; left out with
a note when Ray is absent). Per case it prints frames processed and
dropped, the drop rate, and alerts with the p95 latency from the frame's capture
to the alert committed at the hub (the database's ``created_at`` minus
``captured_at``, the capture of the alert's probe crop, which the best-shot rule
may have taken some frames before the decision), and from the capture of the
deciding frame (the frame whose processing raised the alert, from the camera's
log line) to the same commit. Sustained means under 1% of frames dropped. Each
row carries the load average, because the machine is shared.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "workers"))

import workers_support as ws  # noqa: E402

from openlfr.api.app import create_app  # noqa: E402
from openlfr.config import DetectorConfig, RuntimeConfig, Settings, SFacePackConfig  # noqa: E402
from openlfr.deployments.launcher import StreamLauncher  # noqa: E402
from openlfr.services import Services  # noqa: E402
from openlfr.users.roles import Role  # noqa: E402
from openlfr.vision import load_pack  # noqa: E402

DATA = REPO.parent / "shared" / "data"
SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}
MODES = ("threads", "workers", "ray")


_RAISED = re.compile(r"alert ([0-9a-f]{32}) raised on the frame captured at ([0-9.]+)")


def latencies(db_file: Path, dep: int) -> list[float]:
    with sqlite3.connect(db_file) as db:
        rows = db.execute(
            "SELECT captured_at, created_at FROM alerts WHERE deployment_id = ?", (dep,)
        ).fetchall()
    return [
        (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds() for a, b in rows
    ]


def deciding_latencies(db_file: Path, dep: int, log_text: str) -> list[float]:
    """Deciding frame's capture (the camera's log line) to the alert committed at the hub."""
    frames = {m.group(1): float(m.group(2)) for m in _RAISED.finditer(log_text)}
    with sqlite3.connect(db_file) as db:
        rows = db.execute(
            "SELECT uid, created_at FROM alerts WHERE deployment_id = ?", (dep,)
        ).fetchall()
    return [
        datetime.fromisoformat(created).timestamp() - frames[uid]
        for uid, created in rows
        if uid in frames
    ]


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


Result = tuple[int, int, list[float], list[float]]


def run_threads(prepared: ws.Prepared, pack: object, seconds: float) -> Result:
    os.environ.update(ws.LIVE_ENV)
    lines = _Lines()
    stream_log = logging.getLogger("openlfr.stream")
    stream_log.addHandler(lines)
    stream_log.setLevel(logging.INFO)
    services = Services(Settings(home=prepared.home))
    services.__dict__["pack"] = pack
    app = create_app(services=services, launcher=StreamLauncher(services), background=False)
    plane = app.state.plane
    with TestClient(app) as client:
        headers = {"authorization": f"Bearer {prepared.tokens[Role.OPERATOR]}"}
        r = client.post(f"/api/v1/deployments/{prepared.deployment_id}/start", headers=headers)
        assert r.status_code == 200, r.text
        ws.wait_for(lambda: plane.live.status(prepared.deployment_id), 120, "cameras started")
        ws.wait_for(
            lambda: all(c.frames > 0 for c in plane.live.status(prepared.deployment_id) or []),
            120,
            "first frames",
        )
        start = {
            c.name: (c.frames, c.dropped_frames) for c in plane.live.status(prepared.deployment_id)
        }
        time.sleep(seconds)
        end = plane.live.status(prepared.deployment_id) or []
        frames = sum(c.frames - start[c.name][0] for c in end)
        dropped = sum(c.dropped_frames - start[c.name][1] for c in end)
    stream_log.removeHandler(lines)
    db = prepared.home / "openlfr.db"
    deciding = deciding_latencies(db, prepared.deployment_id, "\n".join(lines.lines))
    return frames, dropped, latencies(db, prepared.deployment_id), deciding


def run_workers(
    prepared: ws.Prepared,
    seconds: float,
    src: Path | None = None,
    extra: dict[str, str] | None = None,
) -> Result:
    env = {"PYTHONPATH": str(src)} if src is not None else {}
    env.update(extra or {})
    with ws.HubProcess(prepared, env=env or None) as hub:
        hub.start_deployment()

        def cams() -> list[dict[str, int]]:
            beat = ws.the_worker(hub)
            return list(beat["cameras"]) if beat else []

        ws.wait_for(
            lambda: (c := cams()) and all(x["frames"] > 0 for x in c), 180, "first frames", hub
        )
        start = {c["name"]: (c["frames"], c["dropped_frames"]) for c in cams()}
        time.sleep(seconds)
        end = cams()
        frames = sum(c["frames"] - start[c["name"]][0] for c in end)
        dropped = sum(c["dropped_frames"] - start[c["name"]][1] for c in end)
        time.sleep(3)  # the last alerts' delivery
        log_text = hub.log.read_text(errors="replace")
    db = prepared.home / "openlfr.db"
    deciding = deciding_latencies(db, prepared.deployment_id, log_text)
    return frames, dropped, latencies(db, prepared.deployment_id), deciding


def run_ray(prepared: ws.Prepared, cameras: int, seconds: float, work: Path) -> Result:
    import ray_support as rs

    with (
        rs.local_cluster(camera_nodes=1, cpus_per_node=2) as cluster,
        ws.HubProcess(prepared, workers=0) as hub,
        rs.RayDriver.of(cluster, hub, work / "spools", workers=1) as driver,
    ):
        hub.start_deployment()

        def cams() -> list[dict[str, int]]:
            return [c for beat in rs.ray_workers(hub).values() for c in beat["cameras"]]

        ws.wait_for(
            lambda: len(c := cams()) == cameras and all(x["frames"] > 0 for x in c),
            300,
            "first frames",
            hub,
        )
        start = {c["name"]: (c["frames"], c["dropped_frames"]) for c in cams()}
        time.sleep(seconds)
        end = cams()
        frames = sum(c["frames"] - start[c["name"]][0] for c in end)
        dropped = sum(c["dropped_frames"] - start[c["name"]][1] for c in end)
        time.sleep(3)  # the last alerts' delivery
        # The actors' log lines reach the driver's log (Ray forwards them).
        log_text = driver.log.read_text(errors="replace")
    db = prepared.home / "openlfr.db"
    deciding = deciding_latencies(db, prepared.deployment_id, log_text)
    return frames, dropped, latencies(db, prepared.deployment_id), deciding


def p95(values: list[float]) -> str:
    return f"{1000 * float(np.percentile(values, 95)):.0f}" if values else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--cameras", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument(
        "--baseline-src",
        type=Path,
        help="A source tree (its src/ folder) to run as the baseline of every worker case.",
    )
    parser.add_argument(
        "--baseline-env",
        nargs="+",
        default=[],
        metavar="NAME=VALUE",
        help="Settings for a baseline of this same code, e.g. "
        "OPENLFR_PIPELINE__DETECTION__FULL_INTERVAL=1 (every frame searched whole).",
    )
    args = parser.parse_args()
    baseline_env = dict(item.split("=", 1) for item in args.baseline_env)
    if "ray" in args.modes and importlib.util.find_spec("ray") is None:
        print("ray: left out (Ray is not installed: pip install 'openlfr[ray]')")
        args.modes.remove("ray")
    pack = load_pack(SFacePackConfig(), DetectorConfig(), RuntimeConfig())
    root = Path(tempfile.mkdtemp(prefix="openlfr-bench-workers-"))
    print(
        f"{'size':6} {'cams':>4} {'mode':8} {'code':8} {'frames':>7} {'dropped':>7} {'drop%':>6} "
        f"{'alerts':>6} {'probe p95':>9} {'frame p95':>9} {'load 1m':>7} sustained"
    )
    most: dict[tuple[str, str, str], int] = {}
    try:
        for size in args.sizes:
            for n in args.cameras:
                runs = [(m, "new", None) for m in args.modes if m == "threads"]
                if "workers" in args.modes:
                    if args.baseline_src is not None:
                        runs += [("workers", "baseline", args.baseline_src.resolve())]
                    if baseline_env:
                        runs += [("workers", "base-env", None)]
                    runs += [("workers", "new", None)]
                runs += [("ray", "new", None)] if "ray" in args.modes else []
                for mode, code, src in runs:
                    home = root / f"{size}-{n}-{mode}-{code}" / "home"
                    prepared = ws.prepare(home, pack, DATA, cameras=n, size=SIZES[size], fps=25.0)
                    if mode == "threads":
                        frames, dropped, lat, deciding = run_threads(prepared, pack, args.seconds)
                    elif mode == "workers":
                        extra = baseline_env if code == "base-env" else None
                        frames, dropped, lat, deciding = run_workers(
                            prepared, args.seconds, src, extra
                        )
                    else:
                        frames, dropped, lat, deciding = run_ray(
                            prepared, n, args.seconds, home.parent
                        )
                    rate = 100.0 * dropped / max(1, frames + dropped)
                    print(
                        f"{size:6} {n:>4} {mode:8} {code:8} {frames:>7} {dropped:>7} {rate:>6.1f} "
                        f"{len(lat):>6} {p95(lat):>9} {p95(deciding):>9} "
                        f"{os.getloadavg()[0]:>7.1f} {'yes' if rate < 1.0 else 'no'}",
                        flush=True,
                    )
                    if rate < 1.0:
                        key = (size, mode, code)
                        most[key] = max(most.get(key, 0), n)
        tried = ", ".join(str(n) for n in args.cameras)
        for size in args.sizes:
            print(
                f"most {size}/25 cameras sustained (of {tried}): "
                + ", ".join(
                    f"{mode} {code} {most.get((size, mode, code), 0)}" for mode, code, _ in runs
                )
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
