"""Cross-set non-mated searches: the review list, and reviewed exclusions the report states."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from evaluation_subsets import Subset

from openlfr.evaluation.datasets import DatasetError
from openlfr.evaluation.report import write_report
from openlfr.evaluation.runner import EvaluationOptions, Evaluator
from openlfr.evaluation.screening import read_review
from openlfr.services import Services

pytestmark = pytest.mark.realdata


def _options(lfw: Subset, utk: Subset, reviewed: Path | None = None) -> EvaluationOptions:
    return EvaluationOptions(
        dataset=lfw.root,
        labels=lfw.labels,
        nonmated_dataset=utk.root,
        nonmated_labels=utk.labels,
        reviewed=reviewed,
        review_count=5,
    )


def test_reviewed_same_person_photos_leave_the_nonmated_searches_and_are_stated(
    services: Services, lfw_subset: Subset, utk_subset: Subset, tmp_path: Path
) -> None:
    before = Evaluator(services).run(_options(lfw_subset, utk_subset))
    assert before.open_set is not None and before.open_set.cross_set is not None
    screen = before.open_set.cross_set
    assert len(screen.pairs) == 5 and screen.reviewed is None
    scores = [p.score for p in screen.pairs]
    assert scores == sorted(scores, reverse=True)
    assert all(p.verdict == "" and p.subject_file for p in screen.pairs)

    top, second = screen.pairs[0], screen.pairs[1]
    review = tmp_path / "reviewed.csv"
    review.write_text(
        "file,subject,verdict,note\n"
        f"{top.file},{top.subject},same,checked by eye\n"
        f"{second.file},{second.subject},different,\n"
        "images/not/in/this/run.jpg,Someone,different,\n"
    )
    after = Evaluator(services).run(_options(lfw_subset, utk_subset, review))
    o = after.open_set
    assert o is not None and o.cross_set is not None
    assert o.nonmated_searches + o.nonmated_unacquired == 19  # one of 20 left out
    s = o.cross_set
    assert (s.excluded, s.kept_after_review, s.entries_not_in_run) == (1, 1, 1)
    assert s.reviewed_sha256 == read_review(review).sha256
    verdicts = {p.file: p.verdict for p in s.pairs}
    assert verdicts[top.file] == "same" and verdicts[second.file] == "different"

    out = tmp_path / "report"
    html = write_report(after, out).html.read_text()
    assert "Reviewed exclusions applied" in html and str(review) in html
    assert "checked by eye" in html
    # Both photos side by side, linked from the data folders and never copied in.
    links = re.findall(r"<img src='([^']+)' alt='([^']+)' loading='lazy'", html)
    assert len(links) == 2 * len(s.pairs)
    for src, _ in links:
        assert not src.startswith("data:") and (out / src).resolve().is_file()
    assert "data:image/jpeg" not in html


def test_a_review_naming_someone_not_in_the_watchlist_set_is_refused(
    services: Services, lfw_subset: Subset, utk_subset: Subset, tmp_path: Path
) -> None:
    first = utk_subset.labels.read_text().splitlines()[1].split(",")[0]
    review = tmp_path / "reviewed.csv"
    review.write_text(f"file,subject,verdict\n{first},Nobody_Listed,same\n")
    with pytest.raises(DatasetError, match=r"Nobody_Listed.*not in the watchlist's dataset"):
        Evaluator(services).run(_options(lfw_subset, utk_subset, review))
    review.write_text(f"file,subject,verdict\n{first},Nobody_Listed,maybe\n")
    with pytest.raises(DatasetError, match="verdict 'maybe'"):
        read_review(review)
