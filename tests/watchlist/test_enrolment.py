"""Enrolment on real photos: every quality rejection, and all-or-nothing updates."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from openlfr.cli.common import work
from openlfr.config import EnrolmentConfig
from openlfr.services import Services
from openlfr.storage.errors import Conflict
from openlfr.watchlist import ImageRejected, QualityGate, RejectionReason
from openlfr.watchlist_records import named
from openlfr.watchlist_records.enrolment import EnrolmentRefused, GateTemplateSource
from openlfr.watchlist_records.service import SubjectDetails

pytestmark = pytest.mark.realdata

EXAMPLES = "small/face_recognition_examples/images"


def jpeg(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    return buf.tobytes()


def reason_for(gate: QualityGate, data: bytes) -> RejectionReason:
    with pytest.raises(ImageRejected) as info:
        gate.template_for(data, "probe")
    return info.value.reason


def enrol_files(svc: Services, subject: str, *paths: Path, watchlist: str = "wl") -> named.Enrolled:
    """Enrol through the watchlist services, committed as the command line does it."""
    with work(svc) as ctx:
        return named.enrol(
            ctx,
            watchlist,
            SubjectDetails(reference=subject, category="wanted_on_warrant", image_source="test"),
            [(p.name, p.read_bytes()) for p in paths],
            source=svc.template_source,
            policy=svc.settings.governance,
        )


def subjects(svc: Services, watchlist: str = "wl") -> dict[str, int]:
    """Each subject of the watchlist's newest version and its number of photos."""
    with work(svc) as ctx:
        wl = named.newest(ctx, watchlist)
        return {} if wl is None else {s.reference: len(s.images) for s in wl.subjects}


def test_a_good_photo_gives_one_template_with_provenance(
    services: Services, shared_data: Path
) -> None:
    path = shared_data / EXAMPLES / "obama_01.jpg"
    template = services.quality_gate.template_for(path.read_bytes(), "obama_01.jpg")
    assert template.embedding.shape == (128,)
    assert np.linalg.norm(template.embedding) == pytest.approx(1.0, abs=1e-5)
    assert template.source_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert template.quality.inter_eye_px > 100


def test_no_face(services: Services) -> None:
    rng = np.random.default_rng(0)
    texture = cv2.GaussianBlur((rng.random((480, 640, 3)) * 255).astype(np.uint8), (0, 0), 3)
    assert reason_for(services.quality_gate, jpeg(texture)) == RejectionReason.NO_FACE


def test_several_faces_says_how_many(services: Services, shared_data: Path) -> None:
    data = (shared_data / EXAMPLES / "multi_obama_biden_01.jpg").read_bytes()
    with pytest.raises(ImageRejected) as info:
        services.quality_gate.template_for(data, "two_people")
    assert info.value.reason == RejectionReason.SEVERAL_FACES
    assert info.value.message.startswith("2 faces found")


def test_face_too_small_gives_size_and_minimum(services: Services, shared_data: Path) -> None:
    data = (shared_data / EXAMPLES / "obama_07_240p.jpg").read_bytes()
    with pytest.raises(ImageRejected) as info:
        services.quality_gate.template_for(data, "240p")
    assert info.value.reason == RejectionReason.FACE_TOO_SMALL
    assert "minimum 28 px" in info.value.message


def test_too_blurred(services: Services, shared_data: Path) -> None:
    image = cv2.imread(str(shared_data / EXAMPLES / "obama_07_480p.jpg"))
    blurred = cv2.GaussianBlur(image, (0, 0), 2.5)
    assert reason_for(services.quality_gate, jpeg(blurred)) == RejectionReason.TOO_BLURRED


def test_extreme_pose(services: Services, shared_data: Path) -> None:
    # A real three-quarter view (about 29° of yaw by the landmark estimate)
    # against a gate that demands near-frontal photos.
    strict = QualityGate(services.pack, EnrolmentConfig(max_yaw_deg=15))
    data = (shared_data / EXAMPLES / "obama_04.jpg").read_bytes()
    assert reason_for(strict, data) == RejectionReason.EXTREME_POSE
    services.quality_gate.template_for(data, "default gate accepts it")


def test_low_detector_confidence(services: Services, shared_data: Path) -> None:
    # Detector confidence on clear photos is about 0.9–0.95; a gate asking
    # for 0.99 must refuse them for that reason (and no other).
    data = (shared_data / EXAMPLES / "obama_01.jpg").read_bytes()
    gate = QualityGate(services.pack, EnrolmentConfig(min_detector_score=0.99))
    assert reason_for(gate, data) == RejectionReason.LOW_CONFIDENCE


def test_corrupt_and_oversized_files_are_rejected_before_detection(
    services: Services, shared_data: Path
) -> None:
    data = (shared_data / EXAMPLES / "obama_01.jpg").read_bytes()
    assert reason_for(services.quality_gate, data[: len(data) // 3]) == RejectionReason.CORRUPT
    tiny_limit = QualityGate(services.pack, EnrolmentConfig(max_bytes=1000))
    assert reason_for(tiny_limit, data) == RejectionReason.TOO_LARGE_BYTES
    buf = io.BytesIO()
    Image.new("RGB", (8000, 6000)).save(buf, "PNG")
    assert reason_for(services.quality_gate, buf.getvalue()) == RejectionReason.TOO_LARGE_PIXELS


def test_enrol_creates_then_extends_a_watchlist(services: Services, shared_data: Path) -> None:
    first = enrol_files(services, "obama", shared_data / EXAMPLES / "obama_01.jpg")
    assert first.created_watchlist and first.images_added == 1
    second = enrol_files(
        services,
        "obama",
        shared_data / EXAMPLES / "obama_02.jpg",
        shared_data / EXAMPLES / "obama_03.jpg",
    )
    assert not second.created_watchlist and second.images_added == 2
    enrol_files(services, "biden", shared_data / EXAMPLES / "biden_01.jpg")
    assert subjects(services) == {"obama": 3, "biden": 1}
    probe = services.quality_gate.template_for(
        (shared_data / EXAMPLES / "obama_04.jpg").read_bytes(), "probe"
    )
    with work(services) as ctx:
        gallery = named.gallery(ctx, "wl").gallery
    best = gallery.search(probe.embedding[None], top_k=2)[0].best
    assert best is not None and best.subject_id == "obama"


def test_a_failed_enrolment_leaves_the_watchlist_unchanged(
    services: Services, shared_data: Path
) -> None:
    enrol_files(services, "obama", shared_data / EXAMPLES / "obama_01.jpg")
    blobs = services.settings.blob_dir
    before = sorted(p.name for p in blobs.rglob("*") if p.is_file())
    with pytest.raises(EnrolmentRefused) as info:
        enrol_files(
            services,
            "obama",
            shared_data / EXAMPLES / "obama_02.jpg",  # good
            shared_data / EXAMPLES / "multi_obama_biden_01.jpg",  # two faces
            shared_data / EXAMPLES / "obama_07_240p.jpg",  # too small
        )
    reasons = [r.reason for r in info.value.rejections]
    assert reasons == [RejectionReason.SEVERAL_FACES, RejectionReason.FACE_TOO_SMALL]
    assert sorted(p.name for p in blobs.rglob("*") if p.is_file()) == before
    assert subjects(services) == {"obama": 1}
    # A rejected first enrolment does not create the watchlist either.
    with pytest.raises(EnrolmentRefused):
        enrol_files(services, "x", shared_data / EXAMPLES / "multi_kit_rose.jpg", watchlist="other")
    with work(services) as ctx:
        assert [wl.name for wl in named.names(ctx)] == ["wl"]


def test_a_watchlist_of_another_model_is_refused(services: Services, shared_data: Path) -> None:
    enrol_files(services, "obama", shared_data / EXAMPLES / "obama_01.jpg")
    other = GateTemplateSource(
        model_id="some-other-model", dim=128, template_for=services.quality_gate.template_for
    )
    with work(services) as ctx, pytest.raises(Conflict, match="some-other-model"):
        named.enrol(
            ctx,
            "wl",
            SubjectDetails(reference="biden", category="wanted_on_warrant", image_source="t"),
            [("b", (shared_data / EXAMPLES / "biden_01.jpg").read_bytes())],
            source=other,
            policy=services.settings.governance,
        )
