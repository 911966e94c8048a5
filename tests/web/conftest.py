"""Fixtures for the console tests: Debian's Chromium driven by Playwright, served apps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from web_support import CHROMIUM, CHROMIUM_ARGS, ConsoleServer, ServeConsole, add_people

from openlfr.api.app import create_app
from openlfr.api.testing import FakeLauncher, serve_in_thread, test_settings
from openlfr.config.server import GovernanceConfig
from openlfr.deployments.launcher import default_launcher
from openlfr.deployments.live import PipelineLauncher
from openlfr.services import Services
from openlfr.storage.engine import Database
from openlfr.storage.testing import _sqlite_template
from openlfr.vision.pack import ModelPack
from openlfr.workers.hub import WorkerHub

__all__ = ["_sqlite_template"]

# Categories for the demo kit's volunteers: only ever "demo" (see demokit/CREDITS.md).
CATEGORIES = ("wanted_on_warrant", "bail_or_court_order_breach", "demo")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium (never a downloaded browser), headless, no background networking."""
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} not found: install Debian's 'chromium' package")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def serve_console(
    tmp_path: Path, _sqlite_template: Path, pack: ModelPack
) -> Iterator[ServeConsole]:
    """Starts the app under uvicorn on a free local port, on its own home and SQLite file.

    ``live=True`` runs the real live pipeline behind deployments' "start";
    ``workers=True`` the hub's worker launcher (tests report for the workers);
    otherwise a fake launcher that runs no camera (tests raise alerts themselves).
    Extra keyword arguments are settings sections.
    """
    stack = ExitStack()

    def serve(*, live: bool = False, workers: bool = False, **sections: Any) -> ConsoleServer:
        path = tmp_path / "openlfr.db"
        path.write_bytes(_sqlite_template.read_bytes())
        database = Database(f"sqlite:///{path}")
        stack.callback(database.dispose)
        sections.setdefault("governance", GovernanceConfig(offence_categories=CATEGORIES))
        services = Services(test_settings(tmp_path / "home", database, **sections))
        services.__dict__["pack"] = pack  # models load once per test session
        services.__dict__["database"] = database
        launcher: PipelineLauncher = (
            default_launcher(services)
            if live
            # The tests report for cameras past their warm-up: every drop counts at once.
            else WorkerHub(preview=services.preview, drop_grace_s=0.0)
            if workers
            else FakeLauncher()
        )
        app = create_app(services=services, launcher=launcher, background=False)
        base = stack.enter_context(serve_in_thread(app))
        plane = app.state.plane
        return ConsoleServer(
            base=base, app=app, plane=plane, launcher=launcher, tokens=add_people(plane)
        )

    with stack:
        yield serve
