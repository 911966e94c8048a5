"""Queue items per subject and an operator's backlog, one card per alert against episodes.

    .venv/bin/python bench/queue_episodes.py                # 10 minutes of the demo's video
    .venv/bin/python bench/queue_episodes.py --minutes 3 --decide-s 15 --json

The demo's own set-up (watchlist, deployment, composed street scene and the kit's
real street clip, both cameras) runs on a temporary home; its cameras' frames are
read from the clips, looped, faster than real time, stamped with *video* time, and
go through the live pipeline into the control plane (alerts stored, episodes formed
with the configured window exactly as in a live deployment).

Reported, per subject and in all:

- *before*: one queue item per alert (the console before episodes);
- *after*: episodes as stored when nobody decides anything (the most merging);
- the backlog of one operator who takes the oldest waiting item and needs
  ``--decide-s`` seconds of video time for each (a stated assumption, not a
  measurement), with and without episodes: the peak and final number of items
  waiting, and the mean wait. With episodes, a sighting joins its subject's
  undecided item (same window rule as ``openlfr.episodes.service.attach``); once
  that item is decided, the next sighting opens a new one.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import av
from sqlalchemy import select

from openlfr.alert_records.models import AlertRecord
from openlfr.api.app import create_app
from openlfr.api.plane import ControlPlane
from openlfr.api.testing import FakeLauncher, FakeSession
from openlfr.config import Settings
from openlfr.demo.setup import demo_settings, prepare, prepare_home, start_live
from openlfr.deployments.launcher import DeploymentSink
from openlfr.episodes.models import Episode
from openlfr.services import Services
from openlfr.storage import migrate
from openlfr.stream.build import pipeline_factory
from openlfr.types import Frame
from openlfr.watchlist.gallery import LiveGallery

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Sighting:
    subject: str
    at_s: float  # video seconds from the start


@dataclass(frozen=True, slots=True)
class Backlog:
    items: int
    peak_waiting: int
    waiting_at_end: int
    mean_wait_s: float


def frames(path: Path, camera: str, seconds: float) -> Iterator[Frame]:
    """The clip's frames, looped until ``seconds`` of video time, stamped with video time."""
    offset, seq = 0.0, 0
    while True:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            rate = float(stream.average_rate or 12)
            index = 0
            for index, frame in enumerate(container.decode(stream)):
                at = offset + index / rate
                if at >= seconds:
                    return
                yield Frame(frame.to_ndarray(format="bgr24"), camera, seq, T0.timestamp() + at)
                seq += 1
        offset += (index + 1) / rate


def run_cameras(plane: ControlPlane, session: FakeSession, seconds: float) -> int:
    """Every camera's frames through the live pipeline, interleaved by video time."""
    plan = session.plan
    gallery = LiveGallery(plan.gallery)
    now = {"t": T0.timestamp()}
    build = pipeline_factory(
        plane.settings,
        plane.services.pack,
        gallery,
        watchlist=f"deployment-{plan.deployment_id}",
        threshold=plan.threshold,
        clock=lambda: now["t"],  # the pipeline's own clock follows the video, too
        cameras=len(plan.cameras),
    )
    sink = DeploymentSink(plan.deployment_id, session.on_alert)
    feeds = {c.name: (build(c.name), frames(Path(c.source), c.name, seconds)) for c in plan.cameras}
    pending: dict[str, Frame] = {}
    for name, (_, feed) in feeds.items():
        first = next(feed, None)
        if first is not None:
            pending[name] = first
    processed = 0
    while pending:
        name = min(pending, key=lambda n: pending[n].captured_at)
        frame = pending.pop(name)
        now["t"] = frame.captured_at
        pipeline, feed = feeds[name]
        for alert in pipeline.process(frame):
            sink.emit(alert)
        processed += 1
        following = next(feed, None)
        if following is not None:
            pending[name] = following
    return processed


def simulate(sightings: list[Sighting], *, decide_s: float, window_s: float | None) -> Backlog:
    """One operator, oldest waiting item first; ``window_s=None``: one item per alert."""
    items: list[list[float]] = []  # [opened_at, taken_at or inf, done_at or inf]
    open_item: dict[str, tuple[int, float]] = {}  # subject -> (item index, latest look)
    free_at = 0.0
    waiting_counts: list[int] = []
    inf = float("inf")

    def advance(until: float) -> None:
        nonlocal free_at
        while True:
            queue = [i for i, it in enumerate(items) if it[1] == inf]
            if not queue:
                return
            start = max(free_at, items[queue[0]][0])
            if start > until:
                return
            items[queue[0]][1] = start
            items[queue[0]][2] = free_at = start + decide_s

    for s in sightings:
        advance(s.at_s)
        joined = False
        if window_s is not None and s.subject in open_item:
            index, latest = open_item[s.subject]
            undecided = items[index][2] > s.at_s
            if undecided and s.at_s - latest <= window_s:
                open_item[s.subject] = (index, s.at_s)
                joined = True
        if not joined:
            items.append([s.at_s, inf, inf])
            open_item[s.subject] = (len(items) - 1, s.at_s)
        waiting_counts.append(sum(1 for it in items if it[1] > s.at_s))
    end = sightings[-1].at_s if sightings else 0.0
    advance(end)
    waits = [(it[1] if it[1] != inf else end) - it[0] for it in items]
    return Backlog(
        items=len(items),
        peak_waiting=max(waiting_counts, default=0),
        waiting_at_end=sum(1 for it in items if it[1] > end),
        mean_wait_s=round(sum(waits) / len(waits), 1) if waits else 0.0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="video time to run")
    parser.add_argument("--decide-s", type=float, default=20.0, help="seconds per decision")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="openlfr-queue-bench-") as tmp:
        home = Path(tmp) / "demo"
        prepare_home(home, reset=False)
        settings = demo_settings(home, Settings())
        services = Services(settings)
        migrate.upgrade(services.database)
        launcher = FakeLauncher()
        app = create_app(services=services, launcher=launcher, background=False)
        plane: ControlPlane = app.state.plane
        state = prepare(plane, services.pack)
        assert start_live(plane, state.deployment_id), "the demo deployment did not go live"
        session = launcher.sessions[state.deployment_id]
        started = time.perf_counter()
        processed = run_cameras(plane, session, args.minutes * 60)
        wall = time.perf_counter() - started
        with services.database.session() as db:
            alerts = list(
                db.execute(
                    select(AlertRecord)
                    .where(AlertRecord.deployment_id == state.deployment_id)
                    .order_by(AlertRecord.captured_at)
                ).scalars()
            )
            episodes = list(
                db.execute(
                    select(Episode).where(Episode.deployment_id == state.deployment_id)
                ).scalars()
            )
            sightings = [
                Sighting(a.subject_reference, (a.captured_at - T0).total_seconds()) for a in alerts
            ]
            before = Counter(a.subject_reference for a in alerts)
            after = Counter(e.subject_reference for e in episodes)
        window = settings.governance.episode_window_s
        per_alert = simulate(sightings, decide_s=args.decide_s, window_s=None)
        per_episode = simulate(sightings, decide_s=args.decide_s, window_s=window)
        result = {
            "video_minutes": args.minutes,
            "frames": processed,
            "wall_s": round(wall, 1),
            "speed_vs_real_time": round(args.minutes * 60 / wall, 2) if wall else None,
            "episode_window_s": window,
            "decide_s": args.decide_s,
            "subjects": {
                ref: {"alerts": before[ref], "episodes": after[ref]} for ref in sorted(before)
            },
            "alerts": len(alerts),
            "episodes": len(episodes),
            "backlog_one_card_per_alert": asdict(per_alert),
            "backlog_episodes": asdict(per_episode),
        }
        services.database.dispose()
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"{args.minutes:g} min of video ({processed} frames, {result['speed_vs_real_time']}× "
        f"real time), window {window:g} s, {args.decide_s:g} s per decision"
    )
    print(f"{'subject':<10} {'alerts (before)':>16} {'episodes (after)':>17}")
    for ref in sorted(before):
        print(f"{ref:<10} {before[ref]:>16} {after[ref]:>17}")
    print(f"{'all':<10} {len(alerts):>16} {len(episodes):>17}")
    for label, b in (("one card per alert", per_alert), ("episodes", per_episode)):
        print(
            f"operator backlog, {label}: {b.items} items, peak {b.peak_waiting} waiting, "
            f"{b.waiting_at_end} at the end, mean wait {b.mean_wait_s} s"
        )


if __name__ == "__main__":
    main()
