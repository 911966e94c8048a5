"""Security headers on every response of the app: API, console, documentation and errors.

The API and the console share an origin and a session cookie, and their responses carry
personal data (alerts, crops, reference photos, names): nothing may be framed, sniffed,
leak its address in a Referer, or stay in a cache. Only the static assets (the console's
scripts and styles, the documentation's copy of Swagger UI) may be cached.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Only this origin's own scripts and styles run (no inline code, no third-party site);
# images may be blob:/data: URLs the console makes from fetched crops.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; media-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


class SecurityHeaders:
    """ASGI middleware adding :data:`HEADERS` (those a response has not set itself) and
    ``Cache-Control: no-store`` to every response outside ``static_prefixes``."""

    def __init__(self, app: ASGIApp, *, static_prefixes: Sequence[str] = ()) -> None:
        self.app = app
        self.static_prefixes = tuple(static_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cacheable = scope["path"].startswith(self.static_prefixes)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {bytes(name).lower() for name, _ in headers}
                headers += [(k, v) for k, v in HEADERS if k not in present]
                if not cacheable and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
