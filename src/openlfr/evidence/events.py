"""Audit events as evidence packs and use logs carry them: every field the hash covers."""

from __future__ import annotations

from datetime import UTC, datetime

from openlfr.audit.chain import EventContent, StoredEvent

_AT = "%Y-%m-%dT%H:%M:%S.%fZ"


class EventFormatError(ValueError):
    """An event in a pack or log that cannot be read back."""


def event_json(event: StoredEvent) -> dict[str, object]:
    """The event with its details as the exact stored text (that is what was hashed)."""
    c = event.content
    return {
        "seq": c.seq,
        "at": c.at.astimezone(UTC).strftime(_AT),
        "actor": c.actor,
        "actor_user_id": c.actor_user_id,
        "action": c.action,
        "entity_type": c.entity_type,
        "entity_id": c.entity_id,
        "deployment_id": c.deployment_id,
        "details": c.details,
        "credential": c.credential,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def stored_event(data: object) -> StoredEvent:
    """An event read back from :func:`event_json`; :class:`EventFormatError` if malformed."""
    if not isinstance(data, dict):
        raise EventFormatError("an event must be a JSON object")
    try:
        content = EventContent(
            seq=_int(data["seq"]),
            at=datetime.strptime(str(data["at"]), _AT).replace(tzinfo=UTC),
            actor=str(data["actor"]),
            actor_user_id=_opt_int(data["actor_user_id"]),
            action=str(data["action"]),
            entity_type=str(data["entity_type"]),
            entity_id=None if data["entity_id"] is None else str(data["entity_id"]),
            deployment_id=_opt_int(data["deployment_id"]),
            details=str(data["details"]),
            credential=None if data["credential"] is None else str(data["credential"]),
        )
        return StoredEvent(
            content=content, prev_hash=str(data["prev_hash"]), hash=str(data["hash"])
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise EventFormatError(f"event cannot be read: {exc}") from None


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{value!r} is not an integer")
    return value


def _opt_int(value: object) -> int | None:
    return None if value is None else _int(value)
