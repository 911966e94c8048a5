"""What accountability costs the control plane: alert ingest and audit verification.

Run:  .venv/bin/python bench/control_plane.py [--alerts 300] [--data ../shared/data]

For each backend (SQLite WAL; PostgreSQL when reachable at
``OPENLFR_TEST_POSTGRES_URL``) it measures, in the same run:

* ingest: an alert stored the governed way (crop sealed with AES-GCM into the
  blob store with fsync, alert row, hash-chained audit event under the chain
  lock, outbox rows, one transaction) against a baseline that inserts the same
  alert row alone in its own transaction;
* verification: re-computing the audit chain against a baseline that only reads
  the same events.

The probe crop is a real face (the first example photo's aligned crop) when the
shared data is present, else random bytes of the same size.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

from openlfr.alert_records.models import AlertRecord
from openlfr.alert_records.recorder import AlertRecorder
from openlfr.alert_records.service import AlertInput
from openlfr.audit import service as audit
from openlfr.config import Settings
from openlfr.config.authorisation import AuthorisationConfig
from openlfr.deployments import service as deployments
from openlfr.deployments.models import CameraCreate, DeploymentCreate
from openlfr.privacy.crypto import BlobCipher
from openlfr.storage import migrate
from openlfr.storage.blobs import BlobStore
from openlfr.storage.clock import SystemClock
from openlfr.storage.context import Actor, Ctx
from openlfr.storage.engine import Database
from openlfr.storage.testing import PostgresSchema, postgres_unavailable
from openlfr.types import FaceQuality
from openlfr.watchlist.models import Template
from openlfr.watchlist_records import service as watchlists
from openlfr.watchlist_records.models import WatchlistCreate

REPO = Path(__file__).resolve().parents[1]


class _RandomTemplates:
    """Enrolment without models: ingest cost does not depend on how templates were made."""

    model_id, dim = "bench", 128

    def template_for(self, data: bytes, source_name: str) -> Template:
        v = np.random.default_rng(len(data)).normal(size=128).astype(np.float32)
        return Template(
            embedding=v / np.linalg.norm(v),
            source_name=source_name,
            source_sha256="0" * 64,
            quality=FaceQuality(40.0, 100.0, 0.0, 0.0, 0.0, 0.99),
            enrolled_at=datetime.now(UTC),
        )


def _crop(data_root: Path) -> bytes:
    photo = data_root / "small" / "face_recognition_examples" / "images" / "obama_01.jpg"
    if photo.is_file():
        settings = Settings()
        from openlfr.vision.pack import load_pack
        from openlfr.watchlist.images import load_reference_image

        pack = load_pack(settings.models, settings.detector, settings.runtime)
        image = load_reference_image(photo.read_bytes(), max_bytes=10**8, max_pixels=10**8)
        crop = pack.analyse(image)[0].crop.image
    else:
        crop = np.random.default_rng(0).integers(0, 255, (112, 112, 3), dtype=np.uint8)
    ok, png = cv2.imencode(".png", crop)
    assert ok
    return bytes(png.tobytes())


def _setup(db: Database, blobs: BlobStore) -> tuple[int, int]:
    now = datetime.now(UTC)
    with db.session() as s:
        ctx = Ctx(db=s, actor=Actor.system("bench"), now=now, blobs=blobs)
        wl = watchlists.create(ctx, WatchlistCreate(name="bench"), model_id="bench", dim=128)
        subject = watchlists.enrol_subject(
            ctx,
            wl,
            watchlists.SubjectDetails("WL-1", "wanted_on_warrant", "custody"),
            [("a.png", b"x" * 1000)],
            source=_RandomTemplates(),
            policy=Settings().governance,
        )
        dep = deployments.create(
            ctx,
            DeploymentCreate(
                name="bench",
                location="lab",
                purpose="benchmark",
                legal_basis="none",
                planned_start=now - timedelta(minutes=1),
                planned_end=now + timedelta(hours=1),
                watchlist_id=wl.id,
                cameras=[CameraCreate(name="cam", source="/dev/null")],
            ),
            default_threshold=0.5,
        )
        deployments.authorise(ctx, dep, note="bench")
        # A benchmark outside any jurisdiction: no legal record is required to go live.
        deployments.start(ctx, dep, authorisation=AuthorisationConfig(required=()))
        return dep.id, subject.id


def _bench(label: str, db: Database, root: Path, n: int, crop: bytes) -> None:
    migrate.upgrade(db)
    blobs = BlobStore(root / "blobs", BlobCipher(secrets.token_bytes(32)))
    dep, subject = _setup(db, blobs)
    recorder = AlertRecorder(db, blobs, SystemClock(), mqtt_enabled=True)
    governed, plain = [], []
    for i in range(n):
        item = AlertInput(dep, "cam", str(subject), 0.7, str(i), datetime.now(UTC), crop)
        t = time.perf_counter()
        recorder.record(item)
        governed.append(time.perf_counter() - t)
        t = time.perf_counter()
        with db.session() as s:
            s.add(
                AlertRecord(
                    deployment_id=dep,
                    camera="cam",
                    watchlist_id=1,
                    subject_id=subject,
                    subject_reference="WL-1",
                    score=0.7,
                    threshold=0.5,
                    track_id=str(i),
                    captured_at=item.captured_at,
                    created_at=datetime.now(UTC),
                    crop_blob_id=secrets.token_hex(16),
                    crop_media_type="image/png",
                    crop_sha256="0" * 64,
                )
            )
        plain.append(time.perf_counter() - t)
    g, p = statistics.median(governed) * 1e3, statistics.median(plain) * 1e3
    print(
        f"{label:10s} ingest   governed {g:7.2f} ms/alert   plain insert {p:7.2f} ms   "
        f"ratio {g / p:5.1f}x   (median of {n})"
    )
    with db.session() as s:
        events = audit.count_events(s)
        t = time.perf_counter()
        report = audit.verify(s)
        verify_s = time.perf_counter() - t
        t = time.perf_counter()
        read = sum(1 for _ in audit.iter_events(s))
        read_s = time.perf_counter() - t
    assert report.ok and read == events
    print(
        f"{label:10s} verify   {events / verify_s:9.0f} events/s   read only "
        f"{events / read_s:9.0f} events/s   ratio {verify_s / read_s:5.1f}x   ({events} events)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=300)
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("OPENLFR_SHARED_DATA", REPO.parent / "shared" / "data")),
    )
    args = parser.parse_args()
    crop = _crop(args.data)
    print(f"probe crop: {len(crop)} bytes PNG; {args.alerts} alerts per backend")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        db = Database(f"sqlite:///{root / 'bench.db'}")
        _bench("sqlite", db, root, args.alerts, crop)
        db.dispose()
        reason = postgres_unavailable()
        if reason:
            print(f"postgresql skipped: {reason}", file=sys.stderr)
            return
        schema = PostgresSchema()
        try:
            db = Database(schema.url)
            _bench("postgresql", db, root / "pg", args.alerts, crop)
            db.dispose()
        finally:
            schema.drop()


if __name__ == "__main__":
    main()
