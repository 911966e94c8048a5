"""The Ray engine's settings and the options its actors are created with (no cluster needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openlfr.cli import app
from openlfr.cli.worker import _ray_config
from openlfr.config import Settings
from openlfr.config.workers import RayConfig
from openlfr.workers.ray_engine import ActorSpec, actor_names, actor_options, nodes_that_fit


def test_the_worker_engine_and_its_ray_resources_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENLFR_WORKER__ENGINE", "ray")
    monkeypatch.setenv("OPENLFR_WORKER__RAY__ADDRESS", "auto")
    monkeypatch.setenv("OPENLFR_WORKER__RAY__NUM_GPUS", "0.5")
    monkeypatch.setenv("OPENLFR_WORKER__RAY__RESOURCES", '{"camera_slot": 1}')
    s = Settings()
    assert s.worker.engine == "ray"
    assert s.worker.ray.address == "auto"
    assert s.worker.ray.num_gpus == 0.5 and s.worker.ray.resources == {"camera_slot": 1.0}
    monkeypatch.setenv("OPENLFR_WORKER__ENGINE", "threads")
    with pytest.raises(ValueError, match="engine"):
        Settings()


def test_actors_are_named_detached_restarted_and_ask_for_their_resources() -> None:
    config = RayConfig(num_cpus=2, num_gpus=1, resources={"camera_slot": 1}, namespace="force-a")
    options = actor_options(config, "ray-3")
    assert options["name"] == "ray-3" and options["namespace"] == "force-a"
    assert options["lifetime"] == "detached" and options["get_if_exists"] is True
    assert options["max_restarts"] == -1 and options["max_task_retries"] == -1
    assert (options["num_cpus"], options["num_gpus"]) == (2, 1)
    assert options["resources"] == {"camera_slot": 1}
    assert actor_names("ray", 3) == ["ray-1", "ray-2", "ray-3"]


@pytest.mark.parametrize(
    ("config", "fit"),
    [
        (RayConfig(), 2),  # one CPU each: the head and the CPU node (the dead node never)
        (RayConfig(num_cpus=0, resources={"camera_slot": 1}), 1),
        (RayConfig(num_gpus=1), 1),
        (RayConfig(num_cpus=8), 0),
    ],
)
def test_one_actor_per_node_that_has_room(config: RayConfig, fit: int) -> None:
    nodes = [
        {"Alive": True, "Resources": {"CPU": 4.0}},
        {"Alive": True, "Resources": {"CPU": 2.0, "GPU": 1.0, "camera_slot": 2.0}},
        {"Alive": False, "Resources": {"CPU": 8.0, "GPU": 1.0, "camera_slot": 2.0}},
    ]
    assert nodes_that_fit(nodes, config) == fit


def test_the_command_line_overrides_the_settings_and_refuses_a_malformed_resource() -> None:
    base = RayConfig(address="auto", num_cpus=1, resources={"camera_slot": 1})
    got = _ray_config(base, None, 4, 0.5, None, ["gpu_node=0.25"])
    assert got.address == "auto" and got.workers == 4 and got.num_cpus == 0.5
    assert got.resources == {"camera_slot": 1, "gpu_node": 0.25}
    r = CliRunner().invoke(app, ["worker", "--engine", "ray", "--resource", "slot"])
    assert r.exit_code == 2 and "NAME=AMOUNT" in r.output


def test_an_actor_gets_the_pipeline_settings_and_nothing_of_the_hub(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path, database={"url": "postgresql+psycopg://hub:secret@db/openlfr"}
    )
    spec = ActorSpec.of(settings, "http://hub:8000", "olfr_token")
    sections = json.loads(spec.settings_json)
    assert set(sections) == {"models", "runtime", "detector", "pipeline", "retention"}
    assert "secret" not in spec.settings_json and str(tmp_path) not in spec.settings_json
    rebuilt = Settings(**sections)
    assert rebuilt.pipeline == settings.pipeline and rebuilt.models == settings.models


def test_an_unknown_engine_is_a_usage_error() -> None:
    r = CliRunner().invoke(app, ["worker", "--engine", "threads"])
    assert r.exit_code == 2 and "unknown engine" in r.output
