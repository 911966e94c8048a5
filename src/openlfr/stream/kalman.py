"""Constant-velocity Kalman filter for one face box (centre, aspect ratio, height)."""

from __future__ import annotations

import numpy as np

from openlfr.types import FloatArray

# Noise relative to the box height, as in ByteTrack/DeepSORT, so small distant
# faces and large near ones are trusted alike. Their values are per frame at
# this reference rate; other time steps scale them.
_STD_POSITION = 1.0 / 20.0
_STD_VELOCITY = 1.0 / 160.0
_REFERENCE_FPS = 25.0


def xyxy_to_xyah(box: FloatArray) -> FloatArray:
    """``(x1, y1, x2, y2)`` to ``(centre x, centre y, width / height, height)``."""
    x1, y1, x2, y2 = (float(v) for v in box)
    h = max(y2 - y1, 1e-3)
    return np.array([(x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) / h, h], np.float64).astype(np.float32)


def xyah_to_xyxy(xyah: np.ndarray) -> FloatArray:
    cx, cy, a, h = (float(v) for v in xyah[:4])
    w = a * h
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], np.float32)


class BoxKalman:
    """State ``(cx, cy, a, h)`` and their velocities per second."""

    def __init__(self, box: FloatArray) -> None:
        z = xyxy_to_xyah(box).astype(np.float64)
        self.mean = np.concatenate([z, np.zeros(4)])
        h = z[3]
        std = [
            2 * _STD_POSITION * h,
            2 * _STD_POSITION * h,
            1e-2,
            2 * _STD_POSITION * h,
            10 * _STD_VELOCITY * h * _REFERENCE_FPS,
            10 * _STD_VELOCITY * h * _REFERENCE_FPS,
            1e-5,
            10 * _STD_VELOCITY * h * _REFERENCE_FPS,
        ]
        self.cov = np.diag(np.square(std))

    def predict(self, dt: float) -> None:
        """Move the state ``dt`` seconds ahead."""
        if dt <= 0:
            return
        steps = dt * _REFERENCE_FPS
        motion = np.eye(8)
        motion[:4, 4:] = np.eye(4) * dt
        h = self.mean[3]
        std_pos = [_STD_POSITION * h, _STD_POSITION * h, 1e-2, _STD_POSITION * h]
        std_vel = [_STD_VELOCITY * h * _REFERENCE_FPS] * 2 + [
            1e-5,
            _STD_VELOCITY * h * _REFERENCE_FPS,
        ]
        noise = np.diag(np.square(std_pos + std_vel)) * steps
        self.mean = motion @ self.mean
        self.cov = motion @ self.cov @ motion.T + noise

    def update(self, box: FloatArray) -> None:
        """Correct the state with a measured box."""
        z = xyxy_to_xyah(box).astype(np.float64)
        h = self.mean[3]
        r = np.diag(np.square([_STD_POSITION * h, _STD_POSITION * h, 1e-1, _STD_POSITION * h]))
        projected_cov = self.cov[:4, :4] + r
        gain = np.linalg.solve(projected_cov, self.cov[:4, :]).T
        self.mean = self.mean + gain @ (z - self.mean[:4])
        self.cov = self.cov - gain @ projected_cov @ gain.T

    @property
    def box(self) -> FloatArray:
        """The estimated box, ``x1, y1, x2, y2``."""
        return xyah_to_xyxy(self.mean)
