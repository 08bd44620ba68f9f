"""Where a GIS export may be written, as an analyst names it (session 24 QA).

Before: ``-f gpkg -o yard.shp`` (or ``-o yard``) wrote a GeoPackage under a name QGIS
does not read as one; ``-o`` a named pipe or a device replaced it with a plain file
(run as root, ``-o /dev/stdout`` replaced /dev/stdout); ``-o link.gpkg`` replaced the
symbolic link instead of the file it points to; ``--out=~/yard.csv`` made a folder
named ``~`` in the working folder; an ``--out`` below a file said "File exists"; and an
export replacing a file shared with a group (mode 664) left it 644.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.errors import InputError
from railwatch.export.gis import export_site
from railwatch.storage import Database
from report_db import populate


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Database:
    tmp = tmp_path_factory.mktemp("qa24paths")
    database = Database(f"sqlite:///{tmp / 'rw.db'}")
    populate(database, tmp / "scenes")
    return database


@pytest.mark.parametrize(
    ("fmt", "name", "says"),
    [
        ("gpkg", "yard", "a GeoPackage's name must end in .gpkg"),
        ("gpkg", "yard.db3", "give --out"),
        ("gpkg", "yard.shp", "names a shapefile, which railwatch does not write"),
        ("csv", "yard.shp", "names a shapefile"),
        ("geojson", "yard.kml", "names KML"),
        ("geoparquet", "yard.fgb", "names FlatGeobuf"),
        ("csv", "counts.xlsx", "--format csv --out counts.csv"),
    ],
)
def test_an_out_name_gis_tools_would_misread_is_refused(
    db: Database, tmp_path: Path, fmt: str, name: str, says: str
) -> None:
    out = tmp_path / name
    with pytest.raises(InputError, match="--out") as err:
        export_site(db, "testyard", fmt, out)
    assert says in str(err.value)
    assert not out.exists() and not list(tmp_path.iterdir())


def test_a_geopackage_named_without_its_ending_is_told_the_name_to_use(
    db: Database, tmp_path: Path
) -> None:
    with pytest.raises(InputError) as err:
        export_site(db, "testyard", "gpkg", tmp_path / "yard")
    assert f"give --out {tmp_path / 'yard.gpkg'}" in str(err.value)
    with pytest.raises(InputError) as err:
        export_site(db, "testyard", "gpkg", tmp_path / "yard.db3")
    assert f"give --out {tmp_path / 'yard.gpkg'}" in str(err.value)


@pytest.mark.parametrize("fmt", ["csv", "gpkg"])
def test_a_named_pipe_is_not_replaced_by_a_file(db: Database, tmp_path: Path, fmt: str) -> None:
    fifo = tmp_path / f"pipe.{fmt}"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="is not a regular file"):
        export_site(db, "testyard", fmt, fifo)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == [fifo.name]


@pytest.mark.parametrize("fmt", ["csv", "gpkg"])
def test_a_symbolic_link_is_written_through(db: Database, tmp_path: Path, fmt: str) -> None:
    pytest.importorskip("pyogrio")
    target = tmp_path / "exports" / f"2024-06.{fmt}"
    target.parent.mkdir()
    target.write_bytes(b"old")
    link = tmp_path / f"latest.{fmt}"
    link.symlink_to(target)
    assert export_site(db, "testyard", fmt, link) == link
    assert link.is_symlink() and link.resolve() == target
    written = target.read_bytes()
    assert written != b"old"
    assert written.startswith(
        b"date,day,local_zone,scene_id" if fmt == "csv" else b"SQLite format 3"
    )


def test_a_tilde_is_the_home_folder(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    export_site(db, "testyard", "csv", "~/yard.csv")
    assert (
        (home / "yard.csv").read_text(encoding="utf-8").startswith("date,day,local_zone,scene_id")
    )
    assert list(work.iterdir()) == []


@pytest.mark.parametrize("fmt", ["csv", "geojson"])
def test_an_out_below_a_file_names_that_file(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("x")
    out = blocker / "sub" / f"yard.{fmt}"
    url = str(db.url)
    assert main(["--db", url, "export", "testyard", "-f", fmt, "--out", str(out)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"{blocker} is a file, not a folder" in err and "File exists" not in err
    assert blocker.read_text() == "x"


def test_a_replaced_export_keeps_its_permissions(db: Database, tmp_path: Path) -> None:
    out = tmp_path / "counts.csv"
    export_site(db, "testyard", "csv", out)
    out.chmod(0o664)  # shared with the team
    export_site(db, "testyard", "csv", out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o664


def test_a_geopackage_open_in_another_program_is_not_replaced(db: Database, tmp_path: Path) -> None:
    """QGIS keeps a loaded GeoPackage in WAL mode (``-wal``, ``-shm`` beside it). The
    export replaced the file under it, and SQLite then read the new file through the old
    file's WAL: the fresh export showed the old edits (here 10 of 96 detections and a
    layer_styles table). Now refused; once the program closes it, the export runs."""
    import sqlite3

    pytest.importorskip("pyogrio")
    out = tmp_path / "yard.gpkg"
    export_site(db, "testyard", "gpkg", out)
    qgis = sqlite3.connect(out)
    try:
        qgis.execute("pragma journal_mode=wal")
        qgis.execute("pragma wal_autocheckpoint=0")
        qgis.execute("create table layer_styles(id integer primary key, qml text)")
        qgis.execute("delete from detections where fid > 10")
        qgis.commit()
        with pytest.raises(InputError, match="is open in another program") as err:
            export_site(db, "testyard", "gpkg", out)
        assert "yard.gpkg-wal" in str(err.value) and "give --out another name" in str(err.value)
        assert sorted(p.name for p in tmp_path.iterdir()) == [
            "yard.gpkg", "yard.gpkg-shm", "yard.gpkg-wal",
        ]  # fmt: skip
    finally:
        qgis.close()
    export_site(db, "testyard", "gpkg", out)
    with sqlite3.connect(out) as check:
        assert check.execute("select count(*) from detections").fetchone() == (96,)
        names = {r[0] for r in check.execute("select name from sqlite_master")}
    assert "layer_styles" not in names
