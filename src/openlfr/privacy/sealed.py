"""Where sealed data lives: every blob kind and every sealed database column, in one list.

Key rotation re-seals exactly what is listed here, so a new sealed column must
be added to :data:`SEALED_FIELDS` (its table, key column, sealed column and the
associated data it is sealed with), or a rotation would leave it unreadable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from openlfr.storage.blobs import inline_purpose


@dataclass(frozen=True, slots=True)
class SealedBlobs:
    """Rows of ``table`` whose ``column`` names a sealed blob of ``kind``."""

    table: str
    column: str
    kind: str


@dataclass(frozen=True, slots=True)
class SealedField:
    """``column`` of ``table`` holds a value sealed with ``purpose(row)`` as associated data.

    ``row`` maps ``key`` and every name in ``reads`` to the row's values.
    """

    table: str
    key: str
    column: str
    purpose: Callable[[Mapping[str, Any]], str]
    reads: tuple[str, ...] = ()


def _template(row: Mapping[str, Any]) -> str:
    from openlfr.watchlist_records.service import template_purpose

    return inline_purpose(template_purpose(str(row["blob_id"])))


def _webhook_secret(row: Mapping[str, Any]) -> str:
    return inline_purpose(f"webhook-secret:{row['id']}")


def _camera_source(row: Mapping[str, Any]) -> str:
    # As deployments/camera_sources.py seals it: bound to the camera's deployment and name.
    return inline_purpose(f"camera-source:{row['deployment_id']}:{row['name']}")


SEALED_BLOBS: tuple[SealedBlobs, ...] = (
    SealedBlobs("reference_images", "blob_id", "reference-image"),
    SealedBlobs("alerts", "crop_blob_id", "alert-crop"),
    SealedBlobs("alerts", "scene_blob_id", "alert-scene"),
)
SEALED_FIELDS: tuple[SealedField, ...] = (
    SealedField("reference_images", "id", "template", _template, reads=("blob_id",)),
    SealedField("webhook_subscriptions", "id", "secret", _webhook_secret),
    SealedField(
        "cameras", "id", "source_sealed", _camera_source, reads=("deployment_id", "name")
    ),
)
# The CLI's local watchlist files: sealed with "watchlist:<name>".
LOCAL_WATCHLIST_PURPOSE = "watchlist:{name}"
