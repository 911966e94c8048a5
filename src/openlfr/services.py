"""The composition root: builds every service from one Settings object, lazily."""

from __future__ import annotations

from functools import cached_property

from openlfr.config import Settings
from openlfr.privacy.crypto import BlobCipher, load_or_create_key
from openlfr.vision.pack import ModelPack, load_pack
from openlfr.watchlist.enrolment import QualityGate
from openlfr.watchlist.store import LocalWatchlistStore, WatchlistStore


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
    def watchlists(self) -> WatchlistStore:
        return LocalWatchlistStore(self.settings.watchlist_dir, self.cipher)

    @cached_property
    def quality_gate(self) -> QualityGate:
        return QualityGate(self.pack, self.settings.enrolment)


def build_services(settings: Settings | None = None) -> Services:
    """Services for ``settings`` (default: environment and config file)."""
    return Services(settings or Settings())
