"""A scene whose file is gone is told to ingest it again with its site's name, not the
placeholder SITE (session 41): `railwatch process` named the site for centrelines only."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.counting import name_site
from test_followup2_s40 import no_tracks  # noqa: F401 (the fixture: a site without tracks)


def test_name_site_names_the_site_in_the_ingest_advice() -> None:
    said = name_site(
        "gone.tif: no such file: ingest it (`railwatch ingest SITE FOLDER`: ...)", "yard"
    )
    assert "`railwatch ingest yard FOLDER`" in said and "SITE" not in said
    # the centrelines' advice as before
    assert "site edit yard --tracks" in name_site(
        "(`railwatch site edit SITE --tracks FILE`)", "yard"
    )


def test_process_names_the_site_for_a_file_that_is_gone(
    no_tracks: dict[str, object],  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    src = Path(str(no_tracks["url"]).removeprefix("sqlite:///"))
    with sqlite3.connect(src) as a, sqlite3.connect(tmp_path / "rw.db") as b:
        a.backup(b)
    a.close()
    b.close()
    capsys.readouterr()
    assert main(["--db", f"sqlite:///{tmp_path / 'rw.db'}", "process", "yard"]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert f"scene {no_tracks['gone']} failed:" in out
    assert "`railwatch ingest yard FOLDER`" in out and "`railwatch ingest SITE" not in out
