"""An export or report written over the database or one of the site's images is refused:
``railwatch export yard -f csv -o railwatch.db`` replaced the database with a CSV file
(every stored count lost), and a report written over an ingested image made its scene
fail from then on."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.storage import Database, repo
from report_db import populate


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, Path]:
    """One database for the module (it was made anew for each of 16 tests): a refused
    output checks that the database or image is as it was, and what is written is a new
    file of its own (rw.db.csv beside the database, the others in the test's folder)."""
    folder = tmp_path_factory.mktemp("qa22_paths")
    db_file = folder / "rw.db"
    url = f"sqlite:///{db_file}"
    populate(Database(url), folder / "scenes")
    return url, db_file, folder / "scenes" / "scene_00.tif"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _scenes(url: str) -> int:
    db = Database(url)
    with db.session() as s:
        n = len(repo.list_scenes(s, repo.get_site(s, "testyard")))
    db.dispose()
    return n


@pytest.mark.parametrize(
    ("command", "suffix"),
    [
        (["export", "testyard", "-f", "csv"], ""),
        (["export", "testyard", "-f", "gpkg"], ""),
        (["export", "testyard", "-f", "csv"], "-wal"),
        (["report", "testyard"], ""),
        (["report", "testyard", "--pdf"], ""),
    ],
)
def test_output_over_the_database_is_refused(
    populated: tuple[str, Path, Path],
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    suffix: str,
) -> None:
    url, db_file, _ = populated
    if "gpkg" in command:
        pytest.importorskip("pyogrio")
    target = db_file.with_name(db_file.name + suffix)
    assert main(["--db", url, *command, "--out", str(target)]) == 2
    err = capsys.readouterr().err
    assert "is the railwatch database" in err and "give --out another file name" in err
    assert db_file.read_bytes().startswith(b"SQLite format 3")
    assert _scenes(url) == 15


def test_pdf_beside_the_html_over_the_database_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--pdf`` writes FILE.pdf beside FILE.html: that name is checked too."""
    db_file = tmp_path / "rw.pdf"
    url = f"sqlite:///{db_file}"
    populate(Database(url), tmp_path / "scenes")
    out = tmp_path / "rw.html"
    assert main(["--db", url, "report", "testyard", "--pdf", "--out", str(out)]) == 2
    assert "is the railwatch database" in capsys.readouterr().err
    assert db_file.read_bytes().startswith(b"SQLite format 3") and not out.exists()
    assert _scenes(url) == 15


@pytest.mark.parametrize(
    "command",
    [["export", "testyard", "-f", "csv"], ["report", "testyard"]],
)
def test_output_over_an_image_of_the_site_is_refused(
    populated: tuple[str, Path, Path],
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    url, _, image = populated
    before = _digest(image)
    assert main(["--db", url, *command, "--out", str(image)]) == 2
    err = capsys.readouterr().err
    assert "is an image of this site" in err
    assert _digest(image) == before


def test_other_outputs_are_still_written(populated: tuple[str, Path, Path]) -> None:
    url, db_file, _ = populated
    out = db_file.with_name("rw.db.csv")  # beside the database, named after it
    assert main(["--db", url, "export", "testyard", "-f", "csv", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("date,day,local_zone,scene_id")


@pytest.mark.parametrize(
    ("fmt", "name", "named"),
    [
        ("csv", "yard.gpkg", "gpkg"),
        ("gpkg", "yard.CSV", "csv"),
        ("geojson", "yard.parquet", "geoparquet"),
        ("geoparquet", "yard.geojson", "geojson"),
    ],
)
def test_an_out_name_of_another_format_is_refused(
    populated: tuple[str, Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fmt: str,
    name: str,
    named: str,
) -> None:
    """``-f csv -o yard.gpkg`` wrote a CSV file named .gpkg (QGIS: 'not a valid or
    recognized data source'); now refused before anything is written."""
    url, _, _ = populated
    out = tmp_path / name
    assert main(["--db", url, "export", "testyard", "-f", fmt, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"names a {named} output but --format is {fmt}" in err
    assert f"use --format {named}" in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("fmt", "name"),
    [
        ("csv", "counts.csv"),
        ("geojson", "yard-json"),
        ("csv", "c.txt"),
    ],
)
def test_an_out_name_of_its_own_format_is_written(
    populated: tuple[str, Path, Path], tmp_path: Path, fmt: str, name: str
) -> None:
    url, _, _ = populated
    out = tmp_path / name
    assert main(["--db", url, "export", "testyard", "-f", fmt, "--out", str(out)]) == 0
    assert out.exists()
