"""A car across the antimeridian in the GIS exports (session 24's chips follow-up).

A detection is stored in WGS84 as its four corners transformed one by one: a car across
180° has corners at +179.9999° and -179.9999°, a polygon round the whole Earth (bounds
-180..180). The ``detections`` layer wrote it as it was: QGIS drew a band across the
world and zoomed out to it. It is now a MultiPolygon split at 180° (RFC 7946, as scene
footprints since e4feef2), and the layer is declared MultiPolygon when a car is one.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from datetime import UTC, datetime
from pathlib import Path

import pytest
import shapely
from rasterio.transform import from_origin
from shapely.geometry import MultiPolygon, Polygon, shape

from imagery_helpers import write_geotiff, yard_scene
from railwatch.detect.base import Detection, OrientedBox
from railwatch.export.gis import export_site
from railwatch.sites import SiteSpec
from railwatch.storage import Database, records_from_detections, repo
from report_db import FakeCount, FakeInfo, FakeQuality
from test_followup_qa24_antimeridian import OX, OY, RES, SIZE, UTM60S, _wgs

#: Cars of the image (pixel centre column): 180° runs down column 300.
ACROSS, WEST = 300.0, 250.0


def _populate(db: Database, folder: Path, cars: tuple[float, ...]) -> None:
    """A site west of 180° and one counted image of it with a car at each column of
    ``cars`` (row 200, along the image's rows)."""
    image = write_geotiff(
        folder / "fiji_2024-05-01.tif", yard_scene(SIZE, SIZE), crs=UTM60S, origin=(OX, OY)
    )
    site_geom = _wgs((200, 298), (100, 300))
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name="fiji", geometry=site_geom))
        info = FakeInfo(
            uri=str(image),
            content_hash=hashlib.sha256(image.read_bytes()).hexdigest(),
            acquired=datetime(2024, 5, 1, 22, 0, tzinfo=UTC),
            crs=UTM60S,
            footprint=_wgs((0, 299.9), (0, SIZE)),
            gsd=RES,
            width=SIZE,
            height=SIZE,
        )
        scene, _ = repo.add_scene(s, site, info, 1.0)
        dets = [
            Detection(OrientedBox(c, 200.0, 28.0, 6.4, 0.0), "tank", 0.9, False, 0.1) for c in cars
        ]
        records = records_from_detections(
            dets, from_origin(OX, OY, RES, RES), UTM60S, site_geom_wgs84=site_geom
        )
        n = float(len(cars))
        count = FakeCount(n, n, n, {"tank": (n, n, n)}, 0)
        repo.record_scene_result(s, scene.id, FakeQuality(0.97), records, count, "test", "1")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Database:
    folder = tmp_path_factory.mktemp("cars180")
    db = Database(f"sqlite:///{folder / 'rw.db'}")
    _populate(db, folder, (ACROSS, WEST))
    return db


def _lons(geom: Polygon | MultiPolygon) -> list[float]:
    parts = geom.geoms if isinstance(geom, MultiPolygon) else [geom]
    return [x for p in parts for x, _ in p.exterior.coords]


def test_a_car_across_180_is_split_there_in_geojson(db: Database, tmp_path: Path) -> None:
    export_site(db, "fiji", "geojson", tmp_path / "gj")
    features = json.loads((tmp_path / "gj" / "detections.geojson").read_text())["features"]
    across, west = (shape(f["geometry"]) for f in features)
    assert isinstance(across, MultiPolygon) and len(across.geoms) == 2  # was a Polygon
    # each part within 0.001° of 180° on its side (was one ring spanning 360°)
    east_part, west_part = sorted(across.geoms, key=lambda p: p.bounds[0])
    assert east_part.bounds[0] >= -180 and east_part.bounds[2] <= -179.999
    assert west_part.bounds[0] >= 179.999 and west_part.bounds[2] <= 180
    assert all(-180 <= x <= 180 for x in _lons(across))
    # its ground area is a car's (14 m x 3.2 m), as the car west of 180° (was 1e4 times)
    assert abs(across.area / west.area - 1.0) < 0.01
    assert isinstance(west, Polygon)
    assert all(p.exterior.is_ccw for p in across.geoms)  # RFC 7946 winding


def test_the_detections_layer_is_multipolygon_where_a_car_crosses_180(
    db: Database, tmp_path: Path
) -> None:
    pyogrio = pytest.importorskip("pyogrio")
    out = tmp_path / "fiji.gpkg"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # GDAL's warning on a type its layer does not declare
        export_site(db, "fiji", "gpkg", out)
    assert pyogrio.read_info(out, layer="detections")["geometry_type"] == "MultiPolygon"
    _, _, geoms, _ = pyogrio.raw.read(out, layer="detections")
    cars = [shapely.from_wkb(g) for g in geoms]
    assert [len(c.geoms) for c in cars] == [2, 1]
    assert all(c.bounds[2] - c.bounds[0] < 0.001 for c in cars[1:])

    gpd = pytest.importorskip("geopandas")
    pytest.importorskip("pyarrow")
    export_site(db, "fiji", "geoparquet", tmp_path / "gpq")
    frame = gpd.read_parquet(tmp_path / "gpq" / "detections.parquet")
    assert frame.geometry.geom_type.tolist() == ["MultiPolygon", "MultiPolygon"]


def test_a_site_without_a_car_across_180_keeps_a_polygon_layer(tmp_path: Path) -> None:
    pyogrio = pytest.importorskip("pyogrio")
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    _populate(db, tmp_path, (WEST, 200.0))
    out = export_site(db, "fiji", "gpkg", tmp_path / "fiji.gpkg")
    assert pyogrio.read_info(out, layer="detections")["geometry_type"] == "Polygon"
    export_site(db, "fiji", "geojson", tmp_path / "gj")
    features = json.loads((tmp_path / "gj" / "detections.geojson").read_text())["features"]
    assert [f["geometry"]["type"] for f in features] == ["Polygon", "Polygon"]
