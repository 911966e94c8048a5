"""Hardware decoding: which device types are tried, and the CPU fallback when none opens."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from openlfr.config.pipeline import SourceConfig
from openlfr.stream.sources import EndOfSource, hwaccel, open_source, parse_source
from openlfr.stream.sources.video import VideoSource


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    hwaccel.forget_failures()
    yield
    hwaccel.forget_failures()


def test_candidates_follow_the_setting_and_what_ffmpeg_offers() -> None:
    offered = ["drm", "cuda", "vaapi"]
    assert hwaccel.candidates("off", offered) == []
    assert hwaccel.candidates("auto", offered) == ["cuda", "vaapi", "drm"]
    assert hwaccel.candidates("auto", []) == []
    assert hwaccel.candidates("vaapi", offered) == ["vaapi"]
    assert hwaccel.candidates("qsv", offered) == []  # not in this FFmpeg build
    hwaccel.mark_failed("cuda", "no device")
    assert hwaccel.candidates("auto", offered) == ["vaapi", "drm"]
    assert hwaccel.candidates("cuda", offered) == []


def test_a_device_that_cannot_open_falls_back_to_the_cpu(
    synthetic_clip: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Offer a device type whether or not this FFmpeg has it; with no such GPU here,
    # opening on it fails and the CPU decodes every frame.
    monkeypatch.setattr(hwaccel, "ffmpeg_devices", lambda: ["cuda"])

    def refuse(device: str) -> object:
        raise OSError(f"no {device} device")

    monkeypatch.setattr(hwaccel, "hwaccel_for", refuse)
    frames = 0
    with caplog.at_level(logging.WARNING, "openlfr.stream"):
        source = open_source(parse_source(str(synthetic_clip)), SourceConfig(hwaccel="cuda"))
        with source:
            while True:
                try:
                    frame = source.read(5.0)
                except EndOfSource:
                    break
                frames += frame is not None
    assert frames == 50
    assert isinstance(source, VideoSource) and source.decoder == "cpu"
    warnings = [r.getMessage() for r in caplog.records if "hardware decoding" in r.getMessage()]
    assert len(warnings) == 1 and "cuda" in warnings[0]


@pytest.mark.skipif("cuda" not in hwaccel.ffmpeg_devices(), reason="FFmpeg built without CUDA")
def test_real_cuda_request_on_this_machine_still_decodes(synthetic_clip: Path) -> None:
    # Where a GPU exists this decodes on it; where none does (CI), on the CPU.
    source = open_source(parse_source(str(synthetic_clip)), SourceConfig(hwaccel="auto"))
    with source:
        frame = source.read(10.0)
    assert frame is not None and frame.image.shape == (240, 320, 3)
    assert isinstance(source, VideoSource) and source.decoder in ("cpu", "cuda")
