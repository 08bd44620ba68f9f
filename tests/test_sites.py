"""Sites: GeoJSON and bbox input, every bad input with its message, UTM zones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import MultiLineString, MultiPolygon, Polygon, box, mapping

from railwatch.errors import GeometryError, InputError
from railwatch.sites import (
    load_tracks,
    parse_bbox,
    site_area_km2,
    site_from_bbox,
    site_from_geojson,
    utm_crs_for,
    validate_name,
)

# Tumangang-like yard, lon/lat.
YARD = box(130.60, 42.28, 130.63, 42.30)
OTHER = box(130.64, 42.28, 130.65, 42.29)


def feature(geom: Any, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": mapping(geom)}


# ----------------------------------------------------------------------- good input


def test_bbox_site_is_a_wgs84_rectangle_with_its_utm_zone() -> None:
    spec = site_from_bbox("tumangang", "130.60,42.28,130.63,42.30", description="yard")
    assert spec.geometry.bounds == pytest.approx((130.60, 42.28, 130.63, 42.30))
    assert spec.utm_crs == "EPSG:32652"
    # 0.03° lon x 0.02° lat at 42.3°N: about 2.47 km x 2.22 km
    assert spec.area_km2 == pytest.approx(2.47 * 2.22, rel=0.02)
    assert spec.description == "yard"


def test_bbox_accepts_a_sequence_and_spaces() -> None:
    assert parse_bbox([130.6, 42.28, 130.63, 42.3]) == (130.6, 42.28, 130.63, 42.3)
    assert parse_bbox(" 130.6, 42.28 ,130.63,42.3 ") == (130.6, 42.28, 130.63, 42.3)


@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [
        (130.63, 42.3, "EPSG:32652"),
        (2.35, 48.85, "EPSG:32631"),
        (-74.0, 40.7, "EPSG:32618"),
        (151.2, -33.9, "EPSG:32756"),
        (-179.9, 10.0, "EPSG:32601"),
        (179.9, -10.0, "EPSG:32760"),
    ],
)
def test_utm_zone_of_the_centroid(lon: float, lat: float, expected: str) -> None:
    geom = box(lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01)
    assert utm_crs_for(geom) == expected


def test_geojson_feature_file(tmp_path: Path) -> None:
    path = tmp_path / "yard.geojson"
    path.write_text(json.dumps(feature(YARD, name="yard")))
    spec = site_from_geojson("yard", path, tags=("dprk", "dprk", "border"))
    assert spec.geometry.equals(YARD)
    assert spec.tags == ("dprk", "border")


def test_geojson_collection_of_polygons_becomes_a_multipolygon() -> None:
    fc = {"type": "FeatureCollection", "features": [feature(YARD), feature(OTHER)]}
    spec = site_from_geojson("two", fc)
    assert isinstance(spec.geometry, MultiPolygon)
    assert len(spec.geometry.geoms) == 2


def test_bare_geometry_and_json_text() -> None:
    assert site_from_geojson("a", mapping(YARD)).geometry.equals(YARD)
    assert site_from_geojson("b", json.dumps(mapping(YARD))).geometry.equals(YARD)


def test_3d_coordinates_are_flattened() -> None:
    coords = [[x, y, 12.0] for x, y in YARD.exterior.coords]
    spec = site_from_geojson("z", {"type": "Polygon", "coordinates": [coords]})
    assert not spec.geometry.has_z


def test_projected_geojson_with_crs_member_is_reprojected() -> None:
    utm = box(500_000, 4_680_000, 501_000, 4_681_000)
    data = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32652"}},
        "features": [feature(utm)],
    }
    spec = site_from_geojson("utm", data)
    w, s, e, n = spec.geometry.bounds
    assert 128.9 < w < e < 129.1 and 42.2 < s < n < 42.3
    assert spec.area_km2 == pytest.approx(1.0, rel=0.01)


def test_tracks_are_loaded_in_wgs84() -> None:
    tracks = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {}, "geometry": {"type": "LineString",
             "coordinates": [[130.601, 42.29], [130.629, 42.291]]}},
            {"type": "Feature", "properties": {}, "geometry": {"type": "MultiLineString",
             "coordinates": [[[130.601, 42.292], [130.629, 42.293]]]}},
        ],
    }  # fmt: skip
    spec = site_from_bbox("t", "130.60,42.28,130.63,42.30", tracks=tracks)
    assert isinstance(spec.tracks, MultiLineString)
    assert len(spec.tracks.geoms) == 2


# ------------------------------------------------------------------------ bad input


def bad(fn: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(GeometryError) as info:
        fn(*args, **kwargs)
    return str(info.value)


def test_self_intersecting_polygon_says_where_and_how_to_fix() -> None:
    bowtie = Polygon([(130.60, 42.28), (130.63, 42.30), (130.63, 42.28), (130.60, 42.30)])
    msg = bad(site_from_geojson, "bow", feature(bowtie))
    assert "invalid" in msg and "self-intersection at lon 130.615, lat 42.29" in msg
    assert "make_valid" in msg and "QGIS" in msg


def test_ring_self_intersection_in_multipolygon_is_refused() -> None:
    overlapping = MultiPolygon([YARD, box(130.62, 42.29, 130.64, 42.31)])
    msg = bad(site_from_geojson, "ov", mapping(overlapping))
    # was GEOS' 'polygon is invalid: self-intersection at ...; fix it in QGIS ... make_valid'
    assert msg.startswith("site GeoJSON polygon 0 and polygon 1 overlap or share an edge")
    assert "Dissolve" in msg
    bowtie = Polygon([(130.60, 42.28), (130.63, 42.30), (130.63, 42.28), (130.60, 42.30)])
    msg = bad(site_from_geojson, "bt", mapping(MultiPolygon([bowtie, OTHER])))
    assert "invalid" in msg and "make_valid" in msg  # an invalid part: GEOS says where


def test_swapped_lat_lon_polygon_is_detected() -> None:
    swapped = Polygon([(y, x) for x, y in YARD.exterior.coords])
    msg = bad(site_from_geojson, "sw", feature(swapped))
    assert "looks like lat/lon order" in msg and "GeoJSON is lon,lat" in msg


def test_swapped_lat_lon_bbox_is_detected() -> None:
    msg = bad(site_from_bbox, "sw", "42.28,130.60,42.30,130.63")
    assert "looks like lat/lon order" in msg


def test_out_of_range_coordinates() -> None:
    msg = bad(site_from_geojson, "x", mapping(box(190, 10, 191, 11)))
    assert "out of range for WGS84" in msg
    msg = bad(site_from_bbox, "x", "-200,10,-199,11")
    assert "out of range" in msg


def test_projected_coordinates_without_crs_are_explained() -> None:
    msg = bad(site_from_geojson, "p", mapping(box(500_000, 4_680_000, 501_000, 4_681_000)))
    assert "projected coordinates" in msg and "EPSG:4326" in msg


@pytest.mark.parametrize(
    "data",
    [
        {"type": "Polygon", "coordinates": []},
        {"type": "MultiPolygon", "coordinates": []},
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": []}},
    ],
)
def test_empty_geometries(data: dict[str, Any]) -> None:
    assert "empty" in bad(site_from_geojson, "e", data)


def test_feature_without_geometry_and_empty_collection() -> None:
    assert "no geometry" in bad(site_from_geojson, "n", {"type": "Feature", "geometry": None})
    fc: dict[str, Any] = {"type": "FeatureCollection", "features": []}
    assert "no features" in bad(site_from_geojson, "n", fc)


def test_point_or_line_as_site_is_refused_with_a_hint() -> None:
    msg = bad(site_from_geojson, "pt", {"type": "Point", "coordinates": [130.6, 42.3]})
    assert "must be a Polygon or MultiPolygon, got Point" in msg and "--bbox" in msg
    line = {"type": "LineString", "coordinates": [[130.6, 42.3], [130.61, 42.31]]}
    mixed = {
        "type": "FeatureCollection",
        "features": [feature(YARD), {"type": "Feature", "properties": {}, "geometry": line}],
    }
    msg = bad(site_from_geojson, "ln", mixed)
    assert "feature 1 must be a Polygon or MultiPolygon, got LineString" in msg
    assert "--tracks" in msg


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("130.6,42.28,130.6,42.30", "degenerate"),
        ("130.6,42.28,130.63,42.28", "degenerate"),
        ("130.6,42.30,130.63,42.28", "south 42.3 is north of north 42.28"),
        ("130.63,42.28,130.60,42.30", "west 130.63 is east of east 130.6"),
        ("130.6,42.28,130.63", "needs 4 numbers"),
        ("a,b,c,d", "not four numbers"),
        ("130.6,nan,130.63,42.3", "non-finite"),
    ],
)
def test_bad_bboxes(text: str, expected: str) -> None:
    assert expected in bad(site_from_bbox, "b", text)


def test_huge_and_tiny_areas_are_refused() -> None:
    msg = bad(site_from_bbox, "big", "120,30,130,40")
    assert "2,500 km² limit" in msg and "tighter polygon" in msg
    msg = bad(site_from_bbox, "tiny", "130.6,42.28,130.60001,42.28001")
    assert "smaller than one railcar" in msg


def test_antimeridian_span_is_refused() -> None:
    poly = Polygon([(-179.99, 10), (179.99, 10), (179.99, 10.01), (-179.99, 10.01)])
    assert "antimeridian" in bad(site_from_geojson, "am", mapping(poly))


def test_unreadable_sources(tmp_path: Path) -> None:
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "Feature", ')
    assert "not valid JSON (line 1" in bad(site_from_geojson, "j", broken)
    with pytest.raises(InputError, match="file not found"):
        site_from_geojson("j", tmp_path / "missing.geojson")
    assert "no 'type'" in bad(site_from_geojson, "j", {"features": []})
    assert "unknown CRS" in bad(
        site_from_geojson,
        "j",
        {**mapping(YARD), "crs": {"type": "name", "properties": {"name": "EPSG:99999999"}}},
    )


@pytest.mark.parametrize("name", ["", " yard", "a/b", "-yard", "x" * 65, "semi;colon"])
def test_bad_names(name: str) -> None:
    with pytest.raises(InputError, match="invalid site name"):
        validate_name(name)


def test_good_names() -> None:
    for name in ("tumangang", "Tumangang_Yard-2", "두만강", "site.v2"):
        assert validate_name(name) == name


def test_tracks_must_be_lines_and_touch_the_site() -> None:
    poly_tracks = {"type": "Polygon", "coordinates": [list(map(list, OTHER.exterior.coords))]}
    assert "must be LineString" in bad(load_tracks, poly_tracks)
    far = {"type": "LineString", "coordinates": [[10.0, 10.0], [10.01, 10.0]]}
    msg = bad(site_from_bbox, "t", "130.60,42.28,130.63,42.30", tracks=far)
    assert "track lines touch the site" in msg
    swapped = {"type": "LineString", "coordinates": [[42.29, 130.61], [42.29, 130.62]]}
    assert "lat/lon order" in bad(load_tracks, swapped)


def test_area_is_geodesic() -> None:
    # 1° x 1° at the equator is about 12,309 km²
    assert site_area_km2(box(0, 0, 1, 1)) == pytest.approx(12_309, rel=0.01)
