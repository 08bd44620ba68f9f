"""`--tracks -` reads the track centrelines from standard input, as `--geojson -` reads
the polygon (`site add` and `site edit`); '-' was taken for a file name ("tracks file
not found: -"). Both options cannot read the one standard input."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from railwatch.cli.main import main

BBOX = "130.60,42.28,130.66,42.31"
LINES = json.dumps({"type": "LineString", "coordinates": [[130.61, 42.29], [130.65, 42.30]]})


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, " ".join(out.split()), " ".join(err.split())


def _tracks(capsys: pytest.CaptureFixture[str], db: tuple[str, str], name: str) -> bool:
    code, out, _ = run(capsys, *db, "site", "show", name, "--json")
    assert code == 0
    return bool(json.loads(out)["tracks"])


def test_site_add_reads_the_tracks_piped_in(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = ("--db", tmp_db_url)
    monkeypatch.setattr("sys.stdin", io.StringIO("\ufeff" + LINES))
    code, out, err = run(capsys, *db, "site", "add", "yard", "--bbox", BBOX, "--tracks", "-")
    assert code == 0, err
    assert "with track centrelines" in out
    assert _tracks(capsys, db, "yard")


def test_site_edit_reads_the_tracks_piped_in(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = ("--db", tmp_db_url)
    assert main([*db, "site", "add", "yard", "--bbox", BBOX]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(LINES))
    code, out, err = run(capsys, *db, "site", "edit", "yard", "--tracks", "-")
    assert code == 0, err
    assert "track centrelines added (1 line)" in out
    assert _tracks(capsys, db, "yard")


def test_empty_input_and_two_readers_are_refused(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = ("--db", tmp_db_url)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, _, err = run(capsys, *db, "site", "add", "yard", "--bbox", BBOX, "--tracks", "-")
    assert code == 2 and "--tracks -: standard input is empty" in err
    monkeypatch.setattr("sys.stdin", io.StringIO(LINES))
    code, _, err = run(capsys, *db, "site", "add", "yard", "--geojson", "-", "--tracks", "-")
    assert code == 2 and "both read standard input" in err
    # nothing added: no database made either
    assert not Path(tmp_db_url.removeprefix("sqlite:///")).exists()
