"""The JSON-lines sink writes one object per alert; the fan-out isolates failing sinks."""

from __future__ import annotations

import base64
import io
import json
import threading

import cv2
import numpy as np
import pytest

from openlfr.alerts import AlertSink, CollectingSink, FanOut, JsonLinesSink, alert_to_dict
from openlfr.types import Alert, Candidate, Detection, FaceCrop, FaceQuality, Look

QUALITY = FaceQuality(40.0, 200.0, 1.0, 2.0, 0.0, 0.9)


def make_alert(i: int = 0) -> Alert:
    crop = FaceCrop(
        image=np.full((112, 112, 3), 7, np.uint8),
        detection=Detection(np.array([1, 2, 3, 4], np.float32), np.zeros((5, 2), np.float32), 0.9),
        quality=QUALITY,
    )
    looks = tuple(
        Look("cam0", 3, s, 1_700_000_000.0 + s, QUALITY, 0.8, Candidate("subj", 0.6 + s / 100, 1))
        for s in (1, 5)
    )
    return Alert(
        alert_id=f"id{i}",
        camera_id="cam0",
        track_id=3,
        subject_id="subj",
        score=0.65,
        threshold=0.55,
        captured_at=1_700_000_005.0,
        emitted_at=1_700_000_005.1,
        probe=crop,
        looks=looks,
        watchlist="wl",
        model_id="sface-2021dec",
    )


def test_json_line_has_the_required_fields() -> None:
    out = io.StringIO()
    sink = JsonLinesSink(out)
    sink.emit(make_alert())
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    for key in ("subject", "score", "camera", "time", "track"):
        assert key in record
    assert record["subject"] == "subj" and record["camera"] == "cam0" and record["track"] == 3
    assert record["time"] == "2023-11-14T22:13:25.000Z"
    assert [x["seq"] for x in record["looks"]] == [1, 5]
    assert "probe_jpeg" not in record
    assert make_alert().latency_s == pytest.approx(0.1)


def test_crop_is_included_only_on_request() -> None:
    record = alert_to_dict(make_alert(), include_crop=True)
    jpeg = np.frombuffer(base64.b64decode(record["probe_jpeg"]), np.uint8)
    image = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
    assert image.shape == (112, 112, 3)


def test_concurrent_cameras_never_interleave_lines() -> None:
    out = io.StringIO()
    sink = JsonLinesSink(out)
    threads = [
        threading.Thread(target=lambda k=k: [sink.emit(make_alert(k * 100 + i)) for i in range(50)])
        for k in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [json.loads(line)["alert_id"] for line in out.getvalue().splitlines()]
    assert sorted(ids) == sorted(f"id{k * 100 + i}" for k in range(4) for i in range(50))


class _Broken:
    def emit(self, alert: Alert) -> None:
        raise ConnectionError("down")

    def close(self) -> None:
        raise ConnectionError("down")


def test_fan_out_isolates_a_failing_sink() -> None:
    good = CollectingSink()
    fan = FanOut([_Broken(), good])
    fan.emit(make_alert())
    fan.close()
    assert len(good.alerts) == 1
    assert fan.failures == 1 and fan.delivered == 1


def test_sinks_satisfy_the_protocol() -> None:
    assert isinstance(JsonLinesSink(io.StringIO()), AlertSink)
    assert isinstance(CollectingSink(), AlertSink)
    assert isinstance(FanOut([]), AlertSink)
