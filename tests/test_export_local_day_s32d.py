"""The exports give each image's local day at its site beside its UTC time (session 32).

The analysis, alerts, report and API name an image by its local day at the site (its
nominal zone), but every GIS layer and the counts CSV gave only the UTC time: at a site
at 175°E (UTC+12) the image of 22:30 UTC on 2024-02-04 read 2024-02-04 in QGIS beside
its alert "50 railcars on 2024-02-05". Each layer now has ``day`` after the time, and
the sites layer ``local_zone``; the CSV still reads back (``analyze --counts``,
``scene import-reviews``).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from counted_site import LATE, LOCAL, UTC_DAY, WELLINGTON, add_counted_site, steady_then_rise
from railwatch.cli.main import main
from railwatch.export.layers import site_layers
from railwatch.storage import Database


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    add_counted_site(database, "akl", WELLINGTON, steady_then_rise(), detector="default")
    monkeypatch.setenv("RAILWATCH_DB", database.url)
    return database


def test_every_layer_has_the_local_day(db: Database) -> None:
    with db.session() as s:
        layers = site_layers(s, "akl")
    assert layers["sites"].records[0]["local_zone"] == "UTC+12"
    for name, column in (("scenes", "acquired"), ("counts", "date")):
        layer = layers[name]
        i = layer.columns.index(column)
        assert layer.columns[i + 1] == "day" and layer.types[i + 1] == "date"  # s34
        (last,) = [r for r in layer.records if r[column] == LATE]
        assert last["day"] == LOCAL, name
        assert all(r["day"] is not None for r in layer.records)


def test_the_csv_and_geojson_give_it_and_the_csv_reads_back(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "akl.csv"
    assert main(["export", "akl", "--format", "csv", "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    # the site's zone after its day since 2026-12-05 (session 33)
    assert list(rows[0])[:4] == ["date", "day", "local_zone", "scene_id"]
    assert rows[-1]["date"].startswith(UTC_DAY) and rows[-1]["day"] == LOCAL
    folder = tmp_path / "gj"
    assert main(["export", "akl", "--format", "geojson", "--out", str(folder)]) == 0
    scenes = json.loads((folder / "scenes.geojson").read_text())["features"]
    assert scenes[-1]["properties"]["day"] == LOCAL
    site = json.loads((folder / "sites.geojson").read_text())["features"][0]
    assert site["properties"]["local_zone"] == "UTC+12"
    capsys.readouterr()
    assert main(["analyze", "--counts", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)  # alerts, no "unknown column(s) day"
    # the export corrected in a spreadsheet: its last count made 51
    rows[-1]["count"] = "51"
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert main(["scene", "import-reviews", "akl", str(out)]) == 0
    assert f"scene {rows[-1]['scene_id']}: all 51" in capsys.readouterr().out
