"""Hardware video decoding where the installed FFmpeg (PyAV) offers it, else the CPU.

``pipeline.source.hwaccel`` names a device type (``cuda``, ``vaapi``, ``qsv``, …),
``auto`` (the first type this FFmpeg build supports, in the order below), or
``off``. A device that cannot be opened (no GPU, no driver, no permission) is
remembered for the life of the process and the file or stream is opened on the
CPU instead: a camera never fails for want of a decoder.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from av.codec.hwaccel import HWAccel

log = logging.getLogger("openlfr.stream")

# Preference for 'auto': NVIDIA first (the GPU path), then Intel and the generic Linux APIs.
PREFERENCE = ("cuda", "qsv", "vaapi", "videotoolbox", "d3d11va", "dxva2", "drm")

_failed: set[str] = set()
_lock = threading.Lock()


def ffmpeg_devices() -> list[str]:
    """Device types the loaded FFmpeg was built with (not whether such a device exists)."""
    try:
        from av.codec.hwaccel import hwdevices_available
    except ImportError:  # PyAV before 14 has no hardware decoding
        return []
    return [str(d) for d in hwdevices_available()]


def candidates(setting: str, available: Iterable[str]) -> list[str]:
    """Device types to try, best first, for ``setting`` given what FFmpeg offers."""
    have = set(available)
    with _lock:
        failed = set(_failed)
    if setting == "off":
        return []
    if setting == "auto":
        return [d for d in PREFERENCE if d in have and d not in failed]
    return [setting] if setting in have and setting not in failed else []


def hwaccel_for(device: str) -> HWAccel:
    """The PyAV object that asks for decoding on ``device``, falling back in the codec."""
    from av.codec.hwaccel import HWAccel

    return HWAccel(device_type=device, allow_software_fallback=True)


def mark_failed(device: str, reason: str) -> None:
    with _lock:
        first = device not in _failed
        _failed.add(device)
    if first:
        log.warning(
            "hardware decoding on %s is unavailable (%s): decoding on the CPU", device, reason
        )


def forget_failures() -> None:
    """Try every device again (tests; a driver installed while running)."""
    with _lock:
        _failed.clear()
