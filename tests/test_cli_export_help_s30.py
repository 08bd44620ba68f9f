"""`railwatch export --help` names the five layers of a GIS export: it listed four
("sites, scenes, detections and counts"; "gpkg: one GeoPackage with those four layers")
after the occupied_track layer was added (0f79506, docs/reports.md "GIS exports")."""

from __future__ import annotations

import pytest

from railwatch.cli.main import main
from railwatch.export.layers import site_layers
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo

LAYERS = ("sites", "scenes", "detections", "occupied_track", "counts")


def test_export_help_lists_every_layer(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["export", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.replace("│", " ").split())
    assert "four" not in text
    assert "gpkg: one GeoPackage with those five layers (counts as a table)" in text
    assert "occupied_track (lines: the stretches of track a 1.5-10 m image's length" in text
    listed = text[text.index("Export a site's layers:") : text.index("gpkg: one")]
    assert [name for name in LAYERS if name in listed] == list(LAYERS)


def test_the_layers_named_are_those_written(tmp_db_url: str) -> None:
    """The help's five names are the layers the export writes (a sixth needs the help
    changed too)."""
    with Database(tmp_db_url) as db, db.session() as s:
        repo.add_site(s, site_from_bbox("yard", "130.6072,42.4208,130.6090,42.4220"))
        s.flush()
        assert set(site_layers(s, "yard")) == set(LAYERS)
