"""Shared fixtures: an isolated openlfr home, the real data folder, a loaded model pack."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from openlfr.config import DetectorConfig, RuntimeConfig, Settings, SFacePackConfig
from openlfr.services import Services
from openlfr.vision import ModelPack, load_pack

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """``$OPENLFR_SHARED_DATA`` or ``../shared/data`` beside the repository."""
    return Path(os.environ.get("OPENLFR_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    root = shared_data_dir()
    if not (root / "lfw-dev" / "labels.csv").is_file():
        pytest.skip(f"real face data not found at {root} (set OPENLFR_SHARED_DATA)")
    return root


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own OPENLFR_HOME and config file, never the user's."""
    home = tmp_path / "openlfr-home"
    monkeypatch.setenv("OPENLFR_HOME", str(home))
    monkeypatch.setenv("OPENLFR_CONFIG", str(home / "config.toml"))
    monkeypatch.delenv("OPENLFR_DATA_KEY", raising=False)
    return home


@pytest.fixture(scope="session")
def pack() -> ModelPack:
    """The default pack (YuNet + SFace), loaded once for the whole run."""
    return load_pack(SFacePackConfig(), DetectorConfig(), RuntimeConfig())


@pytest.fixture
def services(isolated_home: Path, pack: ModelPack) -> Iterator[Services]:
    """Services on the isolated home, reusing the session's loaded models."""
    svc = Services(Settings())
    svc.__dict__["pack"] = pack  # cached_property slot: skip reloading the models
    yield svc
