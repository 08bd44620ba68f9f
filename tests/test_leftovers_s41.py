"""Small faults left by session 40's reviews (session 41).

1. The GIS exports' scenes, detections and occupied_track layers gave each image's local
   ``day`` without the zone it is in: the sites layer and the counts had ``local_zone``,
   so a scenes or detections GeoJSON loaded alone in QGIS did not say which zone its
   days were in.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shapely.geometry import box

from counted_site import LATE, LOCAL, WELLINGTON, add_counted_site, steady_then_rise
from railwatch.cli.main import main
from railwatch.storage import Database, repo
from railwatch.storage.models import Detection, to_wkb

#: each layer with an image's time, and that time's column
TIMED = {"scenes": "acquired", "detections": "acquired", "occupied_track": "date", "counts": "date"}


@pytest.fixture
def zoned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    """A UTC+12 site whose last image has a car and a stretch of occupied track."""
    database = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    add_counted_site(database, "akl", WELLINGTON, steady_then_rise()[-3:])
    with database.session() as s:
        (scene,) = [sc for sc in repo.list_scenes(s, "akl") if sc.acquired_at == LATE]
        car = box(175.004, -41.296, 175.0041, -41.2959)
        s.add(
            Detection(
                scene_id=scene.id, cls="boxcar", score=0.9, geometry_wkb=to_wkb(car),
                native_wkb=to_wkb(car), native_crs="EPSG:4326",
            )
        )  # fmt: skip
        line = [[175.002, -41.295], [175.008, -41.295]]
        run = {"length_m": 500.0, "coordinates": line}
        scene.meta = {repo.COARSE_KEY: {"tracks": "given", "track_m": 500.0, "occupied": [run]}}
    monkeypatch.setenv("RAILWATCH_DB", database.url)
    return database


def test_every_timed_layer_names_the_zone_of_its_days(zoned: Database) -> None:
    from railwatch.export.layers import site_layers

    with zoned.session() as s:
        layers = site_layers(s, "akl")
    for name, column in TIMED.items():
        layer = layers[name]
        assert layer.records, name
        i = layer.columns.index(column)
        # the time, its local day, the zone that day is in: as the counts have had them
        assert layer.columns[i + 1 : i + 3] == ("day", "local_zone"), name
        assert layer.types[i + 2] == "str", name
        assert {r["local_zone"] for r in layer.records} == {"UTC+12"}, name
        last = [r for r in layer.records if r[column] == LATE]
        assert last and all(r["day"] == LOCAL for r in last), name


def test_a_geojson_layer_alone_says_its_zone(zoned: Database, tmp_path: Path) -> None:
    folder = tmp_path / "gj"
    assert main(["export", "akl", "--format", "geojson", "--out", str(folder)]) == 0
    for name in ("scenes", "detections", "occupied_track"):
        feats = json.loads((folder / f"{name}.geojson").read_text(encoding="utf-8"))["features"]
        assert feats, name
        assert all(f["properties"]["local_zone"] == "UTC+12" for f in feats), name
