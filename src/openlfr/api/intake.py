"""What a request may bring, checked before the app parses or authenticates anything: a body
within its route's size limit, and no NUL character in its path, query, headers or text body.

One ASGI middleware for the whole app (API, console, docs). A body larger than its route
allows is refused with 413 as soon as its ``Content-Length`` says so, or as soon as the
chunks read so far pass the limit: nothing larger is ever held in memory. Routes that take
images declare it with :func:`upload` (a larger, separately configured limit); every other
route takes a small JSON body.

NUL characters are refused (422) everywhere because PostgreSQL cannot store them and no
name, reason or note ever needs one. A route that must account for such a refusal itself
(sign-in audits every failed attempt) declares :func:`checks_text_itself`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openlfr.api.errors import FieldError, error_response
from openlfr.config.server import HttpConfig

F = TypeVar("F", bound=Callable[..., Any])
_UPLOAD = "_openlfr_upload"
_OWN_TEXT = "_openlfr_checks_text_itself"
NUL_MESSAGE = "NUL characters are not accepted"


def upload(endpoint: F) -> F:
    """Mark a route whose body carries images: it gets ``http.max_upload_bytes``."""
    setattr(endpoint, _UPLOAD, True)
    return endpoint


def checks_text_itself(endpoint: F) -> F:
    """Mark a route that refuses NUL characters in its body itself (and audits it)."""
    setattr(endpoint, _OWN_TEXT, True)
    return endpoint


@dataclass(frozen=True, slots=True)
class RouteRule:
    """What one operation (a method at a path) accepts."""

    method: str
    path: re.Pattern[str]
    upload: bool
    checks_text_itself: bool


def route_rules(operations: Iterable[tuple[str, str, Callable[..., Any]]]) -> list[RouteRule]:
    """The rules for ``(method, full path, endpoint)`` operations, from their marks."""
    return [
        RouteRule(
            method=method,
            path=compile_path(path)[0],
            upload=getattr(endpoint, _UPLOAD, False),
            checks_text_itself=getattr(endpoint, _OWN_TEXT, False),
        )
        for method, path, endpoint in operations
    ]


def _nul_in(value: Any, where: str) -> str | None:
    """Where in a decoded JSON value the first NUL character is, or None."""
    if isinstance(value, str):
        return where if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = where if "\x00" in key else _nul_in(item, f"{where}.{key}")
            if found:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            if found := _nul_in(item, f"{where}.{i}"):
                return found
    return None


def _nul_in_query(raw: bytes, where: str) -> str | None:
    if b"\x00" not in raw and b"%00" not in raw:
        return None  # the common case, without decoding anything
    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return f"{where}.{name.replace(chr(0), '')}"
    return None


def _nul_in_body(body: bytes, content_type: str) -> str | None:
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        if b"\\u0000" not in body:  # JSON can only carry a NUL as this escape
            return None
        try:
            return _nul_in(json.loads(body), "body")
        except ValueError:
            return None  # not JSON: the route's own parsing says so
    if media == "application/x-www-form-urlencoded":
        return _nul_in_query(body, "body")
    return None  # binary bodies (a JPEG) hold NUL bytes by nature


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


class Intake:
    """ASGI middleware enforcing body limits per route and refusing NUL characters.

    Args:
        app: the next application.
        rules: what each API operation accepts (:func:`route_rules`).
        config: the ``http`` settings (the limits).
    """

    def __init__(self, app: ASGIApp, *, rules: Sequence[RouteRule], config: HttpConfig):
        self.app = app
        self.rules = rules
        self.config = config

    def _rule(self, scope: Scope) -> RouteRule | None:
        for rule in self.rules:
            if rule.method == scope["method"] and rule.path.match(scope["path"]):
                return rule
        return None  # the console's pages, the docs, or no route at all: the defaults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        where = self._nul_outside_body(scope)
        if where is not None:
            await self._refuse_nul(scope, receive, send, where)
            return
        rule = self._rule(scope)
        upload = rule is not None and rule.upload
        limit = self.config.max_upload_bytes if upload else self.config.max_body_bytes
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._too_large(scope, receive, send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                # The client left before sending its body: nothing to answer.
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._too_large(scope, receive, send, limit)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body and not (rule is not None and rule.checks_text_itself):
            where = _nul_in_body(body, _header(scope, b"content-type") or "")
            if where is not None:
                await self._refuse_nul(scope, receive, send, where)
                return
        await self.app(scope, _replay(body, receive), send)

    @staticmethod
    def _nul_outside_body(scope: Scope) -> str | None:
        if "\x00" in scope["path"]:
            return "path"
        for name, value in scope["headers"]:
            if b"\x00" in value:
                return f"header.{bytes(name).decode('latin-1')}"
        return _nul_in_query(scope.get("query_string", b""), "query")

    @staticmethod
    async def _refuse_nul(scope: Scope, receive: Receive, send: Send, where: str) -> None:
        response = error_response(
            422,
            "validation_error",
            f"invalid request: {where}: {NUL_MESSAGE}",
            fields=[FieldError(field=where, message=NUL_MESSAGE)],
        )
        await response(scope, receive, send)

    @staticmethod
    async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        # Closing the connection spares reading the rest of a body nobody will use.
        response = error_response(
            413,
            "body_too_large",
            f"the request body is larger than this route accepts ({limit} bytes)",
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body read already, once, then the client's own messages (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
