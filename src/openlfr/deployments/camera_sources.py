"""Camera stream addresses: credentials sealed at rest, masked in every answer, opened to run."""

from __future__ import annotations

from sqlalchemy import select

from openlfr.deployments.models import Camera, CameraCreate
from openlfr.storage.blobs import BlobStore
from openlfr.storage.context import Ctx
from openlfr.stream.sources.spec import redact_url


def masked(source: str) -> str:
    """``source`` with user, password and secret-looking query values replaced by ``***``."""
    return redact_url(source) if "://" in source else source


def _purpose(deployment_id: int, name: str) -> str:
    # Bound to its camera: a sealed address copied to another row fails to open.
    return f"camera-source:{deployment_id}:{name}"


def new_camera(ctx: Ctx, deployment_id: int, data: CameraCreate) -> Camera:
    """A camera row whose ``source`` is the masked address; the full one is sealed if it
    differs (it held credentials), so the database never holds them in the clear."""
    shown = masked(data.source)
    sealed = (
        None
        if shown == data.source
        else ctx.blobs.seal_inline(data.source.encode(), _purpose(deployment_id, data.name))
    )
    return Camera(
        deployment_id=deployment_id,
        name=data.name,
        source=shown,
        source_sealed=sealed,
        description=data.description,
    )


def full_source(blobs: BlobStore, camera: Camera) -> str:
    """The address to open, credentials included: only for the code that runs the camera."""
    if camera.source_sealed is None:
        return camera.source
    return blobs.open_inline(
        camera.source_sealed, _purpose(camera.deployment_id, camera.name)
    ).decode()


def seal_plain_sources(ctx: Ctx) -> int:
    """Seal addresses written in the clear before sealing existed; returns how many."""
    sealed = 0
    for camera in ctx.db.execute(select(Camera).where(Camera.source_sealed.is_(None))).scalars():
        shown = masked(camera.source)
        if shown != camera.source:
            camera.source_sealed = ctx.blobs.seal_inline(
                camera.source.encode(), _purpose(camera.deployment_id, camera.name)
            )
            camera.source = shown
            sealed += 1
    ctx.db.flush()
    return sealed
