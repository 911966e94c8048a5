"""The shipped demo kit works offline: listed people are found, others raise nothing."""

from __future__ import annotations

import numpy as np
import pytest

from openlfr.demokit import kit_images
from openlfr.services import Services
from openlfr.watchlist import enrol


def test_kit_watchlist_finds_listed_people_and_ignores_others(services: Services) -> None:
    images = kit_images()
    assert all(i.path.is_file() for i in images)
    for image in (i for i in images if i.role == "watchlist"):
        enrol(
            services.watchlists,
            services.quality_gate,
            watchlist_name="demo",
            subject_id=image.identity,
            model_id=services.pack.model_id,
            dim=services.pack.recogniser.dim,
            images=[(image.path.name, image.path.read_bytes())],
        )
    gallery = services.watchlists.load("demo").gallery()
    threshold = services.settings.matching.threshold
    probes = [i for i in images if i.role != "watchlist"]
    vectors = np.stack(
        [
            services.quality_gate.template_for(p.path.read_bytes(), p.path.name).embedding
            for p in probes
        ]
    )
    for probe, result in zip(probes, gallery.search(vectors, threshold=threshold), strict=True):
        if probe.role == "probe":
            assert result.best is not None, f"{probe.path.name} not found"
            assert result.best.subject_id == probe.identity
        else:
            assert result.candidates == (), f"{probe.path.name} raised {result.candidates}"


@pytest.mark.parametrize("role", ["watchlist", "probe", "distractor"])
def test_kit_has_every_role(role: str) -> None:
    assert any(i.role == role for i in kit_images())
