"""The package's curated exports are exactly what ``__all__`` promises."""

from __future__ import annotations

import openlfr.evaluation as evaluation


def test_every_export_exists_and_nothing_public_is_unlisted() -> None:
    assert sorted(evaluation.__all__) == evaluation.__all__
    for name in evaluation.__all__:
        assert getattr(evaluation, name) is not None
    public = {n for n in vars(evaluation) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(evaluation, n)).__name__ == "module"}
    assert public - modules == set(evaluation.__all__)
