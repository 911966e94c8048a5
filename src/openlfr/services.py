"""The composition root: builds every service from one Settings object, lazily."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from openlfr.audit.anchoring import load_or_init_signing_key
from openlfr.audit.checkpoints import SigningKey
from openlfr.config import Settings
from openlfr.privacy.crypto import BlobCipher, DataKeyError
from openlfr.privacy.keys import open_data_cipher
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
        """The data key's cipher, after checking the key is this home's (see privacy/keys.py):
        a missing or wrong key for sealed data raises :class:`DataKeyError`, never a new key."""
        s = self.settings
        with self._key_check_session() as db:
            return open_data_cipher(s.resolved_key_file, s.blob_dir, s.watchlist_dir, db)

    @contextmanager
    def _key_check_session(self) -> Iterator[Session | None]:
        # An SQLite file that does not exist yet holds nothing: do not create it just to look.
        url = make_url(self.settings.database_url)
        if url.get_backend_name() == "sqlite" and (
            not url.database or not Path(url.database).exists()
        ):
            yield None
            return
        try:
            with self.database.session() as db:
                yield db
        except OperationalError as exc:
            raise DataKeyError(
                f"cannot reach the database to check the data key: {str(exc).splitlines()[0]}"
            ) from None

    @cached_property
    def signing_key(self) -> SigningKey:
        """The audit checkpoints' Ed25519 key (a file beside the data key, never the database)."""
        return load_or_init_signing_key(self.settings)

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
