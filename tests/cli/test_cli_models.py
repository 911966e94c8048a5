"""A model file that is missing, damaged or not the one expected stops the command with one
line naming the file, and exit code 1: never a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from openlfr.cli import main

SRC = Path(__file__).resolve().parents[2] / "src" / "openlfr"
KIT = SRC / "demokit" / "images"
YUNET = SRC / "vision" / "models" / "face_detection_yunet_2023mar.onnx"


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "does not exist"),
        (b"", "not a readable ONNX model"),
        (b"\x08\x07garbage that is no protobuf\xff\xfe" * 50, "not a readable ONNX model"),
        ("checksum", "is corrupt or not the expected model"),
    ],
    ids=["missing", "empty", "garbage", "wrong-checksum"],
)
def test_a_bad_model_file_is_one_line_and_exit_1(
    isolated_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    content: bytes | str | None,
    says: str,
) -> None:
    isolated_home.mkdir(parents=True, exist_ok=True)
    recogniser = isolated_home / "recogniser.onnx"
    extra = ""
    if isinstance(content, bytes):
        recogniser.write_bytes(content)
    elif content is not None:
        # A real ONNX model, but not the one the configuration pins by checksum.
        recogniser.write_bytes(YUNET.read_bytes())
        extra = f'recogniser_sha256 = "{"0" * 64}"\n'
    (isolated_home / "config.toml").write_text(
        "[models]\n"
        'type = "onnx-paths"\n'
        f'detector_path = "{YUNET}"\n'
        f'recogniser_path = "{recogniser}"\n' + extra
    )
    photos = [str(KIT / "london_001_neutral.jpg"), str(KIT / "london_001_smiling.jpg")]
    monkeypatch.setattr(sys, "argv", ["openlfr", "verify", *photos])
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 1
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: model file ") and says in lines[0], lines[0]
    assert str(recogniser) in lines[0]
