"""A deployment's use log (EU AI Act Art. 12): its audit events and periods of use, as JSON
(with the chain proof to a signed checkpoint) or CSV, checkable offline like a pack."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

from sqlalchemy import func, select

from openlfr.audit.checkpoints import Checkpoint, SigningKey, chain_proof, public_key_pem
from openlfr.audit.models import AuditEvent
from openlfr.audit.record import deployment_record
from openlfr.evidence.events import event_json
from openlfr.evidence.pack import Checkpointer, covering_checkpoint
from openlfr.storage.context import Ctx
from openlfr.storage.errors import NotFound

FORMAT = "openlfr-use-log/1"
CSV_FIELDS = (
    "seq",
    "at",
    "actor",
    "action",
    "entity_type",
    "entity_id",
    "details",
    "credential",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True, slots=True)
class UseLog:
    document: dict[str, object]
    checkpoint: Checkpoint

    def json_bytes(self) -> bytes:
        return json.dumps(self.document, indent=2, sort_keys=True, ensure_ascii=False).encode()

    def csv_text(self) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        events = self.document["events"]
        assert isinstance(events, list)
        for event in events:
            writer.writerow(event)
        return out.getvalue()


def build(
    ctx: Ctx,
    deployment_id: int,
    *,
    key: SigningKey,
    checkpoint_file: Path,
    take_checkpoint: Checkpointer,
) -> UseLog:
    """Every audit event of the deployment, its periods of use, and the proof to a checkpoint."""
    seqs = ctx.db.execute(
        select(func.min(AuditEvent.seq), func.max(AuditEvent.seq)).where(
            AuditEvent.deployment_id == deployment_id
        )
    ).one()
    if seqs[0] is None:
        raise NotFound(f"the audit log holds nothing for deployment {deployment_id}")
    first, last = int(seqs[0]), int(seqs[1])
    cp = covering_checkpoint(checkpoint_file, key, ctx, last)
    if cp is None:
        cp = take_checkpoint(f"use log of deployment {deployment_id}")
    proof = chain_proof(ctx.db, first, cp.seq)
    mine = [event_json(e) for e in proof if e.content.deployment_id == deployment_id]
    record = deployment_record(ctx.db, deployment_id)
    document: dict[str, object] = {
        "format": FORMAT,
        "created_at": ctx.now.astimezone(UTC).isoformat(),
        "created_by": ctx.actor.label,
        "deployment_id": deployment_id,
        "uses": [u.model_dump(mode="json") for u in record.uses],
        "matches": [m.model_dump(mode="json") for m in record.matches],
        "events": mine,
        "chain_proof": [event_json(e) for e in proof],
        "checkpoint": cp.to_dict(),
        "public_key_pem": public_key_pem(key.public_key),
        "key_id": key.key_id,
    }
    return UseLog(document, cp)
