"""Exports of a scene across the antimeridian (session 24, second follow-up).

Since e4feef2 such a scene's footprint is a MultiPolygon split at 180°, but the
``scenes`` layer was still declared ``Polygon``: the GeoPackage export printed GDAL's
RuntimeWarning ("not normally allowed by the GeoPackage specification") and wrote a
layer whose declared type its features broke. The layer is now ``MultiPolygon`` and
the formats that declare a layer type (GeoPackage, GeoParquet) write every footprint as
one; GeoJSON, which declares none, keeps each footprint's own type (as the API does).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
import shapely
from shapely.geometry import MultiPolygon, mapping, shape

from imagery_helpers import write_geotiff, yard_scene
from railwatch.cli.main import main
from railwatch.export.gis import export_site
from railwatch.imagery import inspect_scene
from railwatch.storage import Database
from test_followup_qa24_antimeridian import OX, OY, SIZE, UTM60S, _wgs


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Database:
    """A site west of 180° with two images: one across 180°, one wholly west of it."""
    folder = tmp_path_factory.mktemp("export180")
    across = write_geotiff(
        folder / "fiji_2024-05-01.tif", yard_scene(SIZE, SIZE), crs=UTM60S, origin=(OX, OY)
    )
    west = write_geotiff(
        folder / "west_2024-05-02.tif", yard_scene(SIZE, 250), crs=UTM60S, origin=(OX, OY)
    )
    assert isinstance(inspect_scene(across).footprint, MultiPolygon)
    assert not isinstance(inspect_scene(west).footprint, MultiPolygon)
    url = f"sqlite:///{folder / 'rw.db'}"
    site = folder / "fiji.geojson"
    site.write_text(json.dumps(mapping(_wgs((60, 220), (120, 240)))))
    assert main(["--db", url, "site", "add", "fiji", "--geojson", str(site)]) == 0
    assert main(["--db", url, "ingest", "fiji", str(across), str(west)]) == 0
    return Database(url)


def test_geopackage_scenes_layer_is_multipolygon(db: Database, tmp_path: Path) -> None:
    pyogrio = pytest.importorskip("pyogrio")
    out = tmp_path / "fiji.gpkg"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # GDAL's 'not normally allowed' RuntimeWarning
        export_site(db, "fiji", "gpkg", out)
    assert pyogrio.read_info(out, layer="scenes")["geometry_type"] == "MultiPolygon"
    _, _, geoms, _ = pyogrio.raw.read(out, layer="scenes")
    parts = [shapely.from_wkb(g) for g in geoms]
    assert [p.geom_type for p in parts] == ["MultiPolygon", "MultiPolygon"]
    assert sorted(len(p.geoms) for p in parts) == [1, 2]


def test_geojson_split_and_geoparquet_footprints_multipolygons(
    db: Database, tmp_path: Path
) -> None:
    export_site(db, "fiji", "geojson", tmp_path / "gj")
    features = json.loads((tmp_path / "gj" / "scenes.geojson").read_text())["features"]
    assert [f["geometry"]["type"] for f in features] == ["MultiPolygon", "Polygon"]
    for f in features:  # RFC 7946: longitudes within -180..180, split at 180
        lons = [
            x
            for p in getattr(shape(f["geometry"]), "geoms", [shape(f["geometry"])])
            for x, _ in p.exterior.coords
        ]
        assert all(-180 <= x <= 180 for x in lons)
    across = shape(features[0]["geometry"])
    assert isinstance(across, MultiPolygon)
    assert len(across.geoms) == 2 and across.bounds[2] - across.bounds[0] == 360.0

    gpd = pytest.importorskip("geopandas")
    pytest.importorskip("pyarrow")
    export_site(db, "fiji", "geoparquet", tmp_path / "gpq")
    import pyarrow.parquet as pq

    meta = json.loads(pq.read_schema(tmp_path / "gpq" / "scenes.parquet").metadata[b"geo"])
    assert meta["columns"]["geometry"]["geometry_types"] == ["MultiPolygon"]
    frame = gpd.read_parquet(tmp_path / "gpq" / "scenes.parquet")
    assert frame.geometry.geom_type.tolist() == ["MultiPolygon", "MultiPolygon"]


def test_csv_export_of_the_site_is_unchanged(db: Database, tmp_path: Path) -> None:
    """The CSV export is the counts table: no footprint, one row per image."""
    out = export_site(db, "fiji", "csv", tmp_path / "fiji.csv")
    lines = out.read_text().splitlines()
    assert len(lines) == 3 and "footprint" not in lines[0]
