"""Webhook signatures: what a receiver checks, and what it must refuse."""

from __future__ import annotations

import pytest

from openlfr.notify.webhook import sign, verify_signature

SECRET = b"s3cret-key-for-tests-only"
BODY = b'{"type":"alert","id":1}'


def test_a_fresh_signature_verifies() -> None:
    header = sign(SECRET, BODY, 1_700_000_000)
    assert header.startswith("t=1700000000,v1=")
    assert verify_signature(SECRET, header, BODY, now=1_700_000_030)


@pytest.mark.parametrize(
    "secret, body, now, header_edit",
    [
        (b"another-secret", BODY, 1_700_000_000, None),
        (SECRET, BODY + b" ", 1_700_000_000, None),
        (SECRET, BODY, 1_700_000_301, None),  # replayed after the tolerance
        (SECRET, BODY, 1_700_000_000, ("t=1700000000", "t=1700000001")),
        (SECRET, BODY, 1_700_000_000, ("v1=", "v0=")),
        (SECRET, BODY, 1_700_000_000, ("t=1700000000,", "")),
    ],
)
def test_tampering_is_refused(
    secret: bytes, body: bytes, now: int, header_edit: tuple[str, str] | None
) -> None:
    header = sign(SECRET, BODY, 1_700_000_000)
    if header_edit:
        header = header.replace(*header_edit)
    assert not verify_signature(secret, header, body, now=now)
