"""The demo's folder and settings: its own state, never someone else's, and clear refusals."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openlfr.cli import app
from openlfr.config import Settings
from openlfr.demo.run import DemoError, check_port, hold_lock
from openlfr.demo.setup import MARKER, DemoHomeError, demo_settings, prepare_home


def test_the_demo_folder_is_marked_kept_and_reset(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    assert prepare_home(home, reset=False) is False
    assert (home / MARKER).is_file() and oct(home.stat().st_mode & 0o777) == "0o700"
    (home / "openlfr.db").write_text("state")
    assert prepare_home(home, reset=False) is True
    assert (home / "openlfr.db").is_file()
    assert prepare_home(home, reset=True) is False
    assert not (home / "openlfr.db").exists() and (home / MARKER).is_file()


@pytest.mark.parametrize("reset", [False, True])
def test_a_folder_that_is_not_the_demos_is_left_alone(tmp_path: Path, reset: bool) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(DemoHomeError, match="not an openlfr demo folder"):
        prepare_home(tmp_path, reset=reset)
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_demo_settings_use_the_demo_folder_and_looping_cameras(tmp_path: Path) -> None:
    base = Settings()
    settings = demo_settings(tmp_path, base)
    assert settings.home == tmp_path
    assert settings.resolved_key_file == tmp_path / "keys" / "data.key"
    assert settings.database_url == f"sqlite:///{tmp_path / 'openlfr.db'}"
    assert settings.blob_dir == tmp_path / "blobs"
    assert settings.pipeline.source.realtime and settings.pipeline.source.loop
    assert settings.pipeline.tracker == base.pipeline.tracker
    assert "demo" in settings.governance.offence_categories
    assert set(base.governance.offence_categories) < set(settings.governance.offence_categories)
    assert settings.models == base.models and settings.matching == base.matching


def test_a_busy_port_is_refused_before_anything_starts() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(DemoError, match=f"cannot listen on 127.0.0.1:{port}"):
            check_port("127.0.0.1", port)


def test_cli_refuses_a_foreign_folder_with_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "other.txt").write_text("x")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    result = CliRunner().invoke(
        app, ["demo", "--headless", "--port", port, "--home", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "not an openlfr demo folder" in result.output
    assert (tmp_path / "other.txt").exists()


def test_one_demo_per_folder(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    with hold_lock(home):
        with pytest.raises(DemoError, match="another 'openlfr demo' is running"):
            hold_lock(home)
        hold_lock(tmp_path / "other-demo").close()  # another folder is free
    hold_lock(home).close()  # free again once the first has ended
