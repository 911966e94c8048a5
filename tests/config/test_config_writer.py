"""Writing the calibrated threshold into the TOML file the settings read, keeping the rest."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from openlfr.config import Settings, config_file_path
from openlfr.config.writer import ConfigWriteError, set_matching_threshold


def test_creates_the_file_and_settings_read_it(isolated_home: Path) -> None:
    path = set_matching_threshold(0.6123456, note="calibrated on test data")
    assert path == config_file_path()
    assert "calibrated on test data" in path.read_text()
    assert Settings().matching.threshold == pytest.approx(0.6123)


def test_keeps_other_keys_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        "# site settings\n[detector]\ninput_width = 800  # wide street camera\n\n"
        "[matching]\ntop_k = 3\nthreshold = 0.5\n"
    )
    os.chmod(path, 0o640)
    set_matching_threshold(0.58, path=path)
    text = path.read_text()
    assert "# site settings" in text and "# wide street camera" in text
    assert "input_width = 800" in text and "top_k = 3" in text
    assert "threshold = 0.58" in text and "threshold = 0.5\n" not in text
    assert path.stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize(
    ("content", "value"),
    [("[matching]\nthreshold = 0.5\n", 1.5), ("not = [valid toml\n", 0.5), ("matching = 3\n", 0.5)],
)
def test_refusals_leave_the_file_untouched(tmp_path: Path, content: str, value: float) -> None:
    path = tmp_path / "config.toml"
    path.write_text(content)
    with pytest.raises(ConfigWriteError):
        set_matching_threshold(value, path=path)
    assert path.read_text() == content
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]
