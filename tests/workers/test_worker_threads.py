"""Local workers start with single-threaded BLAS unless the operator chose otherwise."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from openlfr.workers import supervisor
from openlfr.workers.supervisor import LocalWorkers


class FakeProcess:
    pid = 4242

    def poll(self) -> None:
        return None


def spawned_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Any:
    seen: dict[str, Any] = {}

    def popen(args: list[str], **kw: Any) -> FakeProcess:
        seen.update(kw["env"])
        return FakeProcess()

    monkeypatch.setattr(subprocess, "Popen", popen)
    workers = LocalWorkers("http://127.0.0.1:1", "tok", tmp_path, count=1, env=env)
    workers._spawn(workers._children[0])
    return seen


def test_workers_get_one_blas_thread_each(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = spawned_env(tmp_path, monkeypatch, {"PATH": "/usr/bin"})
    for name, value in supervisor.WORKER_THREAD_ENV.items():
        assert env[name] == value
    assert env[supervisor.TOKEN_ENV] == "tok"


def test_an_operators_choice_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = spawned_env(tmp_path, monkeypatch, {"OPENBLAS_NUM_THREADS": "4"})
    assert env["OPENBLAS_NUM_THREADS"] == "4"
