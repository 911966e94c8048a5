"""How live cameras share the CPU: model threads sized to the number of cameras."""

from __future__ import annotations

import pytest

from openlfr.stream.build import threads_per_camera


@pytest.mark.parametrize(
    ("cameras", "cores", "expected"),
    [(1, 2, 1), (2, 2, 1), (8, 2, 1), (1, 8, 4), (2, 8, 3), (4, 16, 3), (1, 1, 1)],
)
def test_threads_per_camera_leaves_room_for_decoding(
    cameras: int, cores: int, expected: int
) -> None:
    assert threads_per_camera(cameras, cores) == expected
