"""Evidence packs and use logs: exported over the API, checked offline, and every alteration
(any byte, or events cut from the chain) refused."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from openlfr.api.testing import (
    EXAMPLES,
    Api,
    Scenario,
    add_token,
    add_user,
    alert_input,
    live_scenario,
    probe_crop,
)
from openlfr.audit import service as audit
from openlfr.audit.actions import Action
from openlfr.audit.checkpoints import public_key_pem
from openlfr.cli import app as cli
from openlfr.evidence import seal
from openlfr.evidence.verify import verify_file, verify_pack
from openlfr.users.roles import Role

OPERATOR, OFFICER, AUDITOR = Role.OPERATOR, Role.AUTHORISING_OFFICER, Role.AUDITOR


@pytest.fixture
def photos(shared_data: Path) -> Path:
    return shared_data / EXAMPLES


@pytest.fixture
def live(api: Api, photos: Path) -> Scenario:
    return live_scenario(api, [photos / "obama_01.jpg"], two_person=False)


def _decided_alert(api: Api, s: Scenario, photos: Path) -> int:
    heard: list[int] = []
    api.plane.recorder.add_listener(lambda a: heard.append(a.id))
    crop = probe_crop(api.plane.services.pack, photos / "obama_02.jpg")
    api.launcher.sessions[s.deployment_id].on_alert(
        alert_input(s.deployment_id, s.camera, s.subject_id, crop, score=0.6612)
    )
    decision = {"decision": "engaged", "outcome": "advised", "notes": "spoken to, released"}
    r = api.call("POST", f"/alerts/{heard[-1]}/adjudication", OPERATOR, json=decision)
    assert r.status_code in (200, 201), r.text
    return heard[-1]


@pytest.fixture
def sealed(api: Api, live: Scenario, photos: Path) -> bytes:
    alert_id = _decided_alert(api, live, photos)
    assert api.call("GET", f"/alerts/{alert_id}/evidence-pack", AUDITOR).status_code == 403
    r = api.call("GET", f"/alerts/{alert_id}/evidence-pack", OFFICER)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    return bytes(r.content)


def _public_key(api: Api) -> object:
    return api.plane.checkpoints.key.public_key


def test_a_pack_verifies_offline_with_everything_a_court_needs(api: Api, sealed: bytes) -> None:
    report = verify_pack(sealed, api.plane.checkpoints.key.public_key)
    assert report.ok, report.problems
    names = set(zipfile.ZipFile(io.BytesIO(sealed)).namelist())
    assert {"manifest.json", "images/live-crop.png"} <= names
    assert any(n.startswith("images/reference-1.") for n in names)
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(sealed)).read("manifest.json"))
    assert manifest["alert"]["score"] == pytest.approx(0.6612)
    assert manifest["threshold"]["calibration_id"] is not None
    assert len(manifest["threshold"]["calibration_sha256"]) == 64
    assert manifest["model"]["model_id"]
    [decision] = report.decisions
    assert decision["decision"] == "engaged" and decision["by"] == "token:operator-svc"
    assert report.checkpoint_seq is not None and report.events_checked >= 4
    with api.plane.database.session() as db:
        assert audit.count_events(db, action=str(Action.EVIDENCE_EXPORTED)) == 1
    # With no key given, the pack's own key is used and its fingerprint named.
    alone = verify_pack(sealed)
    assert alone.ok and any(api.plane.checkpoints.key.key_id in n for n in alone.notes)


def test_a_pack_fails_with_another_key(sealed: bytes) -> None:
    other = Ed25519PrivateKey.generate().public_key()
    report = verify_pack(sealed, other)
    assert not report.ok and any("seal" in p for p in report.problems)


def _offsets(data: bytes) -> dict[str, int]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    crop = archive.getinfo("images/live-crop.png")
    manifest = archive.getinfo("manifest.json")
    ref = next(i for i in archive.infolist() if i.filename.startswith("images/reference-"))

    def body(info: zipfile.ZipInfo) -> int:
        return info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)

    eocd = data.rfind(b"PK\x05\x06")
    return {
        "first byte": 0,
        "manifest data": body(manifest) + manifest.compress_size // 2,
        "live crop pixels": body(crop) + crop.compress_size // 2,
        "live crop last byte": body(crop) + crop.compress_size - 1,
        "reference photo": body(ref) + ref.compress_size // 3,
        "local header date": crop.header_offset + 10,
        "central directory": archive.start_dir + 20,
        "comment length": eocd + 20,
        "signature middle": len(data) - 30,
        "signature last byte": len(data) - 1,
        "seal key id": eocd + 22 + len(seal.PREFIX) + 3,
    }


OFFSETS = [
    "first byte",
    "manifest data",
    "live crop pixels",
    "live crop last byte",
    "reference photo",
    "local header date",
    "central directory",
    "comment length",
    "signature middle",
    "signature last byte",
    "seal key id",
]


@pytest.mark.parametrize("where", OFFSETS)
def test_verify_fails_on_any_altered_byte(api: Api, sealed: bytes, where: str) -> None:
    at = _offsets(sealed)[where]
    for flip in (0x01, 0x80):
        altered = bytearray(sealed)
        altered[at] ^= flip
        report = verify_pack(bytes(altered), api.plane.checkpoints.key.public_key)
        assert not report.ok, f"{where} (byte {at} ^ {flip:#x}) went unnoticed"


def test_verify_fails_and_never_crashes_on_bytes_across_the_whole_pack(
    api: Api, sealed: bytes
) -> None:
    key = api.plane.checkpoints.key.public_key
    stride = max(1, len(sealed) // 1500)
    unnoticed = []
    for at in range(0, len(sealed), stride):
        altered = bytearray(sealed)
        altered[at] ^= 0x20
        if verify_pack(bytes(altered), key).ok:
            unnoticed.append(at)
    assert unnoticed == []


def _resealed(api: Api, data: bytes, edit: Callable[[dict[str, object]], None]) -> bytes:
    """The pack with its manifest edited, sealed again with the real key: only the chain and
    the claims can then catch the edit."""
    source = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(source.read("manifest.json"))
    edit(manifest)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename == "manifest.json":
                body = json.dumps(manifest).encode()
            target.writestr(info, body)
    return seal.seal(out.getvalue(), api.plane.checkpoints.key)


def test_verify_fails_on_events_cut_from_the_chain(api: Api, sealed: bytes) -> None:
    key = api.plane.checkpoints.key.public_key
    assert verify_pack(_resealed(api, sealed, lambda m: None), key).ok  # the re-sealing is sound

    def cut_middle(m: dict[str, object]) -> None:
        proof = m["chain_proof"]
        assert isinstance(proof, list) and len(proof) > 2
        del proof[len(proof) // 2]

    report = verify_pack(_resealed(api, sealed, cut_middle), key)
    assert not report.ok and any("does not follow" in p for p in report.problems)

    def cut_decision(m: dict[str, object]) -> None:
        decisions = m["decisions"]
        assert isinstance(decisions, list)
        seq = decisions[0]["seq"]
        proof = m["chain_proof"]
        assert isinstance(proof, list)
        m["chain_proof"] = [e for e in proof if e["seq"] < seq]
        m["concerned_seqs"] = [s for s in m["concerned_seqs"] if s < seq]  # type: ignore[attr-defined]

    report = verify_pack(_resealed(api, sealed, cut_decision), key)
    assert not report.ok
    assert any("checkpoint" in p or "not in the chain" in p for p in report.problems)

    def other_crop_hash(m: dict[str, object]) -> None:
        files = m["files"]
        assert isinstance(files, dict)
        files["images/live-crop.png"] = "0" * 64

    report = verify_pack(_resealed(api, sealed, other_crop_hash), key)
    assert not report.ok and any("live-crop" in p for p in report.problems)


def test_the_cli_verifies_with_no_database(
    api: Api, sealed: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fresh home with no database and no keys: verification needs only the public key.
    monkeypatch.setenv("OPENLFR_HOME", str(tmp_path / "elsewhere"))
    monkeypatch.delenv("OPENLFR_CONFIG", raising=False)
    good, bad = tmp_path / "pack.zip", tmp_path / "altered.zip"
    good.write_bytes(sealed)
    altered = bytearray(sealed)
    altered[len(sealed) // 2] ^= 0x10
    bad.write_bytes(bytes(altered))
    pem = tmp_path / "audit.pub"
    pem.write_text(public_key_pem(api.plane.checkpoints.key.public_key))
    runner = CliRunner()
    ok = runner.invoke(cli, ["evidence", "verify", str(good), "--public-key", str(pem)])
    assert ok.exit_code == 0, ok.output
    assert "verified" in ok.output and "decision" in ok.output
    failed = runner.invoke(cli, ["evidence", "verify", str(bad), "--public-key", str(pem)])
    assert failed.exit_code == 1 and "NOT verified" in failed.output
    assert not (tmp_path / "elsewhere" / "openlfr.db").exists()


def test_a_use_log_carries_its_chain_proof(api: Api, live: Scenario, photos: Path) -> None:
    _decided_alert(api, live, photos)
    dep = live.deployment_id
    r = api.call("GET", f"/deployments/{dep}/use-log", AUDITOR)
    assert r.status_code == 200, r.text
    document = r.json()
    assert document["uses"][0]["started_by"] == "token:operator-svc"
    assert {e["action"] for e in document["events"]} >= {"deployment.started", "alert.created"}
    assert all(e["deployment_id"] == dep for e in document["events"])
    key = api.plane.checkpoints.key.public_key
    assert verify_file(r.content, key).ok
    forged = json.loads(r.content)
    forged["events"][0]["actor"] = "someone else"
    assert not verify_file(json.dumps(forged).encode(), key).ok
    csv = api.call("GET", f"/deployments/{dep}/use-log", AUDITOR, params={"format": "csv"})
    lines = csv.text.strip().splitlines()
    assert lines[0].startswith("seq,at,actor,action")
    # The header, every event of the JSON log, and the JSON export's own event.
    assert len(lines) == len(document["events"]) + 2 and "use_log_exported" in lines[-1]
    assert api.call("GET", f"/deployments/{dep}/use-log", OPERATOR).status_code == 403


def test_a_two_person_episode_pack_carries_every_look_and_both_people(
    api: Api, photos: Path
) -> None:
    s = live_scenario(api, [photos / "obama_01.jpg"], reference="WL-0002")
    session = api.launcher.sessions[s.deployment_id]
    heard: list[int] = []
    api.plane.recorder.add_listener(lambda a: heard.append(a.id))
    t0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    for n, (name, score) in enumerate([("obama_02.jpg", 0.66), ("obama_03.jpg", 0.71)]):
        crop = probe_crop(api.plane.services.pack, photos / name)
        at = t0 + timedelta(seconds=20 * n)
        session.on_alert(
            alert_input(
                s.deployment_id,
                s.camera,
                s.subject_id,
                crop,
                score=score,
                captured_at=at,
                track_id=str(n),
            )
        )
    first_look, second_look = heard[-2:]
    [ep] = api.call("GET", "/episodes", OPERATOR, params={"pending": True}).json()["items"]
    assert ep["looks"] == 2
    second = {
        "Authorization": "Bearer "
        + add_token(api.plane, add_user(api.plane, "operator-2-svc", OPERATOR, password=None))
    }
    url = f"/api/v1/episodes/{ep['id']}/decision"
    first = api.headers(OPERATOR)
    assert api.client.post(url, headers=first, json={"decision": "engaged"}).status_code == 201
    assert api.client.post(url, headers=second, json={"decision": "engaged"}).status_code == 201
    done = api.client.post(url, headers=first, json={"decision": "engaged", "outcome": "advised"})
    assert done.status_code == 201, done.text

    r = api.call("GET", f"/alerts/{second_look}/evidence-pack", OFFICER)
    assert r.status_code == 200, r.text
    key = api.plane.checkpoints.key.public_key
    report = verify_pack(r.content, key)
    assert report.ok, report.problems
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(r.content)).read("manifest.json"))
    assert [look["alert_id"] for look in manifest["looks"]] == [first_look, second_look]
    assert f"images/look-{first_look}.png" in manifest["files"]
    check = manifest["episode"]["verification"]
    assert check["state"] == "confirmed"
    assert check["proposed_by"] == "token:operator-svc"
    assert check["checked_by"] == "token:operator-2-svc" and check["checked_decision"] == "engaged"
    actions = [d["action"] for d in report.decisions]
    assert actions[:2] == ["episode.engagement_proposed", "episode.engagement_confirmed"]
    assert "episode.decided" in actions and "alert.adjudicated" in actions
    assert {d["by"] for d in report.decisions} == {"token:operator-svc", "token:operator-2-svc"}

    def other_look(m: dict[str, object]) -> None:
        files = m["files"]
        assert isinstance(files, dict)
        files[f"images/look-{first_look}.png"] = "0" * 64

    forged = verify_pack(_resealed(api, r.content, other_look), key)
    assert not forged.ok and any(f"look-{first_look}" in p for p in forged.problems)

    def confirmation_cut(m: dict[str, object]) -> None:
        decisions = m["decisions"]
        assert isinstance(decisions, list)
        seq = decisions[1]["seq"]
        m["chain_proof"] = [e for e in m["chain_proof"] if e["seq"] != seq]  # type: ignore[attr-defined]

    cut = verify_pack(_resealed(api, r.content, confirmation_cut), key)
    assert not cut.ok
