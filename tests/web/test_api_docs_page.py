"""The API documentation page works under the app's Content-Security-Policy, from the
server's own copy of Swagger UI (issue #11, finding 11)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from web_support import ServeConsole, new_page


def test_the_docs_page_renders_under_the_csp_with_nothing_from_elsewhere(
    browser: Any, serve_console: ServeConsole
) -> None:
    server = serve_console()
    context, page = new_page(browser)
    problems: list[str] = []
    elsewhere: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "request",
        lambda r: None if r.url.startswith(server.base) else elsewhere.append(r.url),
    )
    try:
        page.goto(f"{server.base}/docs")
        expect(page.get_by_text("/api/v1/deployments/{deployment_id}").first).to_be_visible()
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("openlfr")
    finally:
        context.close()
    assert elsewhere == []
    assert problems == []
