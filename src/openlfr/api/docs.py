"""The interactive API documentation at ``/docs``, served from this server's own files.

Swagger UI's scripts and styles come from the ``fastapi-offline`` package (a current
Swagger UI 5 build, installed and hash-checked with the rest of openlfr), never from a
third-party site: the page shares an origin, and so a session cookie, with the console, and
a script fetched from a CDN could act as whoever has the console open.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS_PREFIX = "/docs/assets"
_OWN = Path(__file__).parent / "static"
SWAGGER_UI = Path(fastapi_offline.__file__).parent / "static"


def mount_docs(app: FastAPI) -> None:
    """``/docs`` (the page), ``/docs/start.js`` (its start-up) and ``/docs/assets/*``."""

    async def page(request: Request) -> Response:
        return FileResponse(_OWN / "docs.html", media_type="text/html")

    async def start(request: Request) -> Response:
        return FileResponse(_OWN / "docs.js", media_type="text/javascript")

    app.add_route("/docs", page, include_in_schema=False)
    app.add_route("/docs/start.js", start, include_in_schema=False)
    app.mount(ASSETS_PREFIX, StaticFiles(directory=str(SWAGGER_UI)), name="docs-assets")
