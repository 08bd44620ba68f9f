"""``railwatch copy-db DEST`` (2026-12-07, session 46): the database of ``--db`` copied
whole into a new, empty one from the command line (``storage.transfer.copy_database``
had no command: an operator needed Python), with a progress bar, what was copied and
what to do next, ``--json`` and its refusals said as errors; and the exit status of a
bad ``--workers`` or ``--scheduler`` (1, while a bad option value is 2 by the README's
rule and ``--workers 0`` was 2 already).
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from _cli_proc import run_cli
from railwatch.cli.main import main
from railwatch.storage import Database
from railwatch.storage.transfer import copy_database
from test_walk_scale_s46 import _all_rows, _history


@pytest.fixture
def laptop(tmp_path: Path) -> str:
    """A SQLite database with one site's history (121 scenes, events, alerts, a review)."""
    url = f"sqlite:///{tmp_path / 'laptop.db'}"
    _history(url)
    return url


def _copy(
    capsys: pytest.CaptureFixture[str], source: str, dest: str, *more: str
) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--db", source, "copy-db", dest, *more])
    out, err = capsys.readouterr()
    return code, out, err


def _no_rows(url: str) -> bool:
    return all(not rows for rows in _all_rows(url).values())


# --- the copy ------------------------------------------------------------------------


def test_copy_db_copies_every_row_and_says_what_and_what_next(
    laptop: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = f"sqlite:///{tmp_path / 'moved.db'}"
    code, out, err = _copy(capsys, laptop, dest)
    assert code == 0, err
    assert _all_rows(dest) == _all_rows(laptop)
    said = " ".join(out.split())
    assert said.startswith(f"copied {laptop} to {dest}: 1 site, 121 scenes, ")
    assert "rows in 7 tables (sites 1, events 1, scenes 121, " in said
    assert "the rows of each table checked equal on both sides" in said
    assert "next: point railwatch at the copy, with --db before the command" in said
    assert f"(railwatch --db {dest} site list)" in said
    assert f"export RAILWATCH_DB={dest}" in said
    assert "keep it as the backup of the move" in said
    assert "*** stands for" not in said  # no password in the URL
    assert "error" not in err


def test_copy_db_json_is_one_json_document_on_stdout(laptop: str, tmp_path: Path) -> None:
    """Run as a script would (own process, stdout a pipe, NO_COLOR, TERM=dumb): stdout is
    one JSON document and nothing else (tests/test_cli_consistency_s35.py's rule)."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "FORCE_COLOR")}
    env.update(NO_COLOR="1", TERM="dumb", RAILWATCH_PROGRESS_SECONDS="0.000001")
    dest = f"sqlite:///{tmp_path / 'moved.db'}"
    done = run_cli(["--db", laptop, "copy-db", dest, "--json"], tmp_path, env)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["source"] == laptop and data["dest"] == dest
    assert data["sites"] == 1 and data["scenes"] == 121 and data["checked"] is True
    assert data["rows"] == {t: len(rows) for t, rows in _all_rows(laptop).items()}
    assert data["total_rows"] == sum(data["rows"].values())
    assert "\x1b[" not in done.stdout + done.stderr
    assert "copying" in done.stderr  # progress in a log: on stderr, never on stdout
    assert "error" not in done.stderr


@pytest.mark.services
def test_copy_db_sqlite_to_postgresql(
    laptop: str, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.storage.db import mask_password

    code, out, err = _copy(capsys, laptop, postgres_url, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["dest"] == mask_password(postgres_url)
    assert _all_rows(postgres_url) == _all_rows(laptop)
    assert data["rows"]["scenes"] == 121
    db = Database(postgres_url)  # the copy is a railwatch database that works on
    try:
        from datetime import date

        from railwatch.storage import repo

        with db.session() as s:
            assert repo.add_event(s, "wellington", date(2024, 1, 22), "moved").id == 3
    finally:
        db.dispose()
    code, out, err = _copy(capsys, laptop, postgres_url)  # now it holds rows
    assert code == 1 and out == ""
    said = " ".join(err.split())
    assert said.startswith("error: database postgresql+psycopg://")
    assert "is not empty (sites 1, events 2, scenes 121" in said
    assert "createdb NEW" in said and "nothing was copied" in said


def test_the_python_call_reports_progress_without_changing_the_copy(
    laptop: str, tmp_path: Path
) -> None:
    seen: list[tuple[str, int, int]] = []
    result = copy_database(
        laptop,
        f"sqlite:///{tmp_path / 'moved.db'}",
        batch=50,
        on_progress=lambda table, done, total: seen.append((table, done, total)),
    )
    total = sum(result.rows.values())
    assert seen[0] == ("sites", 0, total)
    assert seen[-1][1:] == (total, total)
    dones = [done for _, done, _ in seen]
    assert dones == sorted(dones) and len(seen) > 7  # scenes and counts in 3 batches each
    assert {table for table, _, _ in seen} >= {"sites", "scenes", "counts"}
    plain = copy_database(laptop, f"sqlite:///{tmp_path / 'plain.db'}")
    assert plain.rows == result.rows
    assert _all_rows(f"sqlite:///{tmp_path / 'moved.db'}") == _all_rows(laptop)


# --- refusals --------------------------------------------------------------------------


def test_a_destination_not_empty_is_refused_saying_how_to_name_a_new_file(
    laptop: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = f"sqlite:///{tmp_path / 'moved.db'}"
    assert _copy(capsys, laptop, dest)[0] == 0
    before = _all_rows(dest)
    code, out, err = _copy(capsys, laptop, dest)
    assert code == 1 and out == ""
    assert err.startswith(f"error: database {dest} is not empty (sites 1, events 1, scenes 121")
    assert "a file not there yet, sqlite:///NEW.db" in err and "createdb" not in err
    assert "nothing was copied" in err and err.count("\n") == 1
    assert _all_rows(dest) == before


def test_the_same_database_is_refused(laptop: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _copy(capsys, laptop, laptop)
    assert (code, out) == (1, "")
    assert err == (
        f"error: the source and the destination are the same database ({laptop}): give a "
        "new, empty one as the destination\n"
    )


def test_a_source_that_is_not_there_is_said_as_every_command_says_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = _copy(
        capsys, f"sqlite:///{tmp_path / 'nope.db'}", f"sqlite:///{tmp_path / 'x.db'}"
    )
    assert code == 1
    assert err.startswith(f"error: no database at {tmp_path / 'nope.db'} (--db sqlite:///")
    assert "`railwatch copy-db` works on an existing database and created none" in err
    assert not (tmp_path / "nope.db").exists()


def test_a_source_held_by_a_run_is_refused(
    laptop: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.pipeline import processing_lock

    dest = f"sqlite:///{tmp_path / 'moved.db'}"
    db = Database(laptop)
    try:
        with processing_lock(db, ["wellington"]):
            code, out, err = _copy(capsys, laptop, dest)
    finally:
        db.dispose()
    assert (code, out) == (75, "")  # busy: run again later (session 48)
    assert err.startswith(
        "error: site 'wellington' is being processed by a railwatch run: let it finish "
        "(or stop it), then copy the database; nothing was copied"
    )
    # DEST is not made (session 51: a new file was left with empty tables)
    assert not (tmp_path / "moved.db").exists()


@pytest.mark.parametrize(
    ("dest", "words"),
    [
        ("moved.db", "DEST 'moved.db' is not a database URL: write sqlite:///moved.db"),
        ("sqlite://", "DEST 'sqlite://' is an in-memory SQLite database"),
        ("sqlite:///:memory:", "is an in-memory SQLite database: the copy would be lost"),
        ("", "DEST is empty: give the database to copy into"),
    ],
)
def test_a_destination_that_is_no_database_url_is_a_bad_argument(
    laptop: str, dest: str, words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _copy(capsys, laptop, dest)
    assert (code, out) == (2, "")
    assert err.startswith("error: ") and words in err
    assert not (tmp_path / "moved.db").exists()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_destination_names_dest_as_the_url_to_check(
    laptop: str, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = f"postgresql+psycopg://rw:secret@127.0.0.1:{_closed_port()}/railwatch"
    code, out, err = _copy(capsys, laptop, dest)
    assert (code, out) == (1, "")
    said = " ".join(err.split())
    assert said.startswith("error: cannot connect to database postgresql+psycopg://rw:***@")
    assert "nothing listens there" in said
    assert said.endswith("(the database URL: DEST, copy-db's argument)")
    assert "RAILWATCH_DB" not in said and "secret" not in said


def test_a_destination_folder_not_there_names_dest(
    laptop: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = f"sqlite:///{tmp_path / 'no' / 'moved.db'}"
    code, _out, err = _copy(capsys, laptop, dest)
    assert code == 1
    assert f"folder {tmp_path / 'no'} does not exist" in err
    assert err.rstrip().endswith("or give another database URL (DEST, copy-db's argument)")


def test_an_unreachable_source_still_names_db_and_railwatch_db(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = f"postgresql+psycopg://rw@127.0.0.1:{_closed_port()}/railwatch"
    code, _out, err = _copy(capsys, source, f"sqlite:///{tmp_path / 'x.db'}")
    assert code == 1
    assert "cannot connect to database postgresql+psycopg://rw@127.0.0.1:" in err
    assert "--db URL on the command line, else the RAILWATCH_DB" in " ".join(err.split())
    assert "copy-db's argument" not in err


def test_an_interrupted_copy_says_dest_holds_none_of_it(
    laptop: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from railwatch.storage import transfer

    real = transfer._set_next_id
    calls: list[str] = []

    def ctrl_c(conn: object, table: object, highest: int) -> None:
        calls.append(getattr(table, "name", ""))
        if len(calls) == 3:  # sites, events and scenes written, in the transaction
            raise KeyboardInterrupt
        real(conn, table, highest)  # type: ignore[arg-type]

    monkeypatch.setattr(transfer, "_set_next_id", ctrl_c)
    dest = f"sqlite:///{tmp_path / 'moved.db'}"
    code, out, err = _copy(capsys, laptop, dest)
    assert code == 130 and out == ""
    said = " ".join(err.split())
    # no file at DEST: the copy went to a hidden file beside it, removed (session 51:
    # left with empty tables; its review: written beside DEST, put there once whole)
    assert said.startswith(
        f"railwatch copy-db was interrupted: DEST, {tmp_path / 'moved.db'}, was not made: "
        "the copy was being written to a hidden file beside it, which was removed"
    )
    assert sorted(p.name for p in tmp_path.iterdir() if "moved" in p.name) == []
    assert "Run the same command again to copy." in said
    assert said.endswith("Interrupted.")  # no "scenes recorded so far": none were
    # into an empty database that was there: it holds none of the copy, and stays
    calls.clear()
    Database(dest).dispose()
    code, out, err = _copy(capsys, laptop, dest)
    assert code == 130 and out == ""
    assert " ".join(err.split()).startswith(
        "railwatch copy-db was interrupted: DEST is written in one transaction, so it holds "
        "none of the copy"
    )
    assert _no_rows(dest)


# --- --workers and --scheduler: a bad value is status 2 -------------------------------


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--workers", "100000"], "--workers 100000 would start 100000 worker processes"),
        (["--scheduler", "127.0.0.1:8786"], "has no scheme: write tcp://127.0.0.1:8786"),
        (["--scheduler", "tcp://127.0.0.1"], "does not end in HOST:PORT"),
        (["--workers", "2", "--scheduler", "tcp://h:1"], "pass either --workers or --scheduler"),
    ],
)
def test_a_bad_workers_or_scheduler_value_is_status_2(
    tmp_path: Path, options: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """README, "Exit status": 2 for a bad value on the command line (``--workers 0``,
    refused by the option itself, was 2 already); these were 1, as a settings problem."""
    from railwatch.distributed import ClusterOptionError
    from railwatch.errors import ConfigError, InputError
    from test_distributed import setup_db

    assert issubclass(ClusterOptionError, ConfigError)  # callers catching it still do
    assert issubclass(ClusterOptionError, InputError)
    db = f"sqlite:///{tmp_path / 'rw.db'}"
    setup_db(db, tmp_path, 1).dispose()
    capsys.readouterr()
    code = main(["--db", db, "process", "yard", *options])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and words in " ".join(err.split())
    assert "internal error" not in err
    assert not (tmp_path / "rw.db.locks").exists()  # refused before the site was held


def test_one_row_is_said_in_the_singular(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A database of one site and nothing else: "1 row", not "1 rows" (session 46 review)."""
    source = f"sqlite:///{tmp_path / 'one.db'}"
    assert main(["--db", source, "site", "add", "yard", "--bbox", "10,50,10.01,50.01"]) == 0
    code, out, err = _copy(capsys, source, f"sqlite:///{tmp_path / 'moved.db'}")
    assert code == 0, err
    assert ": 1 site, 0 scenes, 1 row in 7 tables (sites 1, " in " ".join(out.split())
