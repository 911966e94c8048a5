"""Camera workers on a real Ray cluster on this machine: Ray restarts and moves them, no alert lost.

A head and two camera nodes (``ray.cluster_utils.Cluster``), a real hub process
(``openlfr serve --workers 0``) on SQLite with a live deployment of two
cameras on a looping real clip, and ``openlfr worker --engine ray`` running one
actor per camera node. A whole node is removed, then an actor's process is
killed: each time the cameras run again (the first time on the node left), and
every alert the actors spooled is stored at the hub exactly once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("ray", reason="Ray is not installed (pip install 'openlfr[ray]')")

from ray_support import RayDriver, accepted, alive, local_cluster, ray_workers
from workers_support import HubProcess, free_port, prepare, stored_alerts, wait_for

from openlfr.vision.pack import ModelPack

pytestmark = pytest.mark.slow


def _one_camera_each(hub: HubProcess) -> dict[str, dict[str, Any]] | None:
    """Both actors' heartbeats once each runs one camera, on nodes of their own."""
    beats = ray_workers(hub)
    if len(beats) != 2 or len({b["node"] for b in beats.values()}) != 2:
        return None
    for b in beats.values():
        cams = b["cameras"]
        if len(cams) != 1 or cams[0]["state"] != "running" or cams[0]["frames"] == 0:
            return None
    return beats


def _running(
    hub: HubProcess, camera: str, *, not_pid: int, not_node: str | None = None
) -> dict[str, Any] | None:
    """The heartbeat of the worker running ``camera`` now, if it is a new process (and
    not on ``not_node``) and the camera has processed frames there."""
    for beat in ray_workers(hub).values():
        if beat["pid"] == not_pid or (not_node is not None and beat["node"] == not_node):
            continue
        for cam in beat["cameras"]:
            if cam["name"] == camera and cam["state"] == "running" and cam["frames"] > 0:
                return beat
    return None


@pytest.mark.realdata
def test_ray_moves_a_dead_nodes_cameras_and_restarts_a_killed_worker_losing_no_alert(
    tmp_path: Path, pack: ModelPack, shared_data: Path
) -> None:
    prepared = prepare(tmp_path / "home", pack, shared_data, cameras=2)
    db_file = prepared.home / "openlfr.db"
    dep = prepared.deployment_id
    spools = tmp_path / "spools"
    with (
        local_cluster(camera_nodes=2) as cluster,
        HubProcess(prepared, workers=0) as hub,
        RayDriver.of(cluster, hub, spools, workers=2) as driver,
    ):

        def wait(check: Callable[[], Any], timeout: float, what: str) -> Any:
            try:
                return wait_for(check, timeout, what, hub)
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n--- ray driver ---\n{driver.tail()}") from None

        hub.start_deployment()
        beats = wait(lambda: _one_camera_each(hub), 300, "one camera running on each node")
        wait(lambda: stored_alerts(db_file, dep), 240, "a first alert stored")

        # A node dies: its actor restarts on the node left, and its camera runs there.
        victim = beats["ray-1"]
        (camera,) = (c["name"] for c in victim["cameras"])
        (node,) = (n for n in cluster.worker_nodes if n.node_id == victim["node"])
        cluster.remove_node(node, allow_graceful=False)
        started = time.monotonic()
        moved = wait(
            lambda: _running(hub, camera, not_pid=victim["pid"], not_node=victim["node"]),
            180,
            "the dead node's camera running on the node left",
        )
        resume_s = time.monotonic() - started
        assert moved["node"] == beats["ray-2"]["node"]
        assert not alive(victim["pid"]), "the dead node's worker process still runs"
        # The hub hears from the same worker again: a new process, under the same name.
        wait(
            lambda: (b := ray_workers(hub).get("ray-1")) and b["node"] == moved["node"],
            120,
            "ray-1 heard from again, on the node left",
        )
        # The camera raises alerts again there (each pass of the clip alerts).
        wait(
            lambda: any(
                c["name"] == camera and c["state"] == "running" and c["alerts"] > 0
                for b in ray_workers(hub).values()
                if b["pid"] != victim["pid"]
                for c in b["cameras"]
            ),
            240,
            "an alert from the moved camera",
        )

        # An actor's process dies: Ray starts it again under its name and its cameras resume.
        killed = next(b for b in ray_workers(hub).values() if b["cameras"])
        cameras = [c["name"] for c in killed["cameras"]]
        os.kill(killed["pid"], signal.SIGKILL)
        started = time.monotonic()
        for camera in cameras:
            wait(
                lambda: _running(hub, camera, not_pid=killed["pid"]),  # noqa: B023
                180,
                "the killed actor's camera resumed",
            )
        restart_s = time.monotonic() - started
        wait(
            lambda: (b := ray_workers(hub).get(killed["worker"])) and b["pid"] != killed["pid"],
            120,
            "the killed actor heard from again under its name",
        )

        # Stop, let the spools drain, and count: raised (spooled) = stored, each once.
        hub.stop_deployment()
        wait(
            lambda: (
                (b := ray_workers(hub))
                and all(not x["cameras"] and x["spool_depth"] == 0 for x in b.values())
            ),
            300,
            "the spools emptied after the stop",
        )
        rows = stored_alerts(db_file, dep)
        raised = accepted(spools)
        uids = [uid for _, uid, _ in rows]
        print(
            f"\nray: dead node's camera resumed on the node left after {resume_s:.1f} s; killed "
            f"actor's cameras resumed after {restart_s:.1f} s; alerts raised {raised}, stored "
            f"{len(rows)}, lost {raised - len(rows)}, duplicates {len(uids) - len(set(uids))}"
        )
        assert sorted(p.name for p in spools.iterdir()) == ["ray-1", "ray-2"]
        assert raised >= 2
        assert len(rows) == raised  # 0 lost
        assert len(set(uids)) == len(uids)  # 0 duplicates


@contextlib.contextmanager
def _connected(cluster: Any) -> Iterator[Any]:
    """This process as a second driver of ``cluster``, to look at the actors by name."""
    import ray

    ray.init(address=cluster.address, namespace="openlfr", log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()


def _where(ray: Any, name: str) -> Any:
    try:
        return ray.get(ray.get_actor(name).where.remote(), timeout=5)
    except Exception:  # not created yet, or starting
        return None


def test_the_workers_outlive_their_driver_and_a_new_driver_finds_them_by_name(
    tmp_path: Path,
) -> None:
    # No hub answers here: a worker whose hub is down carries on all the same.
    hub = f"http://127.0.0.1:{free_port()}"
    token = "olfr_" + "t" * 40
    spools = tmp_path / "spools"
    with local_cluster(camera_nodes=1) as cluster, _connected(cluster) as ray:
        with RayDriver(cluster, hub, token, spools, workers=1) as first:
            placed = wait_for(lambda: _where(ray, "ray-1"), 180, "ray-1 placed by Ray")
            assert first.process is not None
            first.process.kill()  # the driver dies; the detached actor does not
            first.process.wait()
        with RayDriver(cluster, hub, token, spools, workers=1) as second:
            wait_for(lambda: b"runs on node" in second.log.read_bytes(), 120, "re-attached")
            # The same actor, never restarted: the new driver found it by its name.
            assert _where(ray, "ray-1") == placed
            assert ray.util.list_named_actors() == ["ray-1"]
            assert second.stop() == 0  # SIGTERM: stops the cameras, ends the actor
        wait_for(lambda: not ray.util.list_named_actors(), 60, "the actor ended")
        assert not alive(placed.pid)
