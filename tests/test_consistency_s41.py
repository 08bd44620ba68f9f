"""Places where two parts of railwatch said or did one thing two ways (session 41,
2026-12-06), one test group each.

1. ``railwatch restore`` into an existing database file of 0 bytes asked for --yes
   "to replace the database", though nothing is replaced (as into a missing file,
   49cbe2b); a file with anything in it is still asked about."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo
from railwatch.storage.backup import backup, restore


def _database(path: Path) -> str:
    url = f"sqlite:///{path}"
    with Database(url) as db, db.session() as s:
        repo.add_site(s, site_from_bbox("yard", (130.60, 42.40, 130.61, 42.41)))
    return url


# ------------------------------------------------------------ 1. restore into an empty file


def test_restore_into_an_empty_file_asks_nothing_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tmp_path = tmp_path.resolve()
    saved = backup(_database(tmp_path / "live.db"), tmp_path / "bk.db").path
    empty = tmp_path / "empty.db"
    empty.touch()
    # standard input is not a terminal here: a question would refuse it (status 2)
    assert main(["--db", f"sqlite:///{empty}", "restore", str(saved)]) == 0
    out = capsys.readouterr().out
    assert f"restored {empty} from" in out
    assert "the database file there was empty (0 bytes): nothing was replaced" in out
    assert "kept in" not in out
    with Database(f"sqlite:///{empty}") as db, db.session(readonly=True) as s:
        assert [site.name for site in repo.list_sites(s)] == ["yard"]
    # now it holds a database: asked again, refused without --yes
    assert main(["--db", f"sqlite:///{empty}", "restore", str(saved)]) == 2
    assert "pass --yes to confirm" in capsys.readouterr().err


def test_restore_json_into_an_empty_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tmp_path = tmp_path.resolve()
    saved = backup(_database(tmp_path / "live.db"), tmp_path / "bk.db").path
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    assert main(["--db", f"sqlite:///{empty}", "restore", str(saved), "--json"]) == 0
    said = json.loads(capsys.readouterr().out)
    assert said["created"] is True and said["was_empty"] is True and said["kept"] is None


def test_restore_into_a_non_empty_file_still_asks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tmp_path = tmp_path.resolve()
    saved = backup(_database(tmp_path / "live.db"), tmp_path / "bk.db").path
    other = tmp_path / "other.db"
    other.write_bytes(b"x")  # one byte: not a database, but not nothing either
    assert main(["--db", f"sqlite:///{other}", "restore", str(saved)]) == 2
    assert "pass --yes to confirm" in capsys.readouterr().err
    assert other.read_bytes() == b"x"
    # 0 bytes beside a write-ahead log that holds something: may hold a database
    walled = tmp_path / "walled.db"
    walled.touch()
    (tmp_path / "walled.db-wal").write_bytes(b"x")
    assert main(["--db", f"sqlite:///{walled}", "restore", str(saved)]) == 2
    assert "pass --yes to confirm" in capsys.readouterr().err


def test_library_restore_into_an_empty_file_says_created(tmp_path: Path) -> None:
    saved = backup(_database(tmp_path / "live.db"), tmp_path / "bk.db").path
    empty = tmp_path / "empty.db"
    empty.touch()
    result = restore(f"sqlite:///{empty}", saved)
    assert result.created and result.was_empty and result.kept is None
    again = restore(f"sqlite:///{empty}", saved)  # a database now: kept, not created
    assert not again.created and not again.was_empty and again.kept is not None
