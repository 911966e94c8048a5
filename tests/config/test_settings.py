"""The settings tree: strict keys, environment and TOML sources, precedence."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from openlfr.config import DEFAULT_THRESHOLD, DlibPackConfig, Settings


def test_defaults_and_home_from_environment(isolated_home: Path) -> None:
    s = Settings()
    assert s.home == isolated_home
    assert s.matching.threshold == DEFAULT_THRESHOLD
    assert s.resolved_key_file == isolated_home / "keys" / "data.key"


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(ValidationError, match="extra"):
        Settings(matching={"treshold": 0.5})  # type: ignore[arg-type]


def test_out_of_range_values_are_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(matching={"threshold": 1.5})  # type: ignore[arg-type]


def test_toml_file_then_environment_precedence(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolated_home.mkdir(parents=True)
    (isolated_home / "config.toml").write_text(
        '[matching]\nthreshold = 0.61\n\n[models]\ntype = "dlib"\n'
    )
    s = Settings()
    assert s.matching.threshold == pytest.approx(0.61)
    assert isinstance(s.models, DlibPackConfig)
    monkeypatch.setenv("OPENLFR_MATCHING__THRESHOLD", "0.7")
    assert Settings().matching.threshold == pytest.approx(0.7)


def test_a_malformed_toml_key_is_refused(isolated_home: Path) -> None:
    isolated_home.mkdir(parents=True)
    (isolated_home / "config.toml").write_text("[detector]\ninput_widht = 1280\n")
    with pytest.raises(ValidationError, match="input_widht"):
        Settings()
