"""The YuNet detector on real photos: OpenCV-identical output, scaling, small faces."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from openlfr.config import DetectorConfig, RuntimeConfig
from openlfr.vision import ModelPack, YuNetDetector
from openlfr.vision.weights import YUNET_2023MAR

pytestmark = pytest.mark.realdata

SORKIN = "lfw-dev/images/Aaron_Sorkin/Aaron_Sorkin_0001.jpg"


def test_matches_opencv_face_detector_yn(shared_data: Path) -> None:
    image = cv2.imread(str(shared_data / SORKIN))
    ours = YuNetDetector(YUNET_2023MAR.locate(), DetectorConfig(input_width=0), RuntimeConfig())
    dets = ours.detect(image)
    reference = cv2.FaceDetectorYN.create(
        str(YUNET_2023MAR.locate()), "", (image.shape[1], image.shape[0]), 0.6, 0.3, 5000
    )
    _, faces = reference.detect(image)
    assert faces is not None and len(dets) == len(faces) == 1
    ref_box = np.array(
        [faces[0, 0], faces[0, 1], faces[0, 0] + faces[0, 2], faces[0, 1] + faces[0, 3]]
    )
    np.testing.assert_allclose(dets.boxes[0], ref_box, atol=1e-2)
    np.testing.assert_allclose(dets.landmarks[0].ravel(), faces[0, 4:14], atol=1e-2)
    assert dets.scores[0] == pytest.approx(faces[0, 14], abs=1e-4)


def test_coordinates_are_in_source_pixels_after_resizing(
    shared_data: Path, pack: ModelPack
) -> None:
    image = cv2.imread(str(shared_data / SORKIN))
    big = cv2.resize(image, (640, 640))
    native = YuNetDetector(YUNET_2023MAR.locate(), DetectorConfig(input_width=0), RuntimeConfig())
    shrunk = YuNetDetector(YUNET_2023MAR.locate(), DetectorConfig(input_width=320), RuntimeConfig())
    a, b = native.detect(big), shrunk.detect(big)
    assert len(a) == len(b) == 1
    # Same face in the same source coordinates: the landmarks agree to within
    # a tenth of the eye distance (boxes vary more with scale than landmarks).
    inter_eye = float(np.hypot(*(a.landmarks[0, 1] - a.landmarks[0, 0])))
    assert inter_eye > 90
    np.testing.assert_allclose(a.landmarks[0], b.landmarks[0], atol=0.1 * inter_eye)


def test_blank_and_empty_images_have_no_faces(pack: ModelPack) -> None:
    assert len(pack.detect(np.zeros((480, 640, 3), np.uint8))) == 0
    assert len(pack.detect(np.zeros((0, 0, 3), np.uint8))) == 0


def test_small_faces_in_a_1080p_frame_need_native_resolution(shared_data: Path) -> None:
    # Eight real photos shrunk so each face is about 22 px wide (LFW faces
    # are about 100 px in 250), pasted into a 1920×1080 street-grey frame.
    frame = np.full((1080, 1920, 3), 90, np.uint8)
    people = sorted((shared_data / "lfw-dev/images").iterdir())[:8]
    for i, person in enumerate(people):
        photo = cv2.imread(str(next(person.iterdir())))
        small = cv2.resize(photo, None, fx=0.22, fy=0.22, interpolation=cv2.INTER_AREA)
        y, x = 200 + (i % 2) * 500, 150 + i * 220
        frame[y : y + small.shape[0], x : x + small.shape[1]] = small
    native = YuNetDetector(YUNET_2023MAR.locate(), DetectorConfig(input_width=0), RuntimeConfig())
    default = YuNetDetector(YUNET_2023MAR.locate(), DetectorConfig(), RuntimeConfig())
    found_native = len(native.detect(frame))
    assert found_native >= 7
    assert len(default.detect(frame)) < found_native
