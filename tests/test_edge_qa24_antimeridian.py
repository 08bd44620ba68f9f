"""A car across the antimeridian: its ``inside`` flag and ``detect --wgs84`` (session 24's
edge cases).

A detection is stored in WGS84 as its four corners transformed one by one, so a car
across 180° is one ring from +179.9999° to -179.9999°. ``records_from_detections`` took
its ``inside`` flag from that ring's centroid, near 0° longitude: False even when the
car's centre is in the site, so report chips, the web filter and the export's ``inside``
column dropped it. It is now the car's centre in the image's own CRS. And
``to_feature_collection(..., to_crs="EPSG:4326")`` (``railwatch detect --wgs84``) wrote
such a car as a Polygon spanning -180..180; it is now a MultiPolygon split at 180° (RFC
7946 3.1.9), which ``read_geojson`` (``railwatch eval``) joins again.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyproj import Transformer
from rasterio.transform import from_origin
from shapely.geometry import MultiPolygon, Polygon, shape

from imagery_helpers import write_geotiff, yard_scene
from railwatch.detect.base import Detection, OrientedBox
from railwatch.detect.eval import reproject
from railwatch.detect.geojson import WGS84, from_feature_collection, to_feature_collection
from railwatch.errors import InputError
from railwatch.export.gis import export_site
from railwatch.sites import SiteSpec
from railwatch.storage import Database, records_from_detections, repo
from report_db import FakeCount, FakeInfo, FakeQuality
from test_followup_qa24_antimeridian import OX, OY, RES, SIZE, UTM60S, _wgs

#: The site: columns 200-298 of the Fiji image (180° runs down column 300).
SITE = _wgs((200, 298), (100, 300))
TRANSFORM = from_origin(OX, OY, RES, RES)


def _car(col: float) -> Detection:
    """A car of 14 x 3.2 m centred at pixel column ``col``, row 200, along the rows."""
    return Detection(OrientedBox(col, 200.0, 28.0, 6.4, 0.0), "tank", 0.9, False, 0.1)


@pytest.mark.parametrize(
    ("col", "inside"),
    [
        (292.0, True),  # across 180°, its centre in the site: was False
        (250.0, True),  # in the site, west of 180°
        (150.0, False),  # west of the site
        (310.0, False),  # across 180°, its centre east of 180° and of the site
    ],
)
def test_inside_is_the_cars_centre_in_the_site(col: float, inside: bool) -> None:
    (record,) = records_from_detections([_car(col)], TRANSFORM, UTM60S, site_geom_wgs84=SITE)
    assert record.inside is inside
    assert isinstance(record.polygon, Polygon)  # stored as before (its readers take a Polygon)


def test_the_export_keeps_a_car_across_180_inside_the_site(tmp_path: Path) -> None:
    image = write_geotiff(
        tmp_path / "fiji_2024-05-01.tif", yard_scene(SIZE, SIZE), crs=UTM60S, origin=(OX, OY)
    )
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name="fiji", geometry=SITE))
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
        records = records_from_detections(
            [_car(292.0), _car(250.0)], TRANSFORM, UTM60S, site_geom_wgs84=SITE
        )
        count = FakeCount(2.0, 2.0, 2.0, {"tank": (2.0, 2.0, 2.0)}, 0)
        repo.record_scene_result(s, scene.id, FakeQuality(0.97), records, count, "test", "1")
    export_site(db, "fiji", "geojson", tmp_path / "gj")
    features = json.loads((tmp_path / "gj" / "detections.geojson").read_text())["features"]
    assert [f["properties"]["inside"] for f in features] == [True, True]  # was [False, True]
    assert isinstance(shape(features[0]["geometry"]), MultiPolygon)


def _utm_car(col: float) -> Detection:
    """:func:`_car` in the image's CRS (metres), as ``detect_file`` returns it."""
    x, y = OX + col * RES, OY - 200.0 * RES
    return Detection(OrientedBox(x, y, 14.0, 3.2, 0.0), "tank", 0.9, False, 0.1)


def test_detect_wgs84_writes_a_car_across_180_split_there() -> None:
    fc = to_feature_collection([_utm_car(292.0), _utm_car(250.0)], crs=UTM60S, to_crs=WGS84)
    across, west = (f["geometry"] for f in fc["features"])
    assert across["type"] == "MultiPolygon"  # was a Polygon spanning -180..180
    parts = [Polygon(p[0]) for p in across["coordinates"]]
    assert len(parts) == 2
    lons = [x for p in parts for x, _ in p.exterior.coords]
    assert all(-180 <= x <= 180 for x in lons)
    east_part, west_part = sorted(parts, key=lambda p: p.bounds[0])
    assert east_part.bounds[2] <= -179.999 and west_part.bounds[0] >= 179.999
    assert all(p.exterior.is_ccw for p in parts)  # RFC 7946 winding
    # its ground area is a car's: as the car west of 180° (was about 1e4 times)
    assert sum(p.area for p in parts) / shape(west).area == pytest.approx(1.0, rel=0.01)
    # a car that does not cross 180° is the same Polygon as before
    assert west["type"] == "Polygon"
    assert shape(west).bounds[2] - shape(west).bounds[0] < 0.001


def test_a_car_split_at_180_reads_back_as_one_car() -> None:
    """``railwatch eval`` reads ``detect --wgs84`` output and moves it into the truth's
    CRS: the split car is one box again, where it was (a MultiPolygon was refused; the
    ring spanning -180..180 was a box round the Earth)."""
    cars = [_utm_car(292.0), _utm_car(250.0)]
    fc = json.loads(json.dumps(to_feature_collection(cars, crs=UTM60S, to_crs=WGS84)))
    back = reproject(from_feature_collection(fc), UTM60S)
    assert len(back.detections) == 2
    for got, want in zip(back.detections, cars, strict=True):
        assert got.box.cx == pytest.approx(want.box.cx, abs=0.05)
        assert got.box.cy == pytest.approx(want.box.cy, abs=0.05)
        assert got.box.length == pytest.approx(14.0, abs=0.05)
        assert got.box.width == pytest.approx(3.2, abs=0.05)


def test_a_multipolygon_that_is_not_split_at_180_is_still_refused() -> None:
    """Two cars drawn as one feature are not a car across 180°."""
    to_wgs = Transformer.from_crs(UTM60S, WGS84, always_xy=True)
    rings = []
    for col in (200.0, 250.0):
        x, y = OX + col * RES, OY - 200.0 * RES
        corners = [(x - 7, y - 1.6), (x + 7, y - 1.6), (x + 7, y + 1.6), (x - 7, y + 1.6)]
        ring = [list(to_wgs.transform(cx, cy)) for cx, cy in corners]
        rings.append([[*ring, ring[0]]])
    fc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": {"type": "MultiPolygon", "coordinates": rings}}
        ],
    }
    with pytest.raises(InputError, match="is a MultiPolygon, not a Polygon"):
        from_feature_collection(fc)
