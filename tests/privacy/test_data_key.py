"""The data key: a home with sealed data refuses a missing, wrong or malformed key (never makes a
new one), and ``keys rotate`` re-seals everything under a new key, audited and resumable."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from openlfr.api.app import create_app
from openlfr.api.testing import Api, alert_input, live_scenario, probe_crop
from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.cli import app as cli_app
from openlfr.demokit import KIT_DIR
from openlfr.notify.models import WebhookSubscription
from openlfr.privacy.crypto import BlobCipher, DataKeyError, DecryptionError, read_key
from openlfr.privacy.keys import pending_key_path
from openlfr.privacy.rotation import rotate
from openlfr.services import Services
from openlfr.storage.blobs import BlobStore
from openlfr.storage.context import Actor
from openlfr.users.roles import Role
from openlfr.vision.pack import ModelPack
from openlfr.watchlist_records.models import ReferenceImage
from openlfr.watchlist_records.service import IMAGE_BLOB, template_purpose

LISTED = KIT_DIR / "images" / "london_001_neutral.jpg"
SEEN = KIT_DIR / "images" / "london_001_smiling.jpg"
runner = CliRunner()


@dataclass
class Sealed:
    """A home holding every kind of sealed data: a reference image and its template, an
    alert crop and a webhook secret."""

    api: Api
    alert_id: int

    @property
    def key_file(self) -> Path:
        return self.api.plane.settings.resolved_key_file

    def fresh(self) -> Services:
        return Services(self.api.plane.settings)


@pytest.fixture
def sealed(api: Api, pack: ModelPack) -> Sealed:
    scene = live_scenario(api, [LISTED])
    r = api.call(
        "POST", "/subscriptions", Role.ADMIN, json={"name": "hook", "url": "http://127.0.0.1:9/x"}
    )
    assert r.status_code == 201, r.text
    session = api.launcher.sessions[scene.deployment_id]
    session.on_alert(
        alert_input(scene.deployment_id, "cam-1", scene.subject_id, probe_crop(pack, SEEN))
    )
    alert_id = api.call("GET", "/alerts", Role.OPERATOR).json()["items"][0]["id"]
    return Sealed(api, alert_id)


def _everything_opens(svc: Services) -> int:
    """Open every sealed item with ``svc``'s key; returns how many were opened."""
    opened = 0
    svc.blobs  # noqa: B018  # the key check opens its own transaction: before this one
    with svc.database.session() as db:
        for img in db.execute(select(ReferenceImage)).scalars():
            svc.blobs.get(img.blob_id, IMAGE_BLOB)
            svc.blobs.open_inline(img.template, template_purpose(img.blob_id))
            opened += 2
        for sub in db.execute(select(WebhookSubscription)).scalars():
            svc.blobs.open_inline(sub.secret, f"webhook-secret:{sub.id}")
            opened += 1
        from openlfr.alert_records.models import AlertRecord
        from openlfr.alert_records.service import CROP_BLOB

        for alert in db.execute(select(AlertRecord)).scalars():
            svc.blobs.get(alert.crop_blob_id, CROP_BLOB)
            opened += 1
    return opened


def test_a_missing_key_is_refused_not_replaced(sealed: Sealed) -> None:
    sealed.key_file.unlink()
    with pytest.raises(DataKeyError, match=r"holds sealed data .* is missing"):
        _ = sealed.fresh().cipher
    assert not sealed.key_file.exists()  # no new key was made
    with pytest.raises(DataKeyError, match="missing"):
        create_app(services=sealed.fresh(), background=False)


def test_the_wrong_key_is_refused(sealed: Sealed) -> None:
    sealed.key_file.write_bytes(base64.b64encode(os.urandom(32)) + b"\n")
    with pytest.raises(DataKeyError, match="not the key this home's data is sealed with"):
        _ = sealed.fresh().cipher


def test_the_first_initialisation_makes_the_key(tmp_path: Path) -> None:
    from openlfr.config import Settings

    settings = Settings(home=tmp_path / "new-home")
    cipher = Services(settings).cipher
    assert read_key(settings.resolved_key_file) is not None
    assert Services(settings).cipher.fingerprint == cipher.fingerprint


@pytest.mark.parametrize("content", [b"not a key at all\n", b"c2hvcnQ=\n", b"\xff\xfe\x00"])
def test_a_malformed_key_file_is_a_clear_error_not_a_traceback(
    sealed: Sealed, monkeypatch: pytest.MonkeyPatch, content: bytes
) -> None:
    sealed.key_file.write_bytes(content)
    settings = sealed.api.plane.settings
    monkeypatch.setenv("OPENLFR_HOME", str(settings.home))
    monkeypatch.setenv("OPENLFR_DATABASE__URL", str(settings.database.url))
    monkeypatch.setenv("OPENLFR_DATABASE__BLOB_DIR", str(settings.blob_dir))
    result = runner.invoke(cli_app, ["purge"])
    assert result.exit_code == 1, result.output
    assert f"key file {sealed.key_file}" in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def _rotate(sealed: Sealed, **kw: object):  # type: ignore[no-untyped-def]
    plane = sealed.api.plane
    return rotate(
        plane.settings, plane.database, actor=Actor.system("test"), now=plane.clock.now, **kw
    )


def test_rotate_reseals_everything_under_a_new_key_audited(sealed: Sealed) -> None:
    old = read_key(sealed.key_file)
    assert old is not None
    before = _everything_opens(sealed.fresh())
    report = _rotate(sealed)
    assert report.blobs == 2 and report.fields == 2 and not report.resumed
    new = read_key(sealed.key_file)
    assert new is not None and new != old
    assert not pending_key_path(sealed.key_file).exists()
    assert _everything_opens(sealed.fresh()) == before == 4
    # The old key opens nothing any more.
    with sealed.api.plane.database.session() as db:
        img = db.execute(select(ReferenceImage)).scalars().first()
        assert img is not None
        store = BlobStore(sealed.api.plane.settings.blob_dir, BlobCipher(old))
        with pytest.raises(DecryptionError):
            store.get(img.blob_id, IMAGE_BLOB)
        with pytest.raises(DecryptionError):
            store.open_inline(img.template, template_purpose(img.blob_id))
        (event,) = audit.list_events(db, offset=0, limit=5, action=str(Action.KEYS_ROTATED))[0]
        assert audit.details_of(event)["blobs"] == 2
        assert audit.verify(db).ok


def test_an_interrupted_rotation_loses_nothing_and_finishes_when_rerun(sealed: Sealed) -> None:
    done: list[str] = []

    def crash_after_two(item: str) -> None:
        done.append(item)
        if len(done) == 2:
            raise KeyboardInterrupt  # the process dies half-way

    with pytest.raises(KeyboardInterrupt):
        _rotate(sealed, progress=crash_after_two)
    assert pending_key_path(sealed.key_file).exists()
    # Meanwhile everything still opens (old and new key side by side).
    assert _everything_opens(sealed.fresh()) == 4
    report = _rotate(sealed)
    assert report.resumed and report.already_done == 2
    assert report.blobs + report.fields == 2
    assert not pending_key_path(sealed.key_file).exists()
    assert _everything_opens(sealed.fresh()) == 4
