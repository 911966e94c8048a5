"""An evidence pack exported from a served console's API and checked by 'openlfr evidence
verify' with no database, as a complaints body would; the terminal output is rendered in
Chromium for the docs (docs/images/evidence-verify.png)."""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner
from web_support import (
    DOCS_ENV,
    DOCS_IMAGES,
    ConsoleServer,
    LiveScene,
    ServeConsole,
    new_page,
    publish,
)

from openlfr.audit.checkpoints import public_key_pem
from openlfr.cli import app as cli
from openlfr.storage.context import Actor
from openlfr.users import service as users
from openlfr.users.models import TokenCreate, UserCreate
from openlfr.users.roles import Role
from openlfr.vision.pack import ModelPack


def _terminal(commands: list[tuple[str, str]]) -> str:
    body = "".join(
        f'<div class="cmd">$ {html.escape(cmd)}</div><pre>{html.escape(out)}</pre>'
        for cmd, out in commands
    )
    return (
        "<!doctype html><html lang='en'><head><title>openlfr evidence verify</title><style>"
        "body{margin:0;background:#1e1f22;color:#e6e6e6;font:14px/1.45 'DejaVu Sans Mono',"
        "monospace;padding:18px 22px}.cmd{color:#8fd18f;margin-top:10px}"
        "pre{margin:4px 0 12px;white-space:pre-wrap;word-break:break-all}"
        f"</style></head><body><main>{body}</main></body></html>"
    )


def _second_operator_token(server: ConsoleServer) -> str:
    """An API token of a second operator (a service account: people hold no tokens)."""
    with server.plane.work(Actor.system("test")) as ctx:
        second = users.create(
            ctx,
            UserCreate(
                username="operator-2-setup", display_name="Second operator", role=Role.OPERATOR
            ),
            server.plane.passwords,
        )
        _, token = users.create_token(ctx, second, TokenCreate(name="test", expires_days=None))
    return token


def test_an_exported_pack_verifies_offline_and_an_altered_one_does_not(
    browser: Any,
    serve_console: ServeConsole,
    pack: ModelPack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = serve_console()
    scene = LiveScene(server, pack)  # two-person verification, the default
    scene.raise_alert()
    first = server.ok("GET", "/alerts", Role.OPERATOR)["items"][0]
    alert, episode = first["id"], first["episode_id"]
    # One operator proposes engaging, a second confirms, the first records the outcome.
    decide = f"{server.base}/api/v1/episodes/{episode}/decision"
    proposer = {"Authorization": f"Bearer {server.tokens[Role.OPERATOR]}"}
    confirmer = {"Authorization": f"Bearer {_second_operator_token(server)}"}
    for headers, body in [
        (proposer, {"decision": "engaged"}),
        (confirmer, {"decision": "engaged"}),
        (proposer, {"decision": "engaged", "outcome": "advised", "notes": "spoken to"}),
    ]:
        r = httpx.post(decide, headers=headers, json=body, timeout=60)
        assert r.status_code == 201, r.text
    r = server.call("GET", f"/alerts/{alert}/evidence-pack", Role.AUTHORISING_OFFICER)
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    packed = tmp_path / f"evidence-alert-{alert}.zip"
    packed.write_bytes(r.content)
    altered = tmp_path / f"evidence-alert-{alert}-altered.zip"
    data = bytearray(r.content)
    data[r.content.index(b"images/live-crop.png") + 200] ^= 0x04  # inside the crop's bytes
    altered.write_bytes(bytes(data))
    key = tmp_path / "openlfr-audit.pub"
    key.write_text(public_key_pem(server.plane.checkpoints.key.public_key))

    # Elsewhere: no database, no keys, only the files.
    monkeypatch.setenv("OPENLFR_HOME", str(tmp_path / "complaints-body"))
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    ok = runner.invoke(cli, ["evidence", "verify", packed.name, "--public-key", key.name])
    assert ok.exit_code == 0, ok.output
    assert "verified" in ok.output and "decision" in ok.output and "live-crop" in ok.output
    assert "two-person verification: confirmed" in ok.output
    assert "engagement_proposed" in ok.output and "engagement_confirmed" in ok.output
    bad = runner.invoke(cli, ["evidence", "verify", altered.name, "--public-key", key.name])
    assert bad.exit_code == 1 and "NOT verified" in bad.output
    assert not (tmp_path / "complaints-body" / "openlfr.db").exists()

    context, page = new_page(browser, {"width": 1280, "height": 720})
    try:
        page.set_content(
            _terminal(
                [
                    (f"openlfr evidence verify {packed.name} --public-key {key.name}", ok.output),
                    (f"openlfr evidence verify {altered.name} --public-key {key.name}", bad.output),
                ]
            )
        )
        assert "NOT verified" in page.inner_text("main")
        shot = tmp_path / "evidence-verify.png"
        page.screenshot(path=str(shot), full_page=True)
        if os.environ.get(DOCS_ENV) == "1":
            publish(shot, DOCS_IMAGES / "evidence-verify.png")
    finally:
        context.close()
    assert httpx.get(f"{server.base}/api/v1/health").status_code == 200
