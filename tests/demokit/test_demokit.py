"""The shipped demo kit works offline: listed people are found, others raise nothing."""

from __future__ import annotations

import numpy as np
import pytest

from openlfr.cli.common import work
from openlfr.demokit import kit_images
from openlfr.services import Services
from openlfr.watchlist_records import named
from openlfr.watchlist_records.service import SubjectDetails


def test_kit_watchlist_finds_listed_people_and_ignores_others(services: Services) -> None:
    images = kit_images()
    assert all(i.path.is_file() for i in images)
    with work(services) as ctx:
        for image in (i for i in images if i.role == "watchlist"):
            named.enrol(
                ctx,
                "demo",
                SubjectDetails(
                    reference=image.identity, category="wanted_on_warrant", image_source="kit"
                ),
                [(image.path.name, image.path.read_bytes())],
                source=services.template_source,
                policy=services.settings.governance,
            )
        gallery = named.gallery(ctx, "demo").gallery
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
