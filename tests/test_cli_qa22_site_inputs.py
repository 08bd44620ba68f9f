"""QA: site areas as analysts have them (session 22).

- A site across the antimeridian was refused with the advice to split it at ±180° into
  a MultiPolygon, which is refused the same way (it spans 360°).
- A ring mixing positions with and without a height was an internal numpy message
  ("setting an array element with a sequence ...").
- A legacy ``crs`` member on a feature or on its geometry (GeoJSON 2008) was ignored:
  the coordinates were refused as metres with the advice to add the member they had.
- KML, a shapefile, a KMZ or a GeoPackage given to ``--geojson`` was "not valid JSON
  (line 1, column 1: Expecting value)", or "not UTF-8 text", with no word of what to
  do; WKT (QGIS' "Copy as WKT") likewise, and piped to ``--geojson -`` any text that
  is not JSON was taken for a file name ("file not found: POLYGON ((...").
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from railwatch.cli.main import main
from railwatch.errors import GeometryError
from railwatch.sites import GeoJSONText, load_tracks, site_from_geojson

YARD = [[130.6, 42.3], [130.62, 42.3], [130.62, 42.32], [130.6, 42.32], [130.6, 42.3]]
WKT = "POLYGON ((130.6 42.3, 130.62 42.3, 130.62 42.32, 130.6 42.32, 130.6 42.3))"
UTM52 = {"type": "name", "properties": {"name": "EPSG:32652"}}
SQUARE_UTM = [[550000, 4680000], [551000, 4680000], [551000, 4681000], [550000, 4681000]]
SQUARE_UTM.append(SQUARE_UTM[0])


def _area(source: Any) -> float:
    return site_from_geojson("yard", source).area_km2


def test_antimeridian_is_refused_without_advice_that_fails_too() -> None:
    east = [[179.99, 65.0], [180.0, 65.0], [180.0, 65.01], [179.99, 65.01], [179.99, 65.0]]
    west = [[-180.0, 65.0], [-179.99, 65.0], [-179.99, 65.01], [-180.0, 65.01], [-180.0, 65.0]]
    split = {"type": "MultiPolygon", "coordinates": [[east], [west]]}
    with pytest.raises(GeometryError) as err:
        site_from_geojson("chukotka", split)
    message = str(err.value)
    assert "antimeridian" in message and "split it" not in message
    assert "add the part on each side as a site of its own" in message
    # each side alone is a site
    assert site_from_geojson("east", {"type": "Polygon", "coordinates": [east]}).area_km2 > 0


def test_positions_with_and_without_a_height_in_one_ring() -> None:
    mixed = [[x, y, 12.5] if k % 2 else [x, y] for k, (x, y) in enumerate(YARD)]
    mixed[-1] = list(mixed[0])
    flat = _area({"type": "Polygon", "coordinates": [YARD]})
    assert _area({"type": "Polygon", "coordinates": [mixed]}) == pytest.approx(flat)


def test_crs_member_on_a_feature_or_its_geometry_is_honoured() -> None:
    polygon = {"type": "Polygon", "coordinates": [SQUARE_UTM]}
    top = _area({"type": "Polygon", "crs": UTM52, "coordinates": [SQUARE_UTM]})
    assert top == pytest.approx(1.0, rel=0.01)
    on_feature = {"type": "Feature", "crs": UTM52, "properties": {}, "geometry": polygon}
    on_geometry = {"type": "Feature", "properties": {}, "geometry": {**polygon, "crs": UTM52}}
    collection = {"type": "FeatureCollection", "features": [on_feature]}
    for data in (on_geometry, collection, {"type": "FeatureCollection", "features": [on_geometry]}):
        assert _area(data) == pytest.approx(top)
    # a part in lon/lat beside a part in metres, each with its own CRS
    plain = {"type": "Polygon", "coordinates": [YARD]}
    lonlat = {"type": "Feature", "properties": {}, "geometry": plain}
    both = {"type": "FeatureCollection", "features": [lonlat, on_feature]}
    assert _area(both) == pytest.approx(top + _area(lonlat))
    lines = {"type": "LineString", "crs": UTM52, "coordinates": SQUARE_UTM[:2]}
    tracks = load_tracks({"type": "Feature", "properties": {}, "geometry": lines})
    assert 120 < tracks.bounds[0] < 140


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        (
            "yard.kml",
            b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Placemark/></kml>',
            "is KML, not GeoJSON",
        ),
        ("yard.gpx", b'<?xml version="1.0"?><gpx version="1.1"></gpx>', "is GPX, not GeoJSON"),
        ("yard.kmz", b"PK\x03\x04\x14\x00\x00\x00\x08\x00\xa1\x8b", "is a KMZ file"),
        ("yard.zip", b"PK\x03\x04\x14\x00\x00\x00\x08\x00\xa1\x8b", "is a ZIP archive"),
        ("yard.shp", b"\x00\x00\x27\x0a" + bytes(96), "is an ESRI shapefile"),
        ("yard.gpkg", b"SQLite format 3\x00" + bytes(84), "is a GeoPackage"),
    ],
)
def test_other_formats_are_named_with_how_to_convert(
    tmp_path: Path, name: str, content: bytes, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    db = ["--db", f"sqlite:///{tmp_path / 'rw.db'}"]
    assert main([*db, "site", "add", "yard", "--geojson", str(path)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert kind in err and "ogr2ogr -f GeoJSON" in err, err
    assert "Expecting value" not in err and "UTF-8" not in err


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))


def test_wkt_in_a_file_or_piped_makes_the_same_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'rw.db'}"]
    (tmp_path / "yard.wkt").write_text(WKT + "\n")
    assert main([*db, "site", "add", "a", "--geojson", str(tmp_path / "yard.wkt")]) == 0
    with_heights = "polygon z ((" + ", ".join(f"{x} {y} 5" for x, y in YARD) + "))"
    _stdin(monkeypatch, "\ufeff" + with_heights)
    assert main([*db, "site", "add", "b", "--geojson", "-"]) == 0
    capsys.readouterr()
    assert main([*db, "site", "list", "--json"]) == 0
    sites = json.loads(capsys.readouterr().out)
    areas = {s["name"]: s["area_km2"] for s in sites}
    assert (
        areas["a"]
        == pytest.approx(areas["b"])
        == pytest.approx(_area({"type": "Polygon", "coordinates": [YARD]}))
    )
    # SRID=N; names the CRS of the numbers
    utm = "SRID=32652;POLYGON ((" + ", ".join(f"{x} {y}" for x, y in SQUARE_UTM) + "))"
    assert _area(GeoJSONText(utm)) == pytest.approx(1.0, rel=0.01)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "POLYGON ((130.6 42.3, 130.62 42.3, 130.62 42.32, 130.6 42.32))",
            "WKT that cannot be read (Points of LinearRing do not form a closed linestring)",
        ),
        ("MULTIPOLYGON (((130.6 42.3, 130.62 42.3", "WKT that cannot be read"),
        ("POINT (130.6 42.3)", "must be a Polygon or MultiPolygon, got Point"),
        ("hello", "from standard input is not valid JSON"),
        ('<kml xmlns="http://www.opengis.net/kml/2.2"/>', "from standard input is KML"),
    ],
)
def test_piped_text_is_never_taken_for_a_file_name(
    tmp_path: Path,
    text: str,
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _stdin(monkeypatch, text + "\n")
    db = ["--db", f"sqlite:///{tmp_path / 'rw.db'}"]
    assert main([*db, "site", "add", "yard", "--geojson", "-"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert expected in err, err
    assert "file not found" not in err
    assert not (tmp_path / "rw.db").exists()  # nothing added: no database made either


def test_a_file_name_that_starts_like_wkt_is_still_a_file(tmp_path: Path) -> None:
    path = tmp_path / "polygonz.geojson"
    path.write_text(json.dumps({"type": "Polygon", "coordinates": [YARD]}))
    assert site_from_geojson("yard", str(path)).area_km2 > 0
