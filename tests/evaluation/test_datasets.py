"""Labels CSV, pairs and video lists: bad rows are counted and skipped, never fatal."""

from __future__ import annotations

from pathlib import Path

import pytest

from openlfr.evaluation.datasets import (
    DatasetError,
    age_band,
    load_dataset,
    read_aliases,
    read_pairs,
    read_video_list,
)


def _touch(root: Path, *names: str) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"not decoded here")


def test_bad_rows_are_reported_and_skipped(tmp_path: Path) -> None:
    _touch(tmp_path, "a/a_0001.jpg", "a/a_0002.jpg", "b/b_0001.jpg", "group.jpg")
    (tmp_path / "labels.csv").write_text(
        "file,identity,sex,age,note\n"
        "a/a_0001.jpg,a,F,34,\n"
        "a/a_0002.jpg,a,F,34,\n"
        "a/a_0001.jpg,a,F,34,again\n"
        "b/b_0001.jpg,b,,71,\n"
        "missing.jpg,c,M,20,\n"
        "../outside.jpg,d,M,20,\n"
        ",e,M,20,\n"
        "group.jpg,,,,unlabelled\n"
        "too,many,fields,here,x,y\n"
        "\n"
    )
    data = load_dataset(tmp_path)
    assert [img.file for img in data.images] == ["a/a_0001.jpg", "a/a_0002.jpg", "b/b_0001.jpg"]
    reasons = sorted(p.reason.split(":")[0] for p in data.problems)
    assert reasons == sorted(
        [
            "file listed twice; first row kept",
            "file not found",
            "path leaves the dataset folder",
            "no file name",
            "no identity (unlabelled image)",
            "malformed row",
        ]
    )
    assert {p.line for p in data.problems} == {4, 6, 7, 8, 9, 10}
    assert data.has_identities and data.identities == ("a", "b")
    assert data.attribute_columns == ("sex", "age", "age_band")  # "note" describes the file
    assert data.attribute("sex") == ["F", "F", ""]
    assert data.attribute("age_band") == ["30-44", "30-44", "60+"]


def test_a_dataset_without_identities_treats_every_image_as_a_person(tmp_path: Path) -> None:
    _touch(tmp_path, "x.jpg", "y.jpg")
    (tmp_path / "l.csv").write_text("path,sex\nx.jpg,F\ny.jpg,M\n")
    data = load_dataset(tmp_path, tmp_path / "l.csv")
    assert not data.has_identities
    assert [img.identity for img in data.images] == ["x.jpg", "y.jpg"]


def test_unusable_labels_files_raise(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(tmp_path)
    (tmp_path / "labels.csv").write_text("name,sex\nx,F\n")
    with pytest.raises(DatasetError, match="no file column"):
        load_dataset(tmp_path)
    with pytest.raises(DatasetError, match="folder"):
        load_dataset(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("age", "band"),
    [
        ("0", "0-17"),
        ("17", "0-17"),
        ("18", "18-29"),
        ("44.9", "30-44"),
        ("59", "45-59"),
        ("60", "60+"),
        ("x", ""),
        ("-3", ""),
    ],
)
def test_age_bands(age: str, band: str) -> None:
    assert age_band(age) == band


def test_pairs_are_read_by_fold_and_bad_lines_counted(tmp_path: Path) -> None:
    _touch(tmp_path, "Ann/Ann_0001.jpg", "Ann/Ann_0002.jpg", "Bob/Bob_0001.jpg")
    (tmp_path / "labels.csv").write_text(
        "file,identity\nAnn/Ann_0001.jpg,Ann\nAnn/Ann_0002.jpg,Ann\nBob/Bob_0001.jpg,Bob\n"
    )
    data = load_dataset(tmp_path)
    (tmp_path / "pairs.txt").write_text(
        "2\t1\nAnn\t1\t2\nAnn\t1\tBob\t1\nAnn\t1\t3\nAnn\t2\tBob\t1\nnonsense\n"
    )
    pairs = read_pairs(tmp_path / "pairs.txt", data)
    assert [(p.first, p.second, p.genuine, p.fold) for p in pairs.pairs] == [
        (0, 1, True, 0),
        (0, 2, False, 0),
        (1, 2, False, 1),
    ]
    reasons = [p.reason for p in pairs.problems]
    assert reasons[0] == "image not in the dataset: Ann_0003"
    assert "malformed pair line" in reasons
    assert any("header promises" in r for r in reasons)
    with pytest.raises(DatasetError):
        read_pairs(tmp_path / "none.txt", data)


def test_video_list_names_only_people_to_find(tmp_path: Path) -> None:
    _touch(tmp_path, "a.mp4", "b.mp4")
    (tmp_path / "labels.csv").write_text(
        "file,identity,fps\n"
        "a.mp4,lin_manuel_miranda;alex_lacamoire(profile);audience(unlabelled),30\n"
        "b.mp4,(unknown pedestrians),25\n"
        "gone.mp4,someone,25\n"
    )
    videos, problems = read_video_list(tmp_path / "labels.csv")
    assert [(v.file, v.identities) for v in videos] == [
        ("a.mp4", ("lin_manuel_miranda", "alex_lacamoire")),
        ("b.mp4", ()),
    ]
    assert [p.file for p in problems] == ["gone.mp4"]


def test_aliases_merge_identities_and_exclusions_are_counted(tmp_path: Path) -> None:
    _touch(tmp_path, "a.jpg", "b.jpg", "c.jpg")
    (tmp_path / "labels.csv").write_text(
        "file,identity,age\na.jpg,Ann_Lee,30\nb.jpg,Lee_Ann,31\nc.jpg,Kid,8\n"
    )
    (tmp_path / "aliases.csv").write_text(
        "identity,same_as,reason\nLee_Ann,Ann_Lee,name order\nX,Y,\nY,Z,\n"
    )
    aliases = read_aliases(tmp_path / "aliases.csv")
    assert aliases == {"Lee_Ann": "Ann_Lee", "X": "Z", "Y": "Z"}
    data = load_dataset(tmp_path, aliases=aliases, exclude=(("age_band", "0-17"),))
    assert [img.identity for img in data.images] == ["Ann_Lee", "Ann_Lee"]
    assert data.aliases == {"Lee_Ann": "Ann_Lee"}
    assert [p.reason for p in data.problems] == ["excluded by request: age_band=0-17"]
    (tmp_path / "cycle.csv").write_text("identity,same_as\nA,B\nB,A\n")
    with pytest.raises(DatasetError, match="cycle"):
        read_aliases(tmp_path / "cycle.csv")
    (tmp_path / "wrong.csv").write_text("name,other\nA,B\n")
    with pytest.raises(DatasetError, match="identity,same_as"):
        read_aliases(tmp_path / "wrong.csv")
