"""export-labels into a folder that holds labels already: refused, the folder untouched.

An export into the folder of an earlier one replaced each label file of a chip of the
same name (an analyst's corrections made there in a labelling tool were lost) and left
the earlier chips of other names beside the new ones: import-labels then read both (a
re-export with another --chip doubled the cars of the training set).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.errors import InputError
from railwatch.export.label_chips import export_labels
from railwatch.export.labels import FORMATS, import_labels
from railwatch.storage import Database
from report_db import populate


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Database:
    tmp = tmp_path_factory.mktemp("relabel")
    database = Database(f"sqlite:///{tmp / 'rw.db'}")
    populate(database, tmp / "scenes")
    return database


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_export_into_an_earlier_one_is_refused_and_changes_nothing(
    db: Database, fmt: str, tmp_path: Path
) -> None:
    out = tmp_path / "labels"
    first = export_labels(db, out, fmt, site="testyard", chip=256)
    # the analyst corrects a label in place, in the labelling tool
    label = next(p for p in out.rglob("*") if p.suffix in (".txt", ".json") and p.is_file())
    label.write_text(label.read_text() + " ")
    before = _files(out)
    with pytest.raises(InputError, match=r"holds labels or chips already .*give --out a new"):
        export_labels(db, out, fmt, site="testyard", chip=512)
    assert _files(out) == before  # nothing replaced, no chip of 512 px added
    assert len(list((out / "images").glob("*.png"))) == first.chips


def test_a_re_export_with_another_chip_no_longer_doubles_the_cars(
    db: Database, tmp_path: Path
) -> None:
    out = tmp_path / "labels"
    first = export_labels(db, out, "dota", site="testyard", chip=256)
    with pytest.raises(InputError):
        export_labels(db, out, "dota", site="testyard", chip=512)
    summary = import_labels(out, "dota", tmp_path / "train")
    assert summary.images == first.chips and summary.objects == first.objects


def test_a_folder_of_other_files_or_an_empty_one_is_exported_into(
    db: Database, tmp_path: Path
) -> None:
    out = tmp_path / "labels"
    (out / "images").mkdir(parents=True)
    (out / "notes.txt").write_text("yard survey")
    result = export_labels(db, out, "coco", site="testyard", chip=1024)
    assert result.chips > 0 and (out / "notes.txt").read_text() == "yard survey"


def test_the_cli_says_what_to_do(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "labels"
    args = ["--db", str(db.url), "export-labels", "testyard", "-f", "dota", "--out", str(out)]
    assert main(args) == 0
    capsys.readouterr()
    assert main(args) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "labelTxt/ with" in err and "move or delete" in err
