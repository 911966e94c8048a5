"""Every integer the app accepts (path, query, header, body; API and console) is bounded, so
that none can reach the database beyond what its columns hold (issue #11, finding 9)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.routing import Mount

from openlfr.api.app import create_app
from openlfr.config import Settings
from openlfr.config.server import DatabaseConfig
from openlfr.storage.fields import COUNT_MAX, DB_INT_MAX
from openlfr.web.app import PREFIX


def _unbounded(node: Any, where: str, schemas: dict[str, Any], seen: set[str]) -> Iterator[str]:
    """Where an integer without a maximum (or one beyond COUNT_MAX) hides in a schema."""
    if isinstance(node, list):
        for item in node:
            yield from _unbounded(item, where, schemas, seen)
        return
    if not isinstance(node, dict):
        return
    ref = node.get("$ref")
    if ref is not None:
        name = ref.rsplit("/", 1)[-1]
        if name not in seen:
            seen.add(name)
            yield from _unbounded(schemas[name], f"{where}>{name}", schemas, seen)
    if node.get("type") == "integer" and node.get("maximum", COUNT_MAX + 1) > COUNT_MAX:
        yield where
    for key, value in node.items():
        if key != "$ref":
            yield from _unbounded(value, f"{where}.{key}", schemas, seen)


def _offenders(doc: dict[str, Any]) -> list[str]:
    schemas = doc.get("components", {}).get("schemas", {})
    found = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            label = f"{method.upper()} {path}"
            for param in op.get("parameters", []):
                where = f"{label} {param['in']}.{param['name']}"
                found += _unbounded(param.get("schema", {}), where, schemas, set())
            found += _unbounded(op.get("requestBody", {}), f"{label} body", schemas, set())
    return found


def _app(tmp_path: Path) -> FastAPI:
    database = DatabaseConfig(url=f"sqlite:///{tmp_path / 'openlfr.db'}")
    return create_app(Settings(home=tmp_path, database=database), background=False)


def test_every_integer_the_api_accepts_is_bounded(tmp_path: Path) -> None:
    doc = _app(tmp_path).openapi()
    assert _offenders(doc) == []
    deployment = doc["paths"]["/api/v1/deployments/{deployment_id}"]["get"]["parameters"][0]
    assert deployment["schema"]["maximum"] == DB_INT_MAX


def test_every_integer_the_console_accepts_is_bounded(tmp_path: Path) -> None:
    app = _app(tmp_path)
    [console] = [r for r in app.routes if isinstance(r, Mount) and r.path == PREFIX]
    doc = get_openapi(title="console", version="0", routes=console.routes)
    assert doc["paths"], "the console's routes were not found"
    assert _offenders(doc) == []
