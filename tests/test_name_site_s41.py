"""A scene whose file is gone is told to ingest it again with its site's name, not the
placeholder SITE (session 41): `railwatch process` named the site for centrelines only."""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.counting import name_site
from test_followup2_s40 import no_tracks  # noqa: F401 (the fixture: a site without tracks)
from test_leftovers_s41 import copy_db


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
    url = copy_db(str(no_tracks["url"]), tmp_path).url
    capsys.readouterr()
    assert main(["--db", url, "process", "yard"]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert f"scene {no_tracks['gone']} failed:" in out
    assert "`railwatch ingest yard FOLDER`" in out and "`railwatch ingest SITE" not in out
