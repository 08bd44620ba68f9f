"""A site's area whichever way its rings are drawn: holes are taken out, and the parts
of a multi-part site add up (pyproj signs each ring's area by its direction)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shapely.geometry import MultiPolygon, Polygon, box

from railwatch.cli.main import main
from railwatch.sites import site_area_km2, site_from_geojson

YARD = box(130.60, 42.28, 130.66, 42.31)  # about 16.49 km²
HOLE = box(130.62, 42.29, 130.63, 42.30)  # about 0.92 km²


def _ring(poly: Polygon, *, ccw: bool) -> list[list[float]]:
    coords = [list(c) for c in poly.exterior.coords]
    return coords if poly.exterior.is_ccw == ccw else coords[::-1]


@pytest.mark.parametrize("ccw", [True, False])
def test_a_hole_drawn_like_its_outer_ring_is_taken_out(ccw: bool) -> None:
    # both rings in one direction (QGIS, hand-written files): the hole was added
    data = {"type": "Polygon", "coordinates": [_ring(YARD, ccw=ccw), _ring(HOLE, ccw=ccw)]}
    spec = site_from_geojson("holed", data)
    expected = site_area_km2(YARD) - site_area_km2(HOLE)
    assert spec.area_km2 == pytest.approx(expected, rel=1e-9)
    assert spec.area_km2 < site_area_km2(YARD)


def test_parts_drawn_in_opposite_directions_add_up() -> None:
    west, east = box(130.60, 42.28, 130.62, 42.30), box(130.64, 42.28, 130.66, 42.295)
    geom = MultiPolygon([Polygon(_ring(west, ccw=True)), Polygon(_ring(east, ccw=False))])
    assert site_area_km2(geom) == pytest.approx(
        site_area_km2(west) + site_area_km2(east), rel=1e-9
    )  # it was the difference of the two


def test_two_yards_of_one_size_drawn_either_way_are_added(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # two features of one size, one drawn clockwise: refused as "covers only 0.0 m²"
    west, east = box(130.60, 42.28, 130.62, 42.30), box(130.64, 42.28, 130.66, 42.30)
    features = [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [r]}}
        for r in (_ring(west, ccw=True), _ring(east, ccw=False))
    ]
    path = tmp_path / "yards.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    code = main(["--db", tmp_db_url, "site", "add", "twin", "--geojson", str(path), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    shown = json.loads(out)
    assert shown["area_km2"] == pytest.approx(2 * site_area_km2(west), rel=1e-6)
