"""``railwatch export``'s counts table says ``reviewed`` for every image (2026-12-06,
session 37): true where the count is an analyst's or the analyst declared the image
unusable, false for every other image, one the quality check refused and a failed one
too, as ``process --json`` and the API's ``reviewed`` say. It was blank (CSV; null in
GeoJSON and the GeoPackage) for the images refused by the quality check and the failed
ones."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest

from railwatch.export.gis import export_site
from railwatch.storage import Database, repo
from test_scene_review import _scene


@pytest.fixture
def site(tmp_path: Path) -> tuple[Database, dict[str, int]]:
    db = Database(f"sqlite:///{tmp_path / 'reviewed.db'}")
    ids = {
        "counted": _scene(db),
        "count_reviewed": _scene(db),
        "refused": _scene(db, count=None),  # unusable by the quality check
        "failed": _scene(db),
        "declared": _scene(db),
    }
    with db.session() as s:
        repo.set_scene_review(s, ids["count_reviewed"], {"all": 70})
        repo.mark_scene_failed(s, ids["failed"], "cannot read the file")
        repo.set_scene_unusable_review(s, ids["declared"], "night image")
    return db, ids


EXPECTED = {
    "counted": False,
    "count_reviewed": True,
    "refused": False,
    "failed": False,
    "declared": True,
}


def test_csv_reviewed_is_true_or_false_for_every_image(
    site: tuple[Database, dict[str, int]], tmp_path: Path
) -> None:
    db, ids = site
    out = export_site(db, "yard", "csv", tmp_path / "counts.csv")
    with out.open(newline="") as fh:
        rows = {int(r["scene_id"]): r for r in csv.DictReader(fh)}
    got = {name: rows[sid]["reviewed"] for name, sid in ids.items()}
    assert got == {name: "true" if v else "false" for name, v in EXPECTED.items()}
    assert rows[ids["refused"]]["status"] == "unusable"
    assert rows[ids["failed"]]["status"] == "failed"
    db.dispose()


def test_geojson_reviewed_is_a_boolean_for_every_image(
    site: tuple[Database, dict[str, int]], tmp_path: Path
) -> None:
    db, ids = site
    out = export_site(db, "yard", "geojson", tmp_path / "yard")
    doc = json.loads((out / "counts.geojson").read_text())
    rows = {f["properties"]["scene_id"]: f["properties"] for f in doc["features"]}
    assert {name: rows[sid]["reviewed"] for name, sid in ids.items()} == EXPECTED
    db.dispose()


def test_geopackage_reviewed_is_a_boolean_for_every_image(
    site: tuple[Database, dict[str, int]], tmp_path: Path
) -> None:
    db, ids = site
    out = export_site(db, "yard", "gpkg", tmp_path / "yard.gpkg")
    with sqlite3.connect(out) as con:
        rows = dict(con.execute("SELECT scene_id, reviewed FROM counts").fetchall())
    assert {name: rows[sid] for name, sid in ids.items()} == {
        name: int(v) for name, v in EXPECTED.items()
    }
    db.dispose()
