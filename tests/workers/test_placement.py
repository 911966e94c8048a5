"""The hub's placement of cameras on workers and its camera alarms, on a manual clock."""

from __future__ import annotations

import numpy as np

from openlfr.deployments.live import CameraPlan, LivePlan
from openlfr.watchlist.gallery import Gallery
from openlfr.workers.hub import WorkerHub
from openlfr.workers.protocol import CameraHealth, Heartbeat


class Tick:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def plan(cameras: int) -> LivePlan:
    gallery = Gallery(["1"], np.eye(1, 128, dtype=np.float32), "sface")
    return LivePlan(
        deployment_id=4,
        cameras=tuple(CameraPlan(f"cam-{i}", f"rtsp://cam-{i}/s") for i in range(cameras)),
        gallery=gallery,
        threshold=0.55,
    )


def beat(worker: str, *cams: CameraHealth, pid: int = 1) -> Heartbeat:
    return Heartbeat(worker=worker, pid=pid, cameras=list(cams))


def running(name: str, frames: int, alerts: int = 0) -> CameraHealth:
    return CameraHealth(deployment_id=4, name=name, state="running", frames=frames, alerts=alerts)


def names(assignments: list) -> list[str]:  # type: ignore[type-arg]
    return [c.name for a in assignments for c in a.cameras]


def test_cameras_spread_over_workers_and_move_off_a_silent_one() -> None:
    tick = Tick()
    alarms: list[tuple[int, str, str]] = []
    hub = WorkerHub(
        stale_s=10, stall_s=15, clock=tick, on_alarm=lambda d, c, s, e: alarms.append((d, c, s))
    )
    hub.launch(plan(4), lambda _: None, lambda _: None)
    assert len(names(hub.sync(beat("a")))) == 4  # alone, it takes them all
    hub.sync(beat("b"))  # a second worker joins: one camera per sync moves to it
    b = names(hub.sync(beat("b")))
    a = names(hub.sync(beat("a")))
    assert sorted(a + b) == ["cam-0", "cam-1", "cam-2", "cam-3"] and len(a) == len(b) == 2
    tick.t += 11  # a goes silent; b asks again and takes its cameras
    b_now = names(hub.sync(beat("b", *(running(n, 5) for n in b))))
    assert sorted(b_now) == ["cam-0", "cam-1", "cam-2", "cam-3"]
    assert all(state != "unassigned" for _, _, state in alarms)


def test_a_camera_whose_frames_stop_is_stalled_once_and_counts_survive_a_restart() -> None:
    tick = Tick()
    alarms: list[tuple[int, str, str]] = []
    hub = WorkerHub(
        stale_s=10, stall_s=15, clock=tick, on_alarm=lambda d, c, s, e: alarms.append((d, c, s))
    )
    session = hub.launch(plan(1), lambda _: None, lambda _: None)
    hub.sync(beat("a"))
    hub.sync(beat("a", running("cam-0", 10, alerts=2), pid=1))
    for _ in range(4):
        tick.t += 5
        hub.sync(beat("a", running("cam-0", 10, alerts=2), pid=1))
    assert alarms == [(4, "cam-0", "stalled")]
    # The worker restarts (new pid, counters from zero): the deployment's totals carry on.
    hub.sync(beat("a", running("cam-0", 3, alerts=1), pid=2))
    (status,) = session.status()
    assert (status.state, status.frames, status.alerts) == ("running", 13, 3)
    session.stop()
    assert session.status()[0].frames == 13  # the counts the stop records
    assert hub.sync(beat("a")) == []


def test_a_deployment_ends_when_every_camera_has_ended() -> None:
    import threading

    ended = threading.Event()
    reasons: list[str] = []
    hub = WorkerHub(clock=Tick())
    hub.launch(plan(2), lambda _: None, lambda why: (reasons.append(why), ended.set()))
    hub.sync(beat("a"))
    done = CameraHealth(deployment_id=4, name="cam-0", state="ended")
    hub.sync(beat("a", done, running("cam-1", 4)))
    assert not ended.is_set()
    hub.sync(
        beat("a", done, CameraHealth(deployment_id=4, name="cam-1", state="failed", error="gone"))
    )
    assert ended.wait(5) and reasons == ["cam-0 ended; cam-1 failed (gone)"]


def test_a_camera_dropping_frames_beyond_the_limit_is_an_alarm_until_it_keeps_up() -> None:
    tick = Tick()
    alarms: list[tuple[int, str, str]] = []
    hub = WorkerHub(
        stale_s=10,
        stall_s=15,
        drop_limit=0.05,
        drop_window_s=30,
        drop_grace_s=10,
        clock=tick,
        on_alarm=lambda d, c, s, e: alarms.append((d, c, s)),
    )
    session = hub.launch(plan(1), lambda _: None, lambda _: None)
    hub.sync(beat("a"))

    def report(frames: int, dropped: int) -> None:
        health = running("cam-0", frames).model_copy(update={"dropped_frames": dropped})
        hub.sync(beat("a", health))

    report(0, 0)
    tick.t += 5
    report(50, 50)  # models warming up: half the frames dropped, not yet judged
    assert session.status()[0].state == "running" and alarms == []
    for n in range(1, 7):  # 25 fps offered, 20 processed: 20% dropped
        tick.t += 5
        report(100 * n, 25 * n)
    (status,) = session.status()
    assert status.state == "dropping" and "20%" in (status.error or "")
    assert alarms == [(4, "cam-0", "dropping")]
    assert [s.state for _, s in hub.alarms()] == ["dropping"]
    for n in range(7, 15):  # it keeps up again: the window forgets the drops
        tick.t += 5
        report(100 * 6 + 125 * (n - 6), 25 * 6)
    assert session.status()[0].state == "running" and hub.alarms() == []
