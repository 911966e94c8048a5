"""Time-based one-time passwords (RFC 6238, pyotp): secrets sealed at rest, codes used once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno

from openlfr.storage.blobs import BlobStore
from openlfr.users.models import User

ISSUER = "openlfr"
STEP_S = 30
# One step either side: a phone clock a little off still works.
_WINDOW = 1


def _purpose(user: User) -> str:
    return f"totp:{user.id}"


@dataclass(frozen=True, slots=True)
class Enrolment:
    secret: str
    uri: str
    qr_svg_data_uri: str


def new_secret(blobs: BlobStore, user: User) -> Enrolment:
    """Give ``user`` a new, not yet confirmed secret (sealed) and what to show once."""
    secret = pyotp.random_base32()
    user.totp_sealed = blobs.seal_inline(secret.encode(), _purpose(user))
    user.totp_confirmed_at = None
    user.totp_last_step = None
    uri = pyotp.TOTP(secret, interval=STEP_S).provisioning_uri(
        name=user.username, issuer_name=ISSUER
    )
    return Enrolment(secret, uri, segno.make(uri, error="m").svg_data_uri(scale=4))


def _secret(blobs: BlobStore, user: User) -> str | None:
    if user.totp_sealed is None:
        return None
    return blobs.open_inline(user.totp_sealed, _purpose(user)).decode()


def check_code(blobs: BlobStore, user: User, code: str, *, now: datetime) -> bool:
    """True for a right code not used before; records its time step so it cannot be replayed."""
    secret = _secret(blobs, user)
    code = code.strip().replace(" ", "")
    if secret is None or not code.isdigit() or len(code) != 6:
        return False
    totp = pyotp.TOTP(secret, interval=STEP_S)
    step = totp.timecode(now)
    for candidate in range(step - _WINDOW, step + _WINDOW + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(candidate), code):
            if user.totp_last_step is not None and candidate <= user.totp_last_step:
                return False
            user.totp_last_step = candidate
            return True
    return False


def code_now(secret: str, *, now: datetime) -> str:
    """The current code for ``secret`` (tests, and the demo's ``--totp-code``)."""
    return pyotp.TOTP(secret, interval=STEP_S).at(now)


def clear(user: User) -> None:
    user.totp_sealed = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
