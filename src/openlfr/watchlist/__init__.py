"""Watchlists: enrolment behind a quality gate, storage, and the 1:N search gallery."""

from openlfr.watchlist.enrolment import (
    EnrolmentReport,
    QualityGate,
    WatchlistModelMismatch,
    enrol,
)
from openlfr.watchlist.gallery import Gallery, LiveGallery
from openlfr.watchlist.models import Subject, Template, Watchlist
from openlfr.watchlist.rejections import (
    EnrolmentRejected,
    ImageRejected,
    Rejection,
    RejectionReason,
)
from openlfr.watchlist.store import LocalWatchlistStore, WatchlistNotFound, WatchlistStore

__all__ = [
    "EnrolmentRejected",
    "EnrolmentReport",
    "Gallery",
    "ImageRejected",
    "LiveGallery",
    "LocalWatchlistStore",
    "QualityGate",
    "Rejection",
    "RejectionReason",
    "Subject",
    "Template",
    "Watchlist",
    "WatchlistModelMismatch",
    "WatchlistNotFound",
    "WatchlistStore",
    "enrol",
]
