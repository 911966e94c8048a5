"""The composition root: builds every service from one Settings object, lazily."""

from __future__ import annotations

from functools import cached_property

from openlfr.config import Settings
from openlfr.privacy.crypto import BlobCipher, load_or_create_key
from openlfr.storage.blobs import BlobStore
from openlfr.storage.engine import Database
from openlfr.vision.pack import ModelPack, load_pack
from openlfr.watchlist.enrolment import QualityGate
from openlfr.watchlist_records.enrolment import GateTemplateSource, TemplateSource
from openlfr.web.preview import PreviewHub


class Services:
    """Everything a command or server needs, wired in one place.

    Heavy parts (the models) load on first use, so commands that only read a
    store start instantly.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def pack(self) -> ModelPack:
        s = self.settings
        return load_pack(s.models, s.detector, s.runtime)

    @cached_property
    def cipher(self) -> BlobCipher:
        return BlobCipher(load_or_create_key(self.settings.resolved_key_file))

    @cached_property
    def quality_gate(self) -> QualityGate:
        return QualityGate(self.pack, self.settings.enrolment)

    @cached_property
    def template_source(self) -> TemplateSource:
        """The quality gate over the configured models, as the watchlist services take it."""
        return GateTemplateSource(
            model_id=self.pack.model_id,
            dim=self.pack.recogniser.dim,
            template_for=self.quality_gate.template_for,
        )

    @cached_property
    def database(self) -> Database:
        s = self.settings
        return Database(s.database_url, busy_timeout_s=s.database.busy_timeout_s)

    @cached_property
    def blobs(self) -> BlobStore:
        return BlobStore(self.settings.blob_dir, self.cipher)

    @cached_property
    def preview(self) -> PreviewHub:
        """Obscured live pictures for the console's camera view (memory only): the live
        pipelines write to it, the console reads it."""
        return PreviewHub()


def build_services(settings: Settings | None = None) -> Services:
    """Services for ``settings`` (default: environment and config file)."""
    return Services(settings or Settings())
