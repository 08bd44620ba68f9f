"""Site GeoJSON that was accepted silently or refused in shapely's terms: each is now one
clear GeometryError (status 2 in the CLI, 422 in the API) and nothing is stored; valid
GeoJSON reads as before."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import MultiPolygon, Polygon, box, mapping

from railwatch.cli.main import main
from railwatch.errors import GeometryError
from railwatch.sites import load_tracks, site_from_geojson

W, S, E, N = 130.6081, 42.4205, 130.6093, 42.4214
SQ = [[W, S], [E, S], [E, N], [W, N], [W, S]]
LEFT = [[W, S], [130.6087, S], [130.6087, N], [W, N], [W, S]]


def poly(ring: list[Any]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [ring]}


def feat(geometry: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": {}, "geometry": geometry}


def fc(*features: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


# (case, GeoJSON, what the message says); before, each was accepted (a site stored) or
# refused with shapely's own words
REFUSED: list[tuple[str, Any, str]] = [
    # accepted before: shapely closed the ring (three corners of a square became a triangle)
    ("unclosed ring", poly(SQ[:-1]), "(ring 0): a polygon ring is not closed: it ends at"),
    ("three positions", poly(SQ[:3]), "(ring 0): a polygon ring has 3 positions, it needs"),
    (
        "unclosed hole in a multipolygon",
        {"type": "MultiPolygon", "coordinates": [[SQ], [SQ, LEFT[:-1]]]},
        "(polygon 1, ring 1): a polygon ring is not closed",
    ),
    ("lower-case type", {"type": "polygon", "coordinates": [SQ]}, "write 'Polygon'"),
    ("strings as numbers", poly([[str(x), str(y)] for x, y in SQ]), "coordinates are JSON"),
    ("true as a number", poly([[True, S], *SQ[1:-1], [True, S]]), "(not strings or true/false)"),
    ("a Feature as geometry", feat(feat(poly(SQ))), "has a Feature where a geometry belongs"),
    ("crs as a string", {**poly(SQ), "crs": "EPSG:32652"}, "'crs' member \"EPSG:32652\" is"),
    (
        "crs without a name",
        {**poly(SQ), "crs": {"type": "link", "properties": {"href": "x"}}},
        'is not understood: write {"type": "name"',
    ),
    (
        "pixel or unset coordinates at 0,0",
        poly([[0, 0], [0.001, 0], [0.001, 0.001], [0, 0.001], [0, 0]]),
        "lies within 1° of 0° N 0° E",
    ),
    (
        "overlapping features",
        fc(feat(poly(SQ)), feat(poly(LEFT))),
        "feature 0 and feature 1 overlap or share an edge: the parts of a site must lie apart",
    ),
    ("duplicate features", fc(feat(poly(SQ)), feat(poly(SQ))), "are the same polygon"),
    # refused before, in shapely's terms
    ("unknown type", {"type": "Polgon", "coordinates": [SQ]}, "has type 'Polgon', not a"),
    ("missing brackets", {"type": "Polygon", "coordinates": SQ}, "check the brackets"),
    ("extra brackets", {"type": "Polygon", "coordinates": [[SQ]]}, "check the brackets"),
    ("no coordinates", {"type": "Polygon"}, "is a Polygon without 'coordinates'"),
    ("NaN coordinate", poly([[float("nan"), S], *SQ[1:-1], [float("nan"), S]]), "non-finite"),
    ("one-number position", poly([[W], *SQ[1:-1], [W]]), "where a position [lon, lat]"),
    ("geometry is a string", feat("POLYGON((0 0,1 0,1 1,0 0))"), "is a string, not a GeoJSON"),
    ("a Polygon in 'features'", fc(poly(SQ)), "feature 0 is a Polygon, not a Feature"),
    ("'features' not a list", {"type": "FeatureCollection", "features": {}}, "not a list"),
]


@pytest.mark.parametrize(("data", "message"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_refused_with_a_clear_message(data: Any, message: str) -> None:
    with pytest.raises(GeometryError) as info:
        site_from_geojson("yard", json.loads(json.dumps(data)))
    assert message in str(info.value)
    assert "object is not iterable" not in str(info.value)


def test_valid_geojson_reads_as_before() -> None:
    assert site_from_geojson("a", poly(SQ)).geometry.equals(Polygon(SQ))
    three_d = site_from_geojson("b", poly([[x, y, 5.0] for x, y in SQ])).geometry
    assert three_d.equals(Polygon(SQ)) and not three_d.has_z  # heights dropped, as before
    right = [[130.6088, S], [E, S], [E, N], [130.6088, N], [130.6088, S]]
    two = site_from_geojson("c", fc(feat(poly(LEFT)), feat(poly(right)))).geometry
    assert isinstance(two, MultiPolygon) and len(two.geoms) == 2
    # Python callers give shapely's mapping() (tuples, not lists)
    site = site_from_geojson(
        "d", mapping(MultiPolygon([box(W, S, 130.6085, N), box(130.609, S, E, N)]))
    )
    assert len(site.geometry.geoms) == 2  # type: ignore[union-attr]
    assert site_from_geojson("e", {"type": "GeometryCollection", "geometries": [poly(SQ)]})
    named = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    assert site_from_geojson("f", {**poly(SQ), "crs": named}).geometry.equals(Polygon(SQ))
    assert site_from_geojson("g", {**poly(SQ), "crs": None}).geometry.equals(Polygon(SQ))
    # tracks go through the same checks
    assert load_tracks({"type": "LineString", "coordinates": [[W, S], [E, N]]}).length > 0
    with pytest.raises(GeometryError, match="a line needs at least 2 positions"):
        load_tracks({"type": "LineString", "coordinates": [[W, S]]})


def test_cli_and_api_refuse_an_unclosed_ring(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    path = tmp_path / "unclosed.geojson"
    path.write_text(json.dumps(feat(poly(SQ[:-1]))))
    assert main(["--db", url, "site", "add", "yard", "--geojson", str(path)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "site GeoJSON feature's geometry (ring 0): a polygon ring is not closed" in err
    assert not (tmp_path / "g.db").exists()  # nothing added: no database made either
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from railwatch.settings import Settings
    from railwatch.storage import Database
    from railwatch.web.app import create_app

    db = Database(url)
    settings = Settings(db=url, api_token=SecretStr("t0ken-for-tests"), cache_dir=tmp_path)
    client = TestClient(create_app(settings, db))
    r = client.post(
        "/api/sites",
        json={"name": "yard", "geometry": feat(poly(SQ[:-1]))},
        headers={"Authorization": "Bearer t0ken-for-tests"},
    )
    assert r.status_code == 422
    # the same check, the API's field named where the CLI says "site GeoJSON" (session 41)
    said = err.removeprefix("error: ").replace("site GeoJSON", "`geometry`")
    assert r.json()["detail"] == said
    db.dispose()
