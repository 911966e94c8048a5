"""The scene thumbnail kept with an alert: the camera view's fail-safe mosaic, small.

Made from the frame the alert was decided on, by the camera view's own
:func:`openlfr.web.preview.redact`: the whole picture is a coarse mosaic, every
other detected face is pixelated again, and only the alerted track's box is shown
as captured. It is encoded in memory and sealed with the alert like its crop.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2

from openlfr.types import Detections, ImageArray, Track
from openlfr.web.preview import PreviewSettings, redact

# Small enough to keep with every alert, large enough to show where the person stood.
THUMBNAIL = PreviewSettings(max_width=320, scene_cells=12, jpeg_quality=70)


def scene_thumbnail(
    image: ImageArray,
    detections: Detections,
    tracks: Sequence[Track],
    alerted_track: int,
    settings: PreviewSettings = THUMBNAIL,
) -> bytes | None:
    """A JPEG of the frame with nothing recognisable but the alerted track's face."""
    if image.size == 0:
        return None
    picture = redact(image, detections, tracks, frozenset({alerted_track}), settings)
    ok, data = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, settings.jpeg_quality])
    return bytes(data.tobytes()) if ok else None
