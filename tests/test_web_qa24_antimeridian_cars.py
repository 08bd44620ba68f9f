"""The detections answer serves a car across 180° longitude split there (session 24).

Such a car is stored as one WGS84 ring from about -180 to 180 (storage/records.py); the
map drew it as a band round the world."""

from __future__ import annotations

from types import SimpleNamespace

import shapely
from shapely.geometry import MultiPolygon, Polygon, shape

from railwatch.web.routes.detections import _features


def _row(i: int, poly: Polygon) -> SimpleNamespace:
    return SimpleNamespace(
        id=i,
        geometry_wkb=shapely.to_wkb(poly),
        cls="tank",
        score=0.9,
        covered=False,
        covered_score=0.1,
        inside=True,
    )


def test_a_car_across_180_is_served_as_a_multipolygon_and_others_as_before() -> None:
    across = Polygon(
        [(179.99995, -16.8), (-179.99990, -16.8), (-179.99990, -16.80003), (179.99995, -16.80003)]
    )
    plain = Polygon([(179.9, -16.8), (179.9001, -16.8), (179.9001, -16.80003), (179.9, -16.80003)])
    feats = _features([_row(1, plain), _row(2, across)])
    assert feats[0]["geometry"]["type"] == "Polygon"
    geom = feats[1]["geometry"]
    assert geom["type"] == "MultiPolygon" and len(geom["coordinates"]) == 2
    parts = shape(geom)
    assert isinstance(parts, MultiPolygon)
    lo, _, hi, _ = parts.bounds
    assert lo >= -180 and hi <= 180
    # a car's size, not a band round the world: about 15 m of longitude in all
    widths = [g.bounds[2] - g.bounds[0] for g in parts.geoms]
    assert 0.0001 < sum(widths) < 0.0003
    # RFC 7946: exterior rings counter-clockwise
    assert all(g.exterior.is_ccw for g in parts.geoms)
    assert feats[1]["properties"]["class"] == "tank" and feats[1]["id"] == 2
