"""Invariant 4: the database and the blob store hold no raw embedding and no image bytes.

A realistic state is built (two subjects from real photos, a new watchlist
version, a live deployment, an alert with a real probe crop), then every byte
the system stored is searched for fragments of what it was given.
"""

from __future__ import annotations

import base64
from pathlib import Path

import cv2
import numpy as np
from sqlalchemy import inspect, text

from openlfr.api.testing import EXAMPLES, Api, alert_input, b64_image, live_scenario, probe_crop
from openlfr.users.roles import Role
from openlfr.watchlist.images import load_reference_image

GENERIC = {
    "JPEG start of image": b"\xff\xd8\xff",
    "PNG signature": b"\x89PNG\r\n\x1a\n",
    "JFIF marker": b"JFIF",
    "Exif marker": b"Exif\x00\x00",
}


def _needles(label: str, data: bytes) -> dict[str, bytes]:
    """Fragments of ``data`` from its start, middle and end, long enough not to occur by chance."""
    n = len(data)
    out = {}
    for where, start in (("head", 16), ("middle", n // 2), ("tail", max(n - 80, 0))):
        piece = data[start : start + 48]
        if len(piece) >= 32:
            out[f"{label} ({where})"] = piece
    return out


def _pixel_rows(label: str, image: np.ndarray) -> dict[str, bytes]:
    h = image.shape[0]
    return {f"{label} pixel row {y}": image[y].tobytes()[:96] for y in (h // 3, h // 2)}


def _embedding_needles(label: str, vector: np.ndarray) -> dict[str, bytes]:
    f32 = np.asarray(vector, "<f4").tobytes()
    return {
        f"{label} float32": f32[:32],
        f"{label} float32 (middle)": f32[len(f32) // 2 : len(f32) // 2 + 32],
        f"{label} float64": np.asarray(vector, "<f8").tobytes()[:32],
        f"{label} base64": base64.b64encode(f32)[:40],
        f"{label} text": repr(float(vector[0]))[:10].encode() + b",",
    }


def _stored_bytes(api: Api) -> dict[str, bytes]:
    """Every file of the blob store, the SQLite files, and every value in every table."""
    stored: dict[str, bytes] = {}
    for path in api.plane.blobs.root.rglob("*"):
        if path.is_file():
            stored[f"blob {path.name}"] = path.read_bytes()
    sqlite = api.plane.database.sqlite_path
    if sqlite is not None:
        for suffix in ("", "-wal", "-shm"):
            f = Path(f"{sqlite}{suffix}")
            if f.exists():
                stored[f"file {f.name}"] = f.read_bytes()
    engine = api.plane.database.engine
    with api.plane.database.session() as s:
        for table in inspect(engine).get_table_names():
            rows = s.execute(text(f'SELECT * FROM "{table}"')).all()
            parts = []
            for row in rows:
                for value in row:
                    if isinstance(value, bytes | bytearray | memoryview):
                        parts.append(bytes(value))
                    elif value is not None:
                        parts.append(str(value).encode())
            stored[f"table {table}"] = b"\x00".join(parts)
    return stored


def test_no_raw_biometric_bytes_anywhere(api: Api, shared_data: Path) -> None:
    photos = shared_data / EXAMPLES
    obama = [photos / "obama_01.jpg", photos / "obama_02.jpg"]
    biden = photos / "biden_01.jpg"
    s = live_scenario(api, obama)
    # A second subject on a new version, and a probe crop stored with an alert.
    v2 = api.call("POST", f"/watchlists/{s.watchlist_id}/versions", Role.WATCHLIST_MANAGER).json()
    r = api.call(
        "POST",
        f"/watchlists/{v2['id']}/subjects",
        Role.WATCHLIST_MANAGER,
        json={
            "reference": "WL-0002",
            "category": "wanted_by_court",
            "image_source": "custody",
            "images": [b64_image(biden)],
        },
    )
    assert r.status_code == 201
    pack = api.plane.services.pack
    crop = probe_crop(pack, photos / "obama_03.jpg")
    api.plane.recorder.record(alert_input(s.deployment_id, s.camera, s.subject_id, crop))

    needles = dict(GENERIC)
    for path in [*obama, biden]:
        data = path.read_bytes()
        needles.update(_needles(path.name, data))
        image = load_reference_image(data, max_bytes=10**8, max_pixels=10**8)
        needles.update(_pixel_rows(path.name, image))
        (face,) = pack.analyse(image)
        needles.update(_embedding_needles(f"{path.name} template", face.embedding))
    needles.update(_needles("probe crop PNG", crop))
    decoded = cv2.imdecode(np.frombuffer(crop, np.uint8), cv2.IMREAD_COLOR)
    needles.update(_pixel_rows("probe crop", decoded))

    stored = _stored_bytes(api)
    assert any(k.startswith("blob ") for k in stored) and any(
        "reference_images" in k for k in stored
    )
    found = [
        f"{what} in {where}"
        for where, haystack in stored.items()
        for what, needle in needles.items()
        if needle in haystack
    ]
    assert found == []


def test_the_scan_would_catch_raw_data(api: Api, shared_data: Path) -> None:
    """The check itself works: a plaintext vector in a row, or a photo in the blob folder,
    is found."""
    vector = np.linspace(-0.2, 0.2, 128).astype(np.float32)
    with api.plane.database.session() as s:
        s.execute(
            text(
                "INSERT INTO webhook_subscriptions (name, url, secret, active, created_at, "
                "created_by) VALUES ('x', 'http://x', :secret, true, :at, 'test')"
            ),
            {"secret": vector.astype("<f4").tobytes(), "at": api.plane.clock.now()},
        )
    photo = (shared_data / EXAMPLES / "biden_01.jpg").read_bytes()
    api.plane.blobs.root.mkdir(parents=True, exist_ok=True)
    (api.plane.blobs.root / "stray.jpg").write_bytes(photo)
    stored = _stored_bytes(api)
    needle = _embedding_needles("probe", vector)["probe float32"]
    assert any(needle in haystack for haystack in stored.values())
    for fragment in _needles("photo", photo).values():
        assert any(fragment in haystack for haystack in stored.values())
