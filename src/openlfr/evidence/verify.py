"""Checking an evidence pack offline: no database, only the checkpoint key's public half.

What holds when :func:`verify_pack` reports ``ok``:

1. the seal: the key sealed exactly these bytes (any altered byte fails);
2. the files: the zip holds the manifest and exactly the files it lists, each with
   the SHA-256 it states;
3. the chain: the proof's events link hash by hash up to a checkpoint signed by the
   key (an event cut out, altered or reordered fails);
4. the claims: every event the manifest cites is in that proof; the alert's
   creation event names the live crop's hash, score and subject, and each other
   look's creation event its crop's hash; each decision (the alert's, or its
   episode's: proposal, confirmation or dispute, final decision) is the event it
   cites, by the person it names; each reference photo's hash was recorded when
   the subject was enrolled.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
import zlib
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from openlfr.audit.actions import Action
from openlfr.audit.chain import StoredEvent
from openlfr.audit.checkpoints import Checkpoint, CheckpointError, key_id_of, verify_chain_proof
from openlfr.evidence import seal
from openlfr.evidence.events import EventFormatError, stored_event
from openlfr.evidence.pack import FORMAT
from openlfr.evidence.uselog import FORMAT as USE_LOG_FORMAT

# What reading a damaged zip can raise: a bad CRC or header, a broken deflate stream, a
# method or an encryption flag that a flipped bit made up.
_READ_ERRORS = (
    zipfile.BadZipFile,
    KeyError,
    ValueError,
    OSError,
    EOFError,
    zlib.error,
    NotImplementedError,
    RuntimeError,
)


@dataclass(slots=True)
class PackReport:
    """The outcome: ``problems`` empty means every check above held."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    key_id: str | None = None
    alert: dict[str, object] = field(default_factory=dict)
    episode: dict[str, object] = field(default_factory=dict)
    decisions: list[dict[str, object]] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    checkpoint_seq: int | None = None
    checkpoint_at: str | None = None
    events_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_pack(data: bytes, public_key: Ed25519PublicKey | None = None) -> PackReport:
    """Check a pack; never raises for what it finds (see the module docstring)."""
    report = PackReport()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        manifest = json.loads(archive.read("manifest.json"))
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} manifest")
    except _READ_ERRORS as exc:
        report.problems.append(f"the pack cannot be read: {exc}")
        return report
    key = _key(manifest, public_key, report)
    if key is None:
        return report
    report.key_id = key_id_of(key)
    try:
        seal.check(data, key)
    except seal.SealError as exc:
        report.problems.append(f"seal: {exc}")
    _files(archive, manifest, report)
    events = _chain(manifest, key, report)
    _claims(manifest, events, report)
    return report


def _key(
    manifest: dict[str, object], given: Ed25519PublicKey | None, report: PackReport
) -> Ed25519PublicKey | None:
    embedded = None
    try:
        loaded = serialization.load_pem_public_key(str(manifest.get("public_key_pem")).encode())
        embedded = loaded if isinstance(loaded, Ed25519PublicKey) else None
    except (ValueError, TypeError):
        pass
    if given is not None:
        if embedded is not None and key_id_of(embedded) != key_id_of(given):
            report.notes.append(
                f"the pack names key {key_id_of(embedded)}; it was checked with the given key "
                f"{key_id_of(given)}"
            )
        return given
    if embedded is None:
        report.problems.append("no public key given and none usable in the pack")
        return None
    report.notes.append(
        f"checked with the key the pack carries (fingerprint {key_id_of(embedded)}): compare it "
        "with the fingerprint the force publishes, or pass --public-key"
    )
    return embedded


def _files(archive: zipfile.ZipFile, manifest: dict[str, object], report: PackReport) -> None:
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        report.problems.append("the manifest lists no files")
        return
    names = set(archive.namelist())
    extra = sorted(names - set(listed) - {"manifest.json"})
    if extra:
        report.problems.append(f"files the manifest does not list: {', '.join(extra)}")
    for name, digest in sorted(listed.items()):
        try:
            actual = hashlib.sha256(archive.read(name)).hexdigest()
        except _READ_ERRORS as exc:
            report.problems.append(f"{name}: cannot be read ({exc})")
            continue
        if actual != digest:
            report.problems.append(f"{name}: SHA-256 {actual[:16]}… is not the {str(digest)[:16]}…")
        report.files[name] = actual


def _chain(
    manifest: dict[str, object], key: Ed25519PublicKey, report: PackReport
) -> dict[int, StoredEvent]:
    try:
        cp = Checkpoint.from_dict(manifest.get("checkpoint"))
        raw = manifest.get("chain_proof")
        if not isinstance(raw, list):
            raise EventFormatError("the manifest holds no chain proof")
        events = [stored_event(e) for e in raw]
    except (CheckpointError, EventFormatError) as exc:
        report.problems.append(f"chain proof: {exc}")
        return {}
    report.checkpoint_seq, report.checkpoint_at = cp.seq, cp.to_dict()["at"]  # type: ignore[assignment]
    problem = verify_chain_proof(events, cp, key)
    if problem is not None:
        report.problems.append(f"chain proof: {problem}")
        return {}
    report.events_checked = len(events)
    return {e.content.seq: e for e in events}


def _details(event: StoredEvent) -> dict[str, object]:
    value = json.loads(event.content.details)
    return value if isinstance(value, dict) else {}


def _claims(
    manifest: dict[str, object], events: dict[int, StoredEvent], report: PackReport
) -> None:
    alert = manifest.get("alert")
    report.alert = alert if isinstance(alert, dict) else {}
    decisions = manifest.get("decisions")
    report.decisions = (
        [d for d in decisions if isinstance(d, dict)] if isinstance(decisions, list) else []
    )
    if not events:
        return  # the chain failed already: nothing in it can back a claim
    cited = manifest.get("concerned_seqs")
    missing = [s for s in cited if s not in events] if isinstance(cited, list) else ["all"]
    if missing:
        report.problems.append(f"events cited but not in the chain proof: {missing}")
    alert_id = str(report.alert.get("id"))
    created = [
        e
        for e in events.values()
        if e.content.action == Action.ALERT_CREATED and e.content.entity_id == alert_id
    ]
    if not created:
        report.problems.append(f"the chain proof holds no creation event of alert {alert_id}")
    else:
        d = _details(created[0])
        crop = next((h for n, h in report.files.items() if n.startswith("images/live-crop")), None)
        if crop is None or d.get("probe_sha256") != crop:
            report.problems.append("the live crop is not the one the alert's creation recorded")
        if d.get("subject_reference") != report.alert.get("subject_reference"):
            report.problems.append("the subject is not the one the alert's creation recorded")
        if d.get("score") != round(float(str(report.alert.get("score"))), 6):
            report.problems.append("the score is not the one the alert's creation recorded")
    _looks(manifest, events, report, alert_id)
    episode = manifest.get("episode")
    report.episode = episode if isinstance(episode, dict) else {}
    # A decision is on the alert, one of its episode's looks, or that episode itself.
    looks = manifest.get("looks")
    entities = {("alert", alert_id)} | {
        ("alert", str(look.get("alert_id")))
        for look in (looks if isinstance(looks, list) else [])
        if isinstance(look, dict)
    }
    if report.episode:
        entities.add(("episode", str(report.episode.get("id"))))
    for decision in report.decisions:
        seq = decision.get("seq")
        event = events.get(seq) if isinstance(seq, int) else None
        if event is None or (event.content.entity_type, event.content.entity_id) not in entities:
            report.problems.append(f"decision {decision.get('seq')} is not in the chain proof")
        elif event.content.actor != decision.get("by") or event.content.action != decision.get(
            "action"
        ):
            report.problems.append(f"decision {decision.get('seq')} does not match its event")
    enrolled = {
        str(image.get("sha256"))
        for e in events.values()
        if e.content.entity_type == "subject"
        for image in _images(_details(e))
    }
    references = manifest.get("references")
    for ref in references if isinstance(references, list) else []:
        if isinstance(ref, dict) and ref.get("sha256") not in enrolled:
            report.problems.append(f"{ref.get('file')}: not a photo recorded at enrolment")
        elif isinstance(ref, dict) and report.files.get(str(ref.get("file"))) != ref.get("sha256"):
            report.problems.append(f"{ref.get('file')}: its hash is not the one enrolled")


def _looks(
    manifest: dict[str, object], events: dict[int, StoredEvent], report: PackReport, alert_id: str
) -> None:
    """Each other look's crop is the one its own alert's creation recorded."""
    looks = manifest.get("looks")
    for look in looks if isinstance(looks, list) else []:
        if not isinstance(look, dict) or str(look.get("alert_id")) == alert_id:
            continue
        created = next(
            (
                e
                for e in events.values()
                if e.content.action == Action.ALERT_CREATED
                and e.content.entity_id == str(look.get("alert_id"))
            ),
            None,
        )
        digest = report.files.get(str(look.get("file")))
        if created is None:
            report.problems.append(f"look {look.get('alert_id')}: no creation event in the proof")
        elif digest is None or _details(created).get("probe_sha256") != digest:
            report.problems.append(
                f"look {look.get('alert_id')}: its crop is not the one its creation recorded"
            )


def _images(details: dict[str, object]) -> list[dict[str, object]]:
    images = details.get("images")
    return [i for i in images if isinstance(i, dict)] if isinstance(images, list) else []


def verify_use_log(data: bytes, public_key: Ed25519PublicKey | None = None) -> PackReport:
    """Check a use log (JSON): its chain proof to the checkpoint, and that every event it
    lists is that event of the proof, byte for byte."""
    report = PackReport()
    try:
        document = json.loads(data)
        if not isinstance(document, dict) or document.get("format") != USE_LOG_FORMAT:
            raise ValueError(f"not a {USE_LOG_FORMAT} document")
    except (ValueError, UnicodeDecodeError) as exc:
        report.problems.append(f"the use log cannot be read: {exc}")
        return report
    key = _key(document, public_key, report)
    if key is None:
        return report
    report.key_id = key_id_of(key)
    events = _chain(document, key, report)
    listed = document.get("events")
    if not isinstance(listed, list):
        report.problems.append("the use log lists no events")
        return report
    proof = document.get("chain_proof")
    by_seq = (
        {e.get("seq"): e for e in proof if isinstance(e, dict)} if isinstance(proof, list) else {}
    )
    for entry in listed:
        seq = entry.get("seq") if isinstance(entry, dict) else None
        if events and (seq not in events or by_seq.get(seq) != entry):
            report.problems.append(f"event {seq} is not the event of that number in the chain")
    report.alert = {"deployment_id": document.get("deployment_id"), "events": len(listed)}
    return report


def verify_file(data: bytes, public_key: Ed25519PublicKey | None = None) -> PackReport:
    """A pack (zip) or a use log (JSON), told apart by their first bytes."""
    if data[:2] == b"PK":
        return verify_pack(data, public_key)
    return verify_use_log(data, public_key)
