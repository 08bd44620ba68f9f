"""QA (session 24): ``export``, ``export-labels`` and ``import-labels`` print paths as
they are. They printed them through rich markup, so a folder with a bracketed word
(``runs[old]``, ``labels[v2]``) lost it: ``wrote /data/runs/c.csv`` for
``/data/runs[old]/c.csv``, a path that does not exist, and the reason a scene was
skipped named another file than the one missing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.storage import Database, repo
from report_db import populate

BRACKETED = "runs[old]"


@pytest.fixture(autouse=True)
def _no_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A folder ``runs[old]`` holding a database of the test site and its images."""
    folder = tmp_path / BRACKETED
    folder.mkdir()
    db = Database(f"sqlite:///{folder / 'rw.db'}")
    try:
        populate(db, folder / "scenes")
    finally:
        db.dispose()
    return folder


def _url(root: Path) -> str:
    return f"sqlite:///{root / 'rw.db'}"


def test_export_says_the_file_it_wrote(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = root / "counts[draft].csv"
    assert main(["--db", _url(root), "export", "testyard", "-f", "csv", "--out", str(out)]) == 0
    said = capsys.readouterr().out.strip()
    assert said == f"wrote {out}" and out.is_file()


def test_label_commands_say_their_folders_and_what_they_skipped(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = Database(_url(root))
    try:
        with db.session(readonly=True) as s:
            first = repo.list_scenes(s, "testyard", usable_only=True)[0]
    finally:
        db.dispose()
    gone = Path(first.uri)
    gone.unlink()  # its chips cannot be cut: skipped, with the file named
    labels = root / "labels[v2]"
    argv = ["export-labels", "testyard", "-f", "yolo-obb", "--out", str(labels), "--chip", "512"]
    assert main(["--db", _url(root), *argv]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("wrote ") and lines[0].endswith(f" to {labels} (yolo-obb)")
    skipped = [line for line in lines if line.startswith("skipped: ")]
    assert skipped[0].startswith(f"skipped: cannot open scene {first.id} ({gone}): ")
    assert (labels / "images").is_dir()
    # an image without its label file is named in the warning of import-labels
    chip = next((labels / "images").glob("*.png"))
    shutil.copy(chip, labels / "images" / "extra[a].png")
    train = root / "train[1]"
    argv = ["import-labels", str(labels), "-f", "yolo-obb", "--out", str(train)]
    assert main(["--db", _url(root), *argv]) == 0
    captured = capsys.readouterr()
    out = captured.out.rstrip().splitlines()
    assert out[0].endswith(f" into {train}")  # the path as it is, brackets included
    assert out[1] == "labels: 23 the detector's (unverified)"
    assert "was left out (extra[a].png): " in captured.err, captured.err
