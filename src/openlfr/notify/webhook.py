"""HMAC-signed webhook delivery, and the check a receiver runs on each request."""

from __future__ import annotations

import hashlib
import hmac
import time

import httpx

SIGNATURE_HEADER = "X-Openlfr-Signature"
DELIVERY_HEADER = "X-Openlfr-Delivery"
EVENT_HEADER = "X-Openlfr-Event"


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    """``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>``.

    The timestamp is signed too, so a captured request cannot be replayed later
    than the receiver's tolerance.
    """
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(
    secret: bytes, header: str, body: bytes, *, now: float | None = None, tolerance_s: float = 300
) -> bool:
    """True if ``header`` is a valid signature of ``body`` made within ``tolerance_s``."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)


class WebhookSender:
    """POSTs signed JSON; any 2xx is success, anything else (or no answer) is retried later."""

    def __init__(self, *, timeout_s: float, transport: httpx.BaseTransport | None = None) -> None:
        self._client = httpx.Client(timeout=timeout_s, transport=transport)

    def send(
        self, url: str, secret: bytes, body: bytes, *, delivery_id: int, event: str = "alert"
    ) -> str | None:
        """None on success, else a short description of the failure."""
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(secret, body, int(time.time())),
            DELIVERY_HEADER: str(delivery_id),
            EVENT_HEADER: event,
        }
        try:
            response = self._client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"

    def close(self) -> None:
        self._client.close()
