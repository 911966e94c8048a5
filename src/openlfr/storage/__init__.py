"""Storage: SQL engine and sessions, ORM base, encrypted blob store, schema migrations."""

from openlfr.storage.base import Base, UTCDateTime
from openlfr.storage.blobs import BlobNotFound, BlobStore
from openlfr.storage.clock import Clock, SystemClock
from openlfr.storage.context import Actor, Ctx
from openlfr.storage.engine import Database
from openlfr.storage.errors import Conflict, DomainError, InvalidInput, NotFound

__all__ = [
    "Actor",
    "Base",
    "BlobNotFound",
    "BlobStore",
    "Clock",
    "Conflict",
    "Ctx",
    "Database",
    "DomainError",
    "InvalidInput",
    "NotFound",
    "SystemClock",
    "UTCDateTime",
]
