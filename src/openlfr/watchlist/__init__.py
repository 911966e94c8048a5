"""Watchlists' recognition core: the enrolment quality gate and the 1:N search gallery.

The watchlists themselves live in the database (``openlfr.watchlist_records``), for
the server and the command line alike.
"""

from openlfr.watchlist.enrolment import QualityGate
from openlfr.watchlist.gallery import Gallery, LiveGallery
from openlfr.watchlist.models import Template
from openlfr.watchlist.rejections import (
    ImageRejected,
    Rejection,
    RejectionReason,
)

__all__ = [
    "Gallery",
    "ImageRejected",
    "LiveGallery",
    "QualityGate",
    "Rejection",
    "RejectionReason",
    "Template",
]
