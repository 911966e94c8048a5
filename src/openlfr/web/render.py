"""Jinja2 rendering for the console: one environment, filters for times, scores and labels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from openlfr.users.roles import Permission
from openlfr.web.guard import Viewer

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

templates = Jinja2Templates(directory=str(TEMPLATES))


def _when(value: datetime | None) -> str:
    """UTC, to the second; the browser shows it in local time as well (``<time>``)."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _iso(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def _label(value: object) -> str:
    """``wanted_on_warrant`` → ``Wanted on warrant``."""
    text = str(value).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _waited(value: timedelta) -> str:
    """How long a queue item has waited: ``45 s``, ``3 min 05 s``, ``1 h 02 min``."""
    seconds = max(0, int(value.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


env = templates.env
env.filters["when"] = _when
env.filters["iso"] = _iso
env.filters["label"] = _label
env.filters["score"] = _score
env.filters["waited"] = _waited
env.globals["P"] = Permission


def _camera_alarms(request: Request) -> list[str]:
    """Cameras of live deployments that are stalled, failed, unassigned, dropping frames
    beyond the limit or spooling full."""
    plane = getattr(request.app.state, "plane", None)
    hub = getattr(plane, "worker_hub", None)
    if hub is None:
        return []
    return [
        f"Deployment {dep}, camera {s.name}: {s.state}" + (f" ({s.error})" if s.error else "")
        for dep, s in hub.alarms()
    ]


def render(
    request: Request,
    template: str,
    viewer: Viewer | None,
    *,
    title: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A full page (or a fragment) with the viewer, their navigation and any camera alarm."""
    return templates.TemplateResponse(
        request,
        template,
        {
            "viewer": viewer,
            "title": title,
            "path": request.url.path,
            "camera_alarms": _camera_alarms(request) if viewer is not None else [],
            **context,
        },
        status_code=status_code,
    )
