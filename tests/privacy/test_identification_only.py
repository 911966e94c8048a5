"""Invariant 7: openlfr identifies listed people and nothing else.

No interface carries a demographic, emotion or appearance attribute of a face,
and no way of adding to a watchlist takes a face the system saw (an alert, a
track or a probe crop): references come only from files a watchlist manager
uploads. These checks read the live OpenAPI document and the live pipeline's
alert output, so a new field or route that breaks the rule fails here.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import Any

import numpy as np

from openlfr.alerts.jsonl import JsonLinesSink
from openlfr.api.testing import Api
from openlfr.types import Alert, Detection, FaceCrop, FaceQuality, Look

FORBIDDEN_TOKENS = {
    "age", "sex", "gender", "ethnicity", "ethnic", "race", "racial", "skin",
    "emotion", "emotions", "expression", "mood", "smile", "attractiveness",
    "religion", "nationality", "disability",
}  # fmt: skip
SEEN_FACE_TOKENS = {"alert", "track", "probe", "crop", "camera", "look"}


def tokens(name: str) -> set[str]:
    """``alert_id`` → {"alert", "id"}; ``capturedAt`` → {"captured", "at"}."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return {t.lower() for t in re.split(r"[^A-Za-z0-9]+", spaced) if t}


def property_names(node: Any, spec: dict[str, Any]) -> Iterator[str]:
    """Every property name under ``node``, following $refs into the spec's components."""
    stack, seen = [node], set()
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref not in seen:
                seen.add(ref)
                target: Any = spec
                for part in ref.lstrip("#/").split("/"):
                    target = target[part]
                stack.append(target)
            for key, value in item.items():
                if key == "properties" and isinstance(value, dict):
                    yield from value
                stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)


def test_no_api_field_or_parameter_describes_a_person(api: Api) -> None:
    spec = api.app.openapi()
    names = set(property_names(spec, spec))
    names |= {
        p["name"]
        for operations in spec["paths"].values()
        for operation in operations.values()
        for p in operation.get("parameters", [])
    }
    assert len(names) > 100  # the walk really reached the schemas
    offending = sorted(n for n in names if tokens(n) & FORBIDDEN_TOKENS)
    assert offending == []


def test_watchlists_are_built_only_from_uploaded_files(api: Api) -> None:
    spec = api.app.openapi()
    writes = [
        (method, path, operation)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if method in {"post", "put", "patch"}
        and ({"watchlist", "watchlists", "subject", "subjects", "images"} & tokens(path))
    ]
    assert any(path.endswith("/images") for _, path, _ in writes)
    for method, path, operation in writes:
        assert not tokens(path) & SEEN_FACE_TOKENS, f"{method.upper()} {path}"
        body = operation.get("requestBody", {})
        fields = set(property_names(body, spec))
        assert not {f for f in fields if tokens(f) & SEEN_FACE_TOKENS}, (method, path, fields)


def test_an_alert_as_published_carries_no_attribute_of_the_person() -> None:
    quality = FaceQuality(40.0, 200.0, 3.0, 5.0, 1.0, 0.9)
    detection = Detection(
        box=np.array([10, 10, 60, 70], np.float32),
        landmarks=np.zeros((5, 2), np.float32),
        score=0.9,
    )
    look = Look("cam", 7, 12, 1000.0, quality, 0.8, None)
    alert = Alert(
        alert_id="a" * 32,
        camera_id="cam",
        track_id=7,
        subject_id="S-1",
        score=0.71,
        threshold=0.55,
        captured_at=1000.0,
        emitted_at=1000.2,
        probe=FaceCrop(np.zeros((112, 112, 3), np.uint8), detection, quality),
        looks=(look,),
        watchlist="wl",
        model_id="sface-2021dec",
    )
    out = io.StringIO()
    sink = JsonLinesSink(out)
    sink.emit(alert)
    record = json.loads(out.getvalue())

    def keys(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for k, v in node.items():
                yield k
                yield from keys(v)
        elif isinstance(node, list):
            for v in node:
                yield from keys(v)

    found = set(keys(record))
    assert {"subject", "score", "camera", "time", "track"} <= found
    assert not {k for k in found if tokens(k) & FORBIDDEN_TOKENS}
