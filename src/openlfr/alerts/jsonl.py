"""Alerts as JSON lines: exactly one JSON object per alert, one per line."""

from __future__ import annotations

import base64
import json
import sys
import threading
from datetime import UTC, datetime
from typing import IO, Any

import cv2

from openlfr.types import Alert


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def alert_to_dict(alert: Alert, *, include_crop: bool = False) -> dict[str, Any]:
    """The alert as JSON-ready values (the wire format of ``openlfr run --json``).

    Two clocks, both ISO 8601 UTC: ``time`` is when the probe's frame was
    captured (a live camera: the wall clock on arrival; a file: its own timeline
    anchored on the wall clock, see :meth:`FrameSource._loop
    <openlfr.stream.sources.base.FrameSource._loop>`); ``emitted`` is the wall
    clock when the pipeline raised the alert. ``time`` is never later than
    ``emitted``. The probe crop is included, as a base64 JPEG, only when asked for.
    """
    box = [round(float(v), 1) for v in alert.probe.detection.box]
    out: dict[str, Any] = {
        "alert_id": alert.alert_id,
        "subject": alert.subject_id,
        "score": round(alert.score, 6),
        "threshold": alert.threshold,
        "camera": alert.camera_id,
        "time": _iso(alert.captured_at),
        "emitted": _iso(alert.emitted_at),
        "track": alert.track_id,
        "watchlist": alert.watchlist,
        "model": alert.model_id,
        "box": box,
        "looks": [
            {
                "seq": look.seq,
                "time": _iso(look.captured_at),
                "score": round(look.candidate.score, 6) if look.candidate else None,
                "quality": round(look.quality_score, 4),
                "inter_eye_px": round(look.quality.inter_eye_px, 1),
                "yaw": round(look.quality.yaw, 1),
            }
            for look in alert.looks
        ],
    }
    if include_crop:
        ok, jpeg = cv2.imencode(".jpg", alert.probe.image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        if ok:
            out["probe_jpeg"] = base64.b64encode(jpeg.tobytes()).decode("ascii")
    return out


class JsonLinesSink:
    """Writes each alert as one JSON object on one line (default: stdout), flushed at once."""

    def __init__(self, stream: IO[str] | None = None, *, include_crop: bool = False) -> None:
        self._stream = stream
        self._include_crop = include_crop
        self._lock = threading.Lock()

    def emit(self, alert: Alert) -> None:
        line = json.dumps(alert_to_dict(alert, include_crop=self._include_crop), ensure_ascii=False)
        stream = self._stream or sys.stdout
        with self._lock:  # camera threads must not interleave lines
            stream.write(line + "\n")
            stream.flush()

    def close(self) -> None:
        stream = self._stream or sys.stdout
        with self._lock:
            stream.flush()
