"""Sources: parsing, redaction, reading files and folders, newest-frame dropping, clear errors."""

from __future__ import annotations

import itertools
import logging
import socket
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from openlfr.config.pipeline import SourceConfig
from openlfr.stream.sources import (
    EndOfSource,
    FrameSource,
    NewestFrameSlot,
    SourceError,
    SourceKind,
    SourceSpec,
    SourceState,
    open_source,
    parse_source,
    redact_url,
    scrub,
)
from openlfr.stream.sources.base import _Raw
from openlfr.types import Frame


def drain(source: FrameSource, delay: float = 0.0, limit: int = 10_000) -> list[Frame]:
    frames = []
    while len(frames) < limit:
        try:
            frame = source.read(5.0)
        except EndOfSource:
            break
        if frame is not None:
            frames.append(frame)
            if delay:
                time.sleep(delay)
    return frames


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("text", "kind", "camera"),
    [
        ("rtsp://10.0.0.5/stream1", SourceKind.STREAM, "cam3"),
        ("door=rtsp://u:p@10.0.0.5/s?a=b", SourceKind.STREAM, "door"),
        ("https://example.org/live.ts", SourceKind.STREAM, "cam3"),
        ("webcam:0", SourceKind.WEBCAM, "webcam0"),
        ("front=webcam:2", SourceKind.WEBCAM, "front"),
    ],
)
def test_parse_stream_and_webcam_sources(text: str, kind: SourceKind, camera: str) -> None:
    spec = parse_source(text, 3)
    assert spec.kind is kind and spec.camera_id == camera


def test_parse_files_and_folders(tmp_path: Path, synthetic_clip: Path) -> None:
    assert parse_source(str(synthetic_clip)).kind is SourceKind.FILE
    assert parse_source(str(synthetic_clip)).camera_id == "numbers"
    assert parse_source(f"file://{synthetic_clip}").kind is SourceKind.FILE
    folder = parse_source(f"gate={tmp_path}")
    assert folder.kind is SourceKind.FOLDER and folder.camera_id == "gate"


@pytest.mark.parametrize("text", ["", "ftp://host/x", "/no/such/file.mp4"])
def test_bad_source_text_is_refused_clearly(text: str) -> None:
    with pytest.raises(ValueError, match=r"source|scheme"):
        parse_source(text)


def test_credentials_are_redacted() -> None:
    url = "rtsp://admin:hunter22@10.1.2.3:554/live?channel=1&token=abc123"
    safe = redact_url(url)
    assert "hunter22" not in safe and "admin" not in safe and "abc123" not in safe
    assert "10.1.2.3:554/live" in safe and "channel=1" in safe
    message = f"Connection refused: '{url}' (user admin, password hunter22)"
    assert "hunter22" not in scrub(message, url)
    assert parse_source(f"c={url}").display == safe


def test_a_file_is_read_whole_in_order_without_drops(synthetic_clip: Path) -> None:
    with open_source(parse_source(str(synthetic_clip)), SourceConfig()) as source:
        frames = drain(source, delay=0.01)  # a slow reader still gets every frame
        stats = source.stats()
    assert [f.seq for f in frames] == list(range(50))
    assert all(f.camera_id == "numbers" and f.image.shape == (240, 320, 3) for f in frames)
    steps = np.diff([f.captured_at for f in frames])
    assert np.allclose(steps, 0.04, atol=1e-3)  # the file's own timeline
    assert stats.state is SourceState.ENDED and stats.dropped == 0 and stats.delivered == 50


def test_a_file_read_fast_is_stamped_in_the_past_on_its_own_timeline(
    synthetic_clip: Path, tmp_path: Path
) -> None:
    # A clock that never moves: the file is read "instantly". Its frames used to be
    # stamped up to 2 s after it, so an alert's `time` could follow its `emitted`.
    opened_at = 1_700_000_000.0
    with open_source(
        parse_source(str(synthetic_clip)), SourceConfig(), clock=lambda: opened_at
    ) as source:
        frames = drain(source)
    times = np.array([f.captured_at for f in frames])
    assert len(frames) == 50 and np.all(times <= opened_at)
    assert times[-1] == pytest.approx(opened_at - 0.04, abs=1e-3)  # the file ends as it opens
    assert np.allclose(np.diff(times), 0.04, atol=1e-3)  # its own spacing is kept
    folder = tmp_path / "stills"
    folder.mkdir()
    for i in range(5):
        cv2.imwrite(str(folder / f"{i:02d}.png"), np.full((32, 32, 3), 40 * i, np.uint8))
    config = SourceConfig(folder_fps=5.0)
    with open_source(parse_source(str(folder)), config, clock=lambda: opened_at) as source:
        stills = [f.captured_at for f in drain(source)]
    assert stills == pytest.approx([opened_at - 1.0 + 0.2 * i for i in range(5)])


@pytest.mark.parametrize("depth", [1, 3])
def test_realtime_keeps_only_the_newest_frames_when_behind(
    synthetic_clip: Path, depth: int
) -> None:
    config = SourceConfig(realtime=True, buffer_frames=depth)
    held = []
    with open_source(parse_source(str(synthetic_clip)), config) as source:
        frames = []
        while True:
            try:
                frame = source.read(5.0)
            except EndOfSource:
                break
            if frame is not None:
                frames.append(frame)
                held.append(source.held_frames)
                time.sleep(0.15)  # a pipeline four times slower than the camera
        stats = source.stats()
    seqs = [f.seq for f in frames]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert stats.dropped > 0
    assert stats.decoded == 50 and stats.delivered + stats.dropped == stats.decoded
    assert max(held) <= depth  # never a backlog beyond the buffer


def test_loop_restarts_a_file(synthetic_clip: Path) -> None:
    with open_source(parse_source(str(synthetic_clip)), SourceConfig(loop=True)) as source:
        frames = drain(source, limit=120)
    times = [f.captured_at for f in frames]
    assert [f.seq for f in frames] == list(range(120))
    assert all(b > a for a, b in itertools.pairwise(times))


def test_missing_and_corrupt_files_fail_clearly(tmp_path: Path) -> None:
    missing = SourceSpec("cam", SourceKind.FILE, str(tmp_path / "x.mp4"))
    with pytest.raises(SourceError, match="no such file"):
        open_source(missing, SourceConfig())
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(np.random.default_rng(0).integers(0, 255, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(SourceError, match=r"cannot open|no video|cannot decode"):
        open_source(parse_source(str(junk)), SourceConfig())


def test_a_missing_webcam_fails_clearly() -> None:
    with pytest.raises(SourceError, match="no such webcam"):
        open_source(parse_source("webcam:99"), SourceConfig())


def test_an_unreachable_stream_fails_without_leaking_credentials(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"http://viewer:s3cretpass@127.0.0.1:{free_port()}/live.ts"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SourceError) as info:
        open_source(parse_source(url), SourceConfig(open_timeout_s=2))
    assert "cannot open" in str(info.value)
    assert "s3cretpass" not in str(info.value) and "s3cretpass" not in caplog.text


def test_a_folder_is_read_in_name_order_skipping_unreadable_files(tmp_path: Path) -> None:
    for i in (2, 0, 1):
        cv2.imwrite(str(tmp_path / f"frame_{i}.png"), np.full((48, 64, 3), i * 50, np.uint8))
    (tmp_path / "frame_1b.jpg").write_bytes(b"not a jpeg")
    (tmp_path / "notes.txt").write_text("ignored")
    config = SourceConfig(folder_fps=10)
    with open_source(parse_source(str(tmp_path)), config) as source:
        frames = drain(source)
        stats = source.stats()
    assert [int(f.image[0, 0, 0]) for f in frames] == [0, 50, 100]
    assert np.allclose(np.diff([f.captured_at for f in frames]), [0.1, 0.2])  # gap: skipped file
    assert stats.unreadable == 1 and stats.state is SourceState.ENDED


def test_an_empty_folder_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="holds no images"):
        open_source(parse_source(str(tmp_path)), SourceConfig())


def test_newest_frame_slot_counts_what_it_replaces() -> None:
    slot = NewestFrameSlot()

    def raw(i: int) -> _Raw:
        return _Raw(i, float(i), lambda: np.zeros((1, 1, 3), np.uint8))

    assert slot.get(0.01) is None
    for i in range(5):
        assert slot.put(raw(i), wait=False)
    got = slot.get(0.01)
    assert got is not None and got.seq == 4 and slot.dropped == 4 and slot.held == 0
    slot.put(raw(5), wait=False)
    slot.close()
    assert not slot.put(raw(6), wait=False)
    last = slot.get(0.01)
    assert last is not None and last.seq == 5  # what was waiting is still delivered
    with pytest.raises(EndOfSource):
        slot.get(0.01)


def test_a_deeper_slot_absorbs_a_stall_and_then_drops_the_oldest() -> None:
    slot = NewestFrameSlot(depth=3)

    def raw(i: int) -> _Raw:
        return _Raw(i, float(i), lambda: np.zeros((1, 1, 3), np.uint8))

    for i in range(3):  # a stall of three frame intervals: nothing lost
        slot.put(raw(i), wait=False)
    assert slot.dropped == 0 and slot.held == 3
    slot.put(raw(3), wait=False)  # still behind: the oldest goes
    assert slot.dropped == 1
    got = [slot.get(0.01) for _ in range(3)]
    assert [g.seq for g in got if g is not None] == [1, 2, 3]  # in capture order
    with pytest.raises(ValueError):
        NewestFrameSlot(depth=0)


def test_stop_ends_a_reader_waiting_on_a_looping_source(synthetic_clip: Path) -> None:
    source = open_source(parse_source(str(synthetic_clip)), SourceConfig(realtime=True, loop=True))
    source.start()
    assert source.read(5.0) is not None
    source.stop()
    with pytest.raises(EndOfSource):
        while True:
            source.read(1.0)
    assert source.stats().state is SourceState.STOPPED
