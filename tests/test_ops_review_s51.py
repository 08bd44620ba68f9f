"""The review of commit be7f146c (operations leftovers; 2026-12-07, session 51).

1. A SQLite database made at the head had no ``sqlite_sequence`` rows, where a migrated
   one has (scenes, 0), (events, 0), (alerts, 0); copy-db only raised those rows, so a
   table emptied in its source (its ids given, its rows deleted) gave ids from 1 again
   in the copy: the id reuse ``models.NEVER_REUSED_IDS`` prevents.
2. copy-db made DEST's new file first and removed it on failure when a read-only
   connection saw no row in it: a writer that had opened it during the copy (``serve``,
   ``site add`` given the new name) committed into a removed file. The copy is now
   written to a hidden file beside DEST and put at DEST once whole (linked: a file made
   there meanwhile is never replaced).
3. Ctrl-C before anything was made still said "the new file ... made for the copy, was
   removed".
4. A SQLite DEST with query parameters (``?mode=ro&uri=true``) or a ``file:`` URI: the
   copy went to another file than the one railwatch checked; ``~/x.db`` was expanded by
   railwatch, not by SQLite ("unable to open database file").
5. psycopg's log filter was put on the process-wide ``psycopg`` logger by ``make_engine``
   (any application embedding railwatch); the CLI alone installs it now.
6. ingest said "all 2 files were refused" of three found, one still being copied in.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from counted_site import WELLINGTON
from railwatch.cli.main import main
from railwatch.errors import ConfigError, StorageError
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from railwatch.storage.migrate import HEAD_REVISION, upgrade
from railwatch.storage.transfer import copy_database
from test_ops_leftovers_s51 import _source

# ------------------------------------------------ 1. ids never given twice in a copy

EVENT = (
    "INSERT INTO events (site_id, date, label, description, created_at) "
    "VALUES (1, :d, :l, '', '2024-01-01 00:00:00')"
)


def _events_given_then_deleted(url: str, n: int = 5) -> None:
    """``n`` events added to the database of ``url`` (ids 1..n), then all deleted."""
    path = url.removeprefix("sqlite:///")
    con = sqlite3.connect(path)
    try:
        for k in range(1, n + 1):
            con.execute(EVENT, {"d": f"2024-01-0{k}", "l": f"e{k}"})
        con.execute("DELETE FROM events")
        con.commit()
    finally:
        con.close()


def _next_event_id(path: Path) -> int:
    con = sqlite3.connect(path)
    try:
        cur = con.execute(EVENT, {"d": "2025-01-01", "l": "after the move"})
        con.commit()
        return int(cur.lastrowid or 0)
    finally:
        con.close()


def _sequence(path: Path) -> list[tuple[str, int]]:
    con = sqlite3.connect(path)
    try:
        return sorted(con.execute("SELECT name, seq FROM sqlite_sequence").fetchall())
    finally:
        con.close()


def test_a_table_emptied_in_the_source_goes_on_from_its_ids_in_a_new_copy(
    tmp_path: Path,
) -> None:
    source = _source(tmp_path, scenes=2)
    _events_given_then_deleted(source)
    copy_database(source, f"sqlite:///{tmp_path / 'moved.db'}")
    assert ("events", 5) in _sequence(tmp_path / "moved.db")
    assert _next_event_id(tmp_path / "moved.db") == 6  # was 1: event 1's id again


def test_a_destination_without_sequence_rows_gets_them_from_the_copy(tmp_path: Path) -> None:
    """An empty DEST made at the head before the fix (no sqlite_sequence row): the row
    of a table copied empty is inserted, not only raised."""
    source = _source(tmp_path, scenes=2)
    _events_given_then_deleted(source)
    dest = tmp_path / "made_before.db"
    Database(f"sqlite:///{dest}").dispose()
    con = sqlite3.connect(dest)
    try:
        con.execute("DELETE FROM sqlite_sequence")
        con.commit()
    finally:
        con.close()
    copy_database(source, f"sqlite:///{dest}")
    assert ("events", 5) in _sequence(dest)
    assert _next_event_id(dest) == 6


def test_a_new_sqlite_database_has_the_sequence_rows_of_a_migrated_one(tmp_path: Path) -> None:
    made, migrated = tmp_path / "made.db", tmp_path / "migrated.db"
    Database(f"sqlite:///{made}").dispose()
    upgrade(f"sqlite:///{migrated}", HEAD_REVISION)  # every revision replayed
    assert _sequence(made) == _sequence(migrated) == [("alerts", 0), ("events", 0), ("scenes", 0)]


# ---------------------------------------- 2. the copy is written beside DEST, then put


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_writer_that_opened_dest_during_a_failed_copy_keeps_what_it_writes(
    tmp_path: Path,
) -> None:
    """A ``serve`` (or ``site add``) given DEST's name opens it during the copy, which
    then fails; what it writes afterwards is in DEST (was: written into the copy's file,
    removed)."""
    source = _source(tmp_path)
    url = f"sqlite:///{tmp_path / 'new.db'}"
    other: list[Database] = []

    def progress(table: str, done: int, total: int) -> None:
        if done and not other:
            other.append(Database(url))  # opened during the copy, as serve opens it
            raise KeyboardInterrupt

    try:
        with pytest.raises(KeyboardInterrupt):
            copy_database(source, url, batch=2, on_progress=progress)
        with other[0].session() as s:  # it writes after the copy stopped
            repo.add_site(s, SiteSpec(name="theirs", geometry=WELLINGTON))
    finally:
        for db in other:
            db.dispose()
    with Database(url, create=False) as db, db.session(readonly=True) as s:
        assert [site.name for site in repo.list_sites(s)] == ["theirs"]
    assert _hidden(tmp_path) == []


def test_a_file_made_at_dest_during_the_copy_is_never_replaced(tmp_path: Path) -> None:
    source = _source(tmp_path)
    dest = tmp_path / "new.db"
    url = f"sqlite:///{dest}"
    made: list[bool] = []

    def progress(table: str, done: int, total: int) -> None:
        if done and not made:
            made.append(True)
            Database(url).dispose()  # another railwatch made DEST, empty

    with pytest.raises(StorageError) as caught:
        copy_database(source, url, batch=2, on_progress=progress)
    said = str(caught.value)
    assert said.startswith(f"{dest} was made by another process during the copy")
    assert "it was left as it is, and the copy, written to a hidden file beside it, was " in said
    assert "removed; nothing was copied" in said
    with Database(url, create=False) as db, db.session(readonly=True) as s:
        assert repo.list_sites(s) == []  # theirs, as made
    assert _hidden(tmp_path) == []


def test_a_copy_that_fails_names_dest_and_says_it_was_not_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from railwatch.storage import transfer

    source = _source(tmp_path)
    dest = tmp_path / "new.db"
    url = f"sqlite:///{dest}"

    def failing(engine: Any) -> None:  # as a full disk fails the schema
        raise StorageError(f"creating the schema failed ({engine.url}): database or disk is full")

    monkeypatch.setattr(transfer, "upgrade", failing)
    with pytest.raises(StorageError) as caught:
        copy_database(source, url)
    assert str(caught.value) == (
        f"creating the schema failed ({url}): database or disk is full; {dest} was not made "
        "(the copy was written to a hidden file beside it, removed)"
    )
    assert sorted(p.name for p in tmp_path.iterdir() if "new.db" in p.name) == []


def test_without_hard_links_the_copy_is_renamed_into_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file system that cannot link (FAT, some network ones): an interrupted copy
    leaves nothing at DEST either, and one that ends is moved there."""
    source = _source(tmp_path)
    dest = tmp_path / "new.db"

    def no_links(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)

    def ctrl_c(table: str, done: int, total: int) -> None:
        if done:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        copy_database(source, f"sqlite:///{dest}", batch=2, on_progress=ctrl_c)
    assert sorted(p.name for p in tmp_path.iterdir() if "new.db" in p.name) == []
    result = copy_database(source, f"sqlite:///{dest}")
    assert result.rows["scenes"] == 5 and result.dest == f"sqlite:///{dest}"
    assert sorted(p.name for p in tmp_path.iterdir() if "new.db" in p.name) == ["new.db"]
    with Database(f"sqlite:///{dest}", create=False) as db, db.session(readonly=True) as s:
        assert [site.name for site in repo.list_sites(s)] == ["wellington"]


# ------------------------------------------------ 3. what Ctrl-C says became of DEST


def _copy_db(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, " ".join(err.split())


def test_ctrl_c_before_anything_was_made_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from railwatch.storage import transfer

    source = _source(tmp_path)
    dest = tmp_path / "new.db"

    def held(*_args: object) -> None:  # Ctrl-C while the source's sites are taken
        raise KeyboardInterrupt

    monkeypatch.setattr(transfer, "_no_run", held)
    code, out, err = _copy_db(capsys, "--db", source, "copy-db", f"sqlite:///{dest}")
    assert (code, out) == (130, "")
    assert err.startswith(
        "railwatch copy-db was interrupted: the copy had not begun: nothing was made for "
        f"DEST, {dest}; the database copied from is as it was. Run the same command again"
    ), err
    assert "removed" not in err
    assert not dest.exists()


def test_ctrl_c_as_the_copy_ended_says_dest_holds_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from railwatch.storage import transfer

    source = _source(tmp_path)
    dest = tmp_path / "new.db"
    real = transfer._Staging.place

    def place_then_ctrl_c(self: Any) -> None:
        real(self)
        raise KeyboardInterrupt

    monkeypatch.setattr(transfer._Staging, "place", place_then_ctrl_c)
    code, _out, err = _copy_db(capsys, "--db", source, "copy-db", f"sqlite:///{dest}")
    assert code == 130
    assert err.startswith(
        f"railwatch copy-db was interrupted as the copy ended: DEST, {dest}, holds all of it, "
        "its rows checked on both sides; the database copied from is as it was; next: point "
        "railwatch at the copy"
    ), err
    with Database(f"sqlite:///{dest}", create=False) as db, db.session(readonly=True) as s:
        assert [site.name for site in repo.list_sites(s)] == ["wellington"]
    assert _hidden(tmp_path) == []


# ------------------------------------------ 4. a SQLite DEST is the file its path names


@pytest.mark.parametrize(
    ("dest", "words"),
    [
        ("sqlite:///c.db?mode=ro&uri=true", "has query parameters (mode, uri): the copy goes"),
        ("sqlite:///c.db?uri=true", "has query parameters (uri): "),
        ("sqlite:///c.db?vfs=unix-dotfile", "has query parameters (vfs): "),
        ("sqlite:///file:c.db", "names a SQLite URI (file:c.db) where the path of a file goes"),
    ],
)
def test_a_sqlite_dest_with_query_parameters_is_refused(
    dest: str,
    words: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = _source(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    code, out, err = _copy_db(capsys, "--db", source, "copy-db", dest)
    assert (code, out) == (2, "")
    assert err.startswith(f"error: DEST {dest!r} {words}"), err
    with pytest.raises(ConfigError, match="the destination sqlite:///"):
        copy_database(source, dest)
    assert list(work.iterdir()) == []  # nothing made, under any name


def test_a_dest_under_home_is_made_where_railwatch_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _source(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    code, out, err = _copy_db(capsys, "--db", source, "copy-db", "sqlite:///~/moved.db")
    assert code == 0, err  # was: unable to open database file ("~" taken as a folder)
    assert " ".join(out.split()).startswith(f"copied {source} to sqlite:///~/moved.db: 1 site")
    assert sorted(p.name for p in home.iterdir()) == ["moved.db"]
    # and into one there already, as every command opens it (in place)
    Database("sqlite:///~/there.db").dispose()
    assert (home / "there.db").exists() and not (tmp_path / "~").exists()
    code, _out, err = _copy_db(capsys, "--db", source, "copy-db", "sqlite:///~/there.db")
    assert code == 0, err
    there = f"sqlite:///{home / 'there.db'}"
    with Database(there, create=False) as db, db.session(readonly=True) as s:
        assert [site.name for site in repo.list_sites(s)] == ["wellington"]


# --------------------------------------------------- 5. psycopg's filter: the CLI's


FILTERS = """
import logging, sys
from railwatch.storage.db import Database, make_engine
make_engine("postgresql+psycopg://rw@127.0.0.1:1/railwatch").dispose()
Database(sys.argv[1]).dispose()
print("library", len(logging.getLogger("psycopg").filters))
from railwatch.cli.main import main
code = main(["--db", sys.argv[1], "site", "list"])
print("cli", len(logging.getLogger("psycopg").filters), code)
"""


def test_the_psycopg_filter_is_installed_by_the_cli_not_by_the_library(tmp_path: Path) -> None:
    pytest.importorskip("psycopg")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAILWATCH_")}
    done = subprocess.run(
        [sys.executable, "-c", FILTERS, f"sqlite:///{tmp_path / 'x.db'}"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    said = [line for line in done.stdout.splitlines() if line.startswith(("library", "cli"))]
    assert said == ["library 0", "cli 1 0"], done.stdout + done.stderr


# ------------------------------------------------ 6. ingest: of how many files found


def test_ingest_says_how_many_of_the_files_found_were_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from report_db import SITE_NAME
    from test_ops_leftovers_s51 import _drop

    monkeypatch.setenv("RAILWATCH_CACHE_DIR", str(tmp_path / "cache"))
    url, drop = _drop(tmp_path)  # a whole image, two being copied
    (drop / "a_2022-01-10.tif").unlink()
    (drop / "c_2022-01-30.tif").unlink()
    for name in ("x_2022-02-10.tif", "y_2022-02-20.tif"):  # text: refused at once
        (drop / name).write_text("not an image\n")
    code, _out, err = _copy_db(capsys, "--db", url, "ingest", SITE_NAME, str(drop))
    assert code == 1
    assert err.endswith(
        f"error: nothing ingested into site {SITE_NAME}: 2 of the 3 files were refused, for "
        "the reasons listed above; 1 file still being copied in is left for the next run "
        "(not a failure)"
    ), err  # was: "all 2 files were refused" of the three found
