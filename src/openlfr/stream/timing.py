"""The per-stage timing hook of the live pipeline (what the worker's metrics observe)."""

from __future__ import annotations

from collections.abc import Callable

StageTimer = Callable[[str, float], None]
"""Told how long a stage took for one frame: ``(stage name, seconds)``. Called on the
camera's threads; it must be cheap and thread-safe (a Prometheus histogram is)."""
