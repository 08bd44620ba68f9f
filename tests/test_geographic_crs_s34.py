"""Detections and analyst outlines on images in a geographic CRS other than EPSG:4326
(session 34).

- Coordinates were rounded to 3 decimals unless the CRS was exactly ``EPSG:4326``: on
  a NAD83 (EPSG:4269) GeoTIFF every corner of a car became ``[130.604, 42.422]``.
- A car across 180° was split there (RFC 7946) only in EPSG:4326.
- An analyst's outline of a scene in lon/lat was stored as the rectangle fitted in
  degrees: a 14 m x 3 m car at 30° came back 14.65 m x 3.07 m.

The GeoTIFFs are tiny ones written here with rasterio, in EPSG:4269 (NAD83), EPSG:4258
(ETRS89) and OGC:CRS84 (which GDAL reads back as EPSG:4326), near Tumangang.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import CRS as ProjCRS
from pyproj import Geod, Transformer
from rasterio.crs import CRS
from rasterio.transform import from_origin
from shapely.geometry import Polygon, box

from railwatch.cli import _common
from railwatch.cli.main import main
from railwatch.detect.base import Detection, OccupiedRun, OrientedBox
from railwatch.detect.geojson import (
    box_from_polygon,
    from_feature_collection,
    to_feature_collection,
)
from railwatch.imagery.inspect import inspect_scene
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from railwatch.storage.models import SceneReview

LON0, LAT0 = 130.6000, 42.4240  # the image's top-left corner, by Tumangang station
GSD = 0.5
DLAT = GSD / 111_050.0  # a pixel's height and width in degrees at 42.4 N
DLON = GSD / (111_320.0 * math.cos(math.radians(LAT0)))
WIDTH, HEIGHT = 600, 400
#: WGS84 as a WKT without an EPSG code (a datum name GDAL does not recognise)
WGS84_WKT = (
    'GEOGCS["WGS 84 (custom)",DATUM["WGS_1984_custom",SPHEROID["WGS 84",6378137,'
    '298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]'
)
TIF_CRSES = ["EPSG:4269", "EPSG:4258", "OGC:CRS84"]


def _geotiff(folder: Path, crs: str) -> Path:
    path = folder / "yard_20231005.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=WIDTH,
        height=HEIGHT,
        count=3,
        dtype="uint8",
        crs=CRS.from_user_input(crs),
        transform=from_origin(LON0, LAT0, DLON, DLAT),
    ) as ds:
        ds.write(np.full((3, HEIGHT, WIDTH), 90, dtype=np.uint8))
    return path


def _crs_of(folder: Path, crs: str) -> str:
    """The CRS railwatch gives a GeoTIFF written in ``crs`` (as ingest and detect do)."""
    return inspect_scene(_geotiff(folder, crs), date=datetime(2023, 10, 5, 2, tzinfo=UTC)).crs


def _local(lon: float, lat: float) -> Transformer:
    """Metres east/north of (lon, lat) to lon/lat and back (always_xy)."""
    aeqd = ProjCRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m")
    return Transformer.from_crs(aeqd, "EPSG:4326", always_xy=True)


def _car_lonlat(
    lon: float, lat: float, angle: float, length: float = 14.0, width: float = 3.0
) -> np.ndarray:
    """The four corners (lon, lat) of a ``length`` x ``width`` m car centred at (lon,
    lat), its long axis ``angle`` degrees from east: a true rectangle on the ground."""
    a = math.radians(angle)
    u = np.array([math.cos(a), math.sin(a)]) * length / 2
    v = np.array([-math.sin(a), math.cos(a)]) * width / 2
    xy = np.array([-u - v, u - v, u + v, -u + v])
    x, y = _local(lon, lat).transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def _sides_m(ring: np.ndarray) -> list[float]:
    """The geodesic lengths (m) of a four-cornered ring's sides."""
    geod = Geod(ellps="WGS84")
    pts = ring[:4]
    return [float(geod.inv(*pts[k], *pts[(k + 1) % 4])[2]) for k in range(4)]


def _diagonals_m(ring: np.ndarray) -> tuple[float, float]:
    geod = Geod(ellps="WGS84")
    p = ring[:4]
    return float(geod.inv(*p[0], *p[2])[2]), float(geod.inv(*p[1], *p[3])[2])


# --------------------------------------------------------------- rounding (issue 1)


@pytest.mark.parametrize("tif_crs", [*TIF_CRSES, WGS84_WKT, "EPSG:4979"])
def test_a_geographic_images_cars_keep_their_shape(tmp_path: Path, tif_crs: str) -> None:
    """Each corner written to within 1e-8 degree (about 1 mm), whatever the datum; a
    NAD83 image's cars were points (3 decimals, ~100 m)."""
    crs = _crs_of(tmp_path, tif_crs)
    lon, lat = LON0 + 100 * DLON, LAT0 - 100 * DLAT
    car = OrientedBox(lon, lat, 14.0 * DLON / GSD, 3.0 * DLAT / GSD, 0.0)
    fc = to_feature_collection([Detection(car, "tank", 0.9)], crs=crs)
    ring = np.asarray(fc["features"][0]["geometry"]["coordinates"][0])
    assert len({tuple(p) for p in ring.tolist()}) == 4  # four corners, not one point
    expected = {(round(x, 8), round(y, 8)) for x, y in car.corners()}
    assert {tuple(p) for p in ring.tolist()} == expected


def test_the_crs_named_in_a_file_counts_too(tmp_path: Path) -> None:
    """A collection in OGC:CRS84 or a WKT of WGS84 without a code (scene CRSes stored as
    their text) is written in degrees, its occupied stretches too."""
    lon, lat = LON0 + 100 * DLON, LAT0 - 100 * DLAT
    for crs in ("OGC:CRS84", WGS84_WKT):
        run = OccupiedRun(((lon, lat), (lon + 50 * DLON, lat + 1e-7)), 18.6)
        fc = to_feature_collection([], crs=crs, occupied=[run])
        line = fc["features"][0]["geometry"]["coordinates"]
        assert line == [
            [round(lon, 8), round(lat, 8)],
            [round(lon + 50 * DLON, 8), round(lat + 1e-7, 8)],
        ]


def test_projected_crses_keep_millimetres_in_their_own_unit() -> None:
    """Metres and US survey feet: 3 decimals (a millimetre, 0.3 mm); degrees: 8."""
    det = Detection(OrientedBox(987_654.123456, 212_345.987654, 46.0, 10.5, 12.0), "tank", 0.9)
    for crs, digits in (("EPSG:2263", 3), ("EPSG:32652", 3), ("EPSG:4269", 8)):
        ring = to_feature_collection([det], crs=crs)["features"][0]["geometry"]["coordinates"][0]
        decimals = max(len(repr(v).split(".")[1]) if "." in repr(v) else 0 for p in ring for v in p)
        assert decimals == digits, crs


def test_a_nad83_car_across_180_is_split_and_joined_again() -> None:
    """An Aleutian yard in NAD83: the car across 180° is a MultiPolygon split there (as
    in EPSG:4326), and read back as one car; it was a ring round the Earth."""
    lat = 51.9
    ring = _car_lonlat(180.0, lat, 10.0)
    corners = ring.copy()
    corners[:, 0] = np.where(corners[:, 0] < 0, corners[:, 0] + 360.0, corners[:, 0])
    poly = Polygon(corners)
    c = poly.centroid
    fc = to_feature_collection([Detection(box_from_polygon(poly), "tank", 0.9)], crs="EPSG:4269")
    geom = fc["features"][0]["geometry"]
    assert geom["type"] == "MultiPolygon" and len(geom["coordinates"]) == 2
    assert all(abs(x) <= 180 for part in geom["coordinates"] for x, _ in part[0])
    back = from_feature_collection(fc)
    assert back.crs == "EPSG:4269" and len(back.detections) == 1
    got = back.detections[0].box
    assert abs(got.cx % 360 - c.x % 360) < 1e-7 and abs(got.cy - c.y) < 1e-7


# ---------------------------------------------------------- analyst outlines (issue 3)


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    url = f"sqlite:///{tmp_path / 'geo.db'}"
    monkeypatch.setenv("RAILWATCH_DB", url)
    monkeypatch.setattr(_common.console, "width", 120)
    return Database(url)


def _processed_scene(db: Database, folder: Path, tif_crs: str) -> tuple[int, str]:
    """A processed, usable scene of site ``yard`` from a GeoTIFF in ``tif_crs``: its id
    and CRS."""
    from report_db import FakeCount, FakeQuality

    info = inspect_scene(_geotiff(folder, tif_crs), date=datetime(2023, 10, 5, 2, tzinfo=UTC))
    site_geom = box(LON0 + 20 * DLON, LAT0 - 380 * DLAT, LON0 + 580 * DLON, LAT0 - 20 * DLAT)
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name="yard", geometry=site_geom))
        scene, _ = repo.add_scene(s, site, info, 1.0)
        count = FakeCount(5.0, 4.0, 6.0, {"tank": (5.0, 4.0, 6.0)}, 0)
        repo.record_scene_result(s, scene.id, FakeQuality(0.97), [], count, "default", "2.8")
        return int(scene.id), info.crs


def _stored_rings(db: Database, scene_id: int) -> list[np.ndarray]:
    """The stored outlines of the scene's review, in lon/lat (WGS84) as stored."""
    with db.session(readonly=True) as s:
        review = s.query(SceneReview).filter(SceneReview.scene_id == scene_id).one()
        return [np.asarray(car["lonlat"], dtype=float) for car in review.cars or []]


def _stored_native(db: Database, scene_id: int) -> list[np.ndarray]:
    with db.session(readonly=True) as s:
        review = s.query(SceneReview).filter(SceneReview.scene_id == scene_id).one()
        return [np.asarray(car["native"], dtype=float) for car in review.cars or []]


@pytest.mark.parametrize("tif_crs", TIF_CRSES)
def test_an_outline_at_an_angle_is_stored_as_the_car_on_the_ground(
    cli_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str], tif_crs: str
) -> None:
    """A 14 m x 3 m car drawn at 30° is stored 14 m x 3 m with right angles (it was
    14.65 m x 3.07 m: its rectangle fitted in degrees)."""
    sid, crs = _processed_scene(cli_db, tmp_path, tif_crs)
    lon, lat = LON0 + 300 * DLON, LAT0 - 200 * DLAT
    features = []
    for k, angle in enumerate((30.0, 60.0, -45.0)):
        ring = _car_lonlat(lon + 60 * k * DLON, lat, angle)
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[*ring.tolist(), ring[0].tolist()]],
                },
                "properties": {"class": "tank"},
            }
        )
    path = tmp_path / "outlines.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    assert main(["scene", "review", str(sid), "--cars", str(path)]) == 0
    capsys.readouterr()
    for stored in _stored_rings(cli_db, sid):
        sides = sorted(_sides_m(stored))
        assert sides[0] == pytest.approx(3.0, abs=0.01) and sides[1] == pytest.approx(3.0, abs=0.01)
        assert sides[2] == pytest.approx(14.0, abs=0.01) and sides[3] == pytest.approx(
            14.0, abs=0.01
        )
        d1, d2 = _diagonals_m(stored)  # a rectangle's diagonals are equal
        assert d1 == pytest.approx(d2, abs=0.01)
        assert d1 == pytest.approx(math.hypot(14.0, 3.0), abs=0.01)
    # the native polygons are in the scene's CRS (NAD83 or ETRS89 degrees)
    with cli_db.session(readonly=True) as s:
        review = s.query(SceneReview).filter(SceneReview.scene_id == sid).one()
        assert review.native_crs == crs


@pytest.mark.parametrize("tif_crs", TIF_CRSES)
def test_scene_cars_of_a_lonlat_scene_round_trip_unchanged(
    cli_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str], tif_crs: str
) -> None:
    """``scene cars`` writes the stored outlines to the millimetre in the scene's
    degrees, and giving them back unchanged stores the same outlines (NAD83's were
    points; in EPSG:4326 each round trip fitted a larger box in degrees)."""
    sid, crs = _processed_scene(cli_db, tmp_path, tif_crs)
    lon, lat = LON0 + 300 * DLON, LAT0 - 200 * DLAT
    ring = _car_lonlat(lon, lat, 30.0)
    to_scene = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = to_scene.transform(ring[:, 0], ring[:, 1])
    native = np.column_stack([x, y])
    fc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": crs}},
        "features": [
            {
                "type": "Feature",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[*native.tolist(), native[0].tolist()]],
                },
                "properties": {"class": "tank"},
            }
        ],
    }
    path = tmp_path / "outlines.geojson"
    path.write_text(json.dumps(fc))
    assert main(["scene", "review", str(sid), "--cars", str(path)]) == 0
    first = _stored_native(cli_db, sid)[0]
    out = tmp_path / "cars.geojson"
    for _ in range(3):  # cars out, given back unchanged, three times
        assert main(["scene", "cars", str(sid), "-o", str(out)]) == 0
        written = json.loads(out.read_text())
        assert written["source"] == "analyst"
        corners = np.asarray(written["features"][0]["geometry"]["coordinates"][0])[:4]
        assert len({tuple(p) for p in corners.tolist()}) == 4
        # each stored corner written to within 1e-8 degree
        dist = np.abs(corners[:, None, :] - first[None, :, :]).max(axis=2).min(axis=0)
        assert dist.max() < 1e-8
        assert main(["scene", "review", str(sid), "--cars", str(out)]) == 0
    capsys.readouterr()
    last = _stored_native(cli_db, sid)[0]
    dist = np.abs(last[:, None, :] - first[None, :, :]).max(axis=2).min(axis=0)
    assert dist.max() < 2e-8  # the same corners, to about 2 mm
    sides = sorted(_sides_m(_stored_rings(cli_db, sid)[0]))
    assert sides[0] == pytest.approx(3.0, abs=0.01) and sides[3] == pytest.approx(14.0, abs=0.01)
