"""GeoJSON export precision (2026-12-06, session 35).

``railwatch export SITE -f geojson`` wrote every coordinate at full double precision
(129.60833042729857: nanometres), where ``railwatch detect -o`` already rounds to the
CRS's unit (``detect.geojson.coordinate_digits``: 8 decimals in degrees, 1.1 mm) as
RFC 7946 section 11.2 advises. The export now rounds the same way; what is read back
from it (the detections for ``scene review --cars``) keeps its cars to the millimetre.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pyogrio
import pytest
from shapely.geometry import shape

from railwatch.export.gis import export_site
from railwatch.review import cars_from_feature_collection
from railwatch.storage import Database, repo
from report_db import SITE_NAME, populate

#: A number with more than 8 decimals in a GeoJSON text.
_LONG = re.compile(r"\d\.\d{9,}")


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Database, Path]:
    tmp = tmp_path_factory.mktemp("precision")
    db = Database(f"sqlite:///{tmp / 'rw.db'}")
    populate(db, tmp / "scenes")
    export_site(db, SITE_NAME, "geojson", tmp / "geojson")
    export_site(db, SITE_NAME, "gpkg", tmp / "x.gpkg")
    return db, tmp


def _coordinates(fc: dict[str, Any]) -> str:
    return json.dumps([f["geometry"] for f in fc["features"] if f["geometry"] is not None])


@pytest.mark.parametrize("layer", ["sites", "scenes", "detections", "occupied_track"])
def test_geojson_coordinates_have_at_most_8_decimals(
    exported: tuple[Database, Path], layer: str
) -> None:
    _, tmp = exported
    fc = json.loads((tmp / "geojson" / f"{layer}.geojson").read_text(encoding="utf-8"))
    text = _coordinates(fc)
    assert not _LONG.findall(text), _LONG.findall(text)[:3]
    # the same shapes as the GeoPackage's (full doubles) within half a step of 1e-8 deg a coordinate
    gpkg = pyogrio.read_dataframe(tmp / "x.gpkg", layer=layer)
    assert len(gpkg) == len(fc["features"])
    for feature, full in zip(fc["features"], gpkg.geometry, strict=True):
        ours = shape(feature["geometry"])
        assert ours.geom_type == full.geom_type or full.geom_type.startswith("Multi")
        assert ours.hausdorff_distance(full) <= 0.71e-8  # half a step in x and y
        assert ours.is_valid


def test_detections_read_back_by_a_review_keep_the_cars(exported: tuple[Database, Path]) -> None:
    """The exported detections of one scene read as an analyst's outlines (scene review
    --cars): the same cars, each centre within 2 mm of a stored one, the same classes."""
    db, tmp = exported
    fc = json.loads((tmp / "geojson" / "detections.geojson").read_text(encoding="utf-8"))
    one = {
        "type": "FeatureCollection",
        "features": [f for f in fc["features"] if f["properties"]["scene_id"] == 1],
    }
    with db.session(readonly=True) as s:
        scene = repo.get_scene(s, 1)
        stored = [(d.cls, d.native_geometry.centroid) for d in repo.list_detections(s, 1)]
        cars = cars_from_feature_collection(one, scene, scene.site)
    assert len(cars) == len(stored) > 0
    for car in cars:
        centre = car.native_polygon.centroid
        cls, nearest = min(stored, key=lambda sc: sc[1].distance(centre))
        assert nearest.distance(centre) < 0.002
        assert car.cls == cls
