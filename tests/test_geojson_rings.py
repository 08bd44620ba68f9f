"""RFC 7946 section 3.1.6: exterior rings run counter-clockwise in every GeoJSON railwatch
writes from stored geometries (the web API's car polygons and scene footprints; the
GeoJSON export is checked in test_export_gis.py). Stored rings come from image grids whose
rows run south, so they are clockwise."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import shapely
from shapely.geometry import Polygon

from railwatch.storage.serialize import geojson_geometry

pytest.importorskip("fastapi")

CW = Polygon([(130.0, 42.0), (130.0, 42.001), (130.002, 42.001), (130.002, 42.0)])


def test_stored_rings_are_clockwise_here() -> None:
    assert not CW.exterior.is_ccw


def test_geojson_geometry_turns_exterior_rings_counter_clockwise() -> None:
    ring = geojson_geometry(CW)["coordinates"][0]
    assert shapely.LinearRing(ring).is_ccw
    assert shapely.Polygon(ring).equals(CW)  # the same polygon
    holed = Polygon(
        CW.exterior.coords, [[(130.0005, 42.0002), (130.001, 42.0002), (130.001, 42.0006)]]
    )
    out = geojson_geometry(holed)["coordinates"]
    assert shapely.LinearRing(out[0]).is_ccw and not shapely.LinearRing(out[1]).is_ccw


def test_web_detections_are_counter_clockwise() -> None:
    from railwatch.web.routes.detections import _features

    row = SimpleNamespace(
        id=1,
        cls="tank",
        score=0.9,
        covered=False,
        covered_score=0.1,
        inside=True,
        geometry_wkb=shapely.to_wkb(CW),
    )
    (feature,) = _features([row])
    ring = feature["geometry"]["coordinates"][0]
    assert shapely.LinearRing(ring).is_ccw and shapely.Polygon(ring).equals(CW)
