"""An empty (or blank) GeoJSON file given to `site add --geojson`, `--tracks` or
`site edit --tracks` is said to be empty; it was "not valid JSON (line 1, column 1:
Expecting value)" with advice to convert it from another format."""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.cli.main import main

BBOX = "130.60,42.28,130.66,42.31"


@pytest.mark.parametrize("content", ["", " \n\t\n", "\ufeff"])
@pytest.mark.parametrize("option", ["--geojson", "--tracks", "edit --tracks"])
def test_an_empty_file_is_said_to_be_empty(
    tmp_path: Path,
    tmp_db_url: str,
    capsys: pytest.CaptureFixture[str],
    content: str,
    option: str,
) -> None:
    path = tmp_path / "yard.geojson"
    path.write_text(content, encoding="utf-8")
    db = ("--db", tmp_db_url)
    if option == "--geojson":
        argv = ["site", "add", "yard", "--geojson", str(path)]
    elif option == "--tracks":
        argv = ["site", "add", "yard", "--bbox", BBOX, "--tracks", str(path)]
    else:
        assert main([*db, "site", "add", "yard", "--bbox", BBOX]) == 0
        argv = ["site", "edit", "yard", "--tracks", str(path)]
    capsys.readouterr()
    code = main([*db, *argv])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2
    assert f"file {path} is empty, with no GeoJSON in it: export it again" in err
    assert "not valid JSON" not in err and "convert it" not in err
