"""Review of session 34's GIS and CRS commits (2026-12-05, session 34).

- ``railwatch eval`` and ``train --labels`` checked that a file's coordinates can be
  longitude/latitude only when its CRS was the string ``EPSG:4326``: metres under a
  ``crs`` member naming NAD83 (EPSG:4269) or ``OGC:CRS84`` ended in eval's internal error
  ('getX called on empty Point') and in labels' "feature 0 is 0.0 m x 0.0 m ... not one
  railcar".
- ``railwatch scene cars ID`` of a scene in lon/lat wrote the detector's cars as boxes
  fitted in degrees: a 14 m x 3.2 m car at 30 deg came out sheared (01ce3c7 mended the
  analyst's outlines only), and ``scene review --cars`` of that file stored it so.
- The detections layer (cc65e00) read the site's geometry again for each car and built
  a new pyproj transformer for each analyst outline of a lon/lat or Web Mercator image.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pyproj import Transformer
from shapely import affinity
from shapely.geometry import box, mapping

from railwatch.cli.main import main
from railwatch.errors import InputError
from railwatch.storage import Database, repo
from railwatch.storage.models import Detection
from report_db import CAR_LEN, CAR_STEP, CAR_WID, SITE_NAME, TRACK_Y, X0, populate, to_wgs84

UTM = "EPSG:32652"
#: Named geographic CRSes other than the string EPSG:4326 (CRS84 is lon/lat as written).
LONLAT_CRSES = ["EPSG:4269", "OGC:CRS84"]


def _ring(cx: float, cy: float, angle: float = 0.0) -> list[list[float]]:
    """A 14 m x 3 m car's closed ring in UTM metres."""
    body = affinity.rotate(box(cx - 7.0, cy - 1.5, cx + 7.0, cy + 1.5), angle, origin="centroid")
    return [[float(x), float(y)] for x, y in body.exterior.coords]


def _fc(rings: list[list[list[float]]], crs: str | None) -> dict[str, Any]:
    fc: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [r]},
                "properties": {"class": "tank"},
            }
            for r in rings
        ],
    }
    if crs is not None:
        fc["crs"] = {"type": "name", "properties": {"name": crs}}
    return fc


def _to_lonlat(ring: list[list[float]], src: str = UTM) -> list[list[float]]:
    tr = Transformer.from_crs(src, "EPSG:4326", always_xy=True)
    xs, ys = tr.transform([p[0] for p in ring], [p[1] for p in ring])
    return [[float(x), float(y)] for x, y in zip(xs, ys, strict=True)]


# ------------------------------------------------ eval: metres under a lon/lat CRS


@pytest.mark.parametrize("crs", LONLAT_CRSES)
def test_eval_refuses_metres_under_a_named_lonlat_crs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], crs: str
) -> None:
    x0, y0 = 630_000.0, 4_700_000.0
    rings = [_ring(x0 + 20 * i, y0) for i in range(2)]
    (tmp_path / "t").mkdir()
    (tmp_path / "p").mkdir()
    (tmp_path / "p/a.detections.geojson").write_text(json.dumps(_fc(rings, UTM)))
    # the same cars in lon/lat under that CRS's name are read (near enough: NAD83 and
    # WGS84 differ by about a metre here) ...
    lonlat = _fc([_to_lonlat(r) for r in rings], crs)
    (tmp_path / "t/a.truth.geojson").write_text(json.dumps(lonlat))
    assert main(["eval", "--truth", str(tmp_path / "t"), "--pred", str(tmp_path / "p")]) == 0
    capsys.readouterr()
    # ... their metres under it are refused, naming it (HEAD: internal error, rc 70)
    (tmp_path / "t/a.truth.geojson").write_text(json.dumps(_fc(rings, crs)))
    assert main(["eval", "--truth", str(tmp_path / "t"), "--pred", str(tmp_path / "p")]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "a.truth.geojson: its coordinates (e.g. " in err, err
    assert f"are not longitude/latitude, which its 'crs' member names ({crs}" in err, err
    assert "internal error" not in err


# ------------------------------------------- labels: metres under a lon/lat CRS


def _labelled(folder: Path, fc: dict[str, Any]) -> None:
    """A 0.5 m UTM (EPSG:32633) GeoTIFF ``a.tif`` with the label file ``fc``."""
    import rasterio
    from rasterio.transform import from_origin

    folder.mkdir()
    with rasterio.open(
        folder / "a.tif",
        "w",
        driver="GTiff",
        width=256,
        height=256,
        count=3,
        dtype="uint8",
        crs="EPSG:32633",
        transform=from_origin(500000, 4700000, 0.5, 0.5),
    ) as ds:
        ds.write(np.random.default_rng(0).integers(60, 140, (3, 256, 256)).astype("uint8"))
    (folder / "a.truth.geojson").write_text(json.dumps(fc))


@pytest.mark.parametrize("crs", LONLAT_CRSES)
def test_labels_refuse_metres_under_a_named_lonlat_crs(tmp_path: Path, crs: str) -> None:
    from railwatch.detect.labels import load_labelled_dir

    ring = _ring(500057.5, 4699948.5)
    # in lon/lat under that CRS's name the car is read ...
    _labelled(tmp_path / "ok", _fc([_to_lonlat(ring, "EPSG:32633")], crs))
    assert load_labelled_dir(tmp_path / "ok")
    # ... in metres under it, refused as not lon/lat (HEAD: "0.0 m x 0.0 m ... not one
    # railcar", and NumPy's warnings)
    _labelled(tmp_path / "bad", _fc([ring], crs))
    with pytest.raises(InputError) as err:
        load_labelled_dir(tmp_path / "bad")
    said = str(err.value)
    assert f"are not longitude/latitude, which its 'crs' member names ({crs}" in said, said
    assert "the image's CRS (EPSG:32633)" in said and "0.0 m x 0.0 m" not in said


# ----------------------------------------- scene cars: the detector's cars in lon/lat


@pytest.fixture(scope="module")
def yard(tmp_path_factory: pytest.TempPathFactory) -> tuple[Database, list[int]]:
    tmp = tmp_path_factory.mktemp("gis_review_s34")
    db = Database(f"sqlite:///{tmp / 'g.db'}")
    return db, populate(db, tmp / "scenes")["scene_ids"]


def _ground_sides(coords: list[list[float]], ring_crs: str) -> tuple[float, float, float]:
    """A 4-corner ring's two sides in metres (UTM) and the angle between them (deg)."""
    tr = Transformer.from_crs(ring_crs, UTM, always_xy=True)
    pts = np.array([tr.transform(x, y) for x, y in coords[:4]])
    u, v = pts[1] - pts[0], pts[3] - pts[0]
    cos = float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)))
    sides = sorted((float(np.linalg.norm(u)), float(np.linalg.norm(v))))
    return sides[1], sides[0], math.degrees(math.acos(cos))


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:4269"])
def test_scene_cars_writes_the_detectors_cars_as_they_lie_on_the_ground(
    yard: tuple[Database, list[int]], crs: str
) -> None:
    """The detector's cars (stored in the site's UTM zone) of a scene whose image is in
    lon/lat, turned 30 deg: written by ``scene cars`` in the scene's degrees, each must
    still be a 14 m x 3.2 m rectangle on the ground (HEAD: its box fitted in degrees,
    14.6 m x 3.3 m and no right angle)."""
    from railwatch.review import scene_cars

    db, ids = yard
    scene_id = ids[-1] if crs == "EPSG:4326" else ids[-2]
    with db.session() as s:
        scene = repo.get_scene(s, scene_id)
        scene.crs = crs
        stored = list(s.query(Detection).filter(Detection.scene_id == scene_id))
        assert len(stored) >= 5
        for d in stored:
            turned = affinity.rotate(d.native_geometry, 30.0, origin="centroid")
            d.native_wkb = turned.wkb
            d.geometry_wkb = to_wgs84(turned).wkb
        s.flush()
        fc = scene_cars(s, scene_id, "detector")
    cars = [f for f in fc["features"] if f["geometry"]["type"] == "Polygon"]
    assert len(cars) == len(stored)
    for f in cars:
        length, width, corner = _ground_sides(f["geometry"]["coordinates"][0], crs)
        assert length == pytest.approx(CAR_LEN, abs=0.01), (length, width, corner)
        assert width == pytest.approx(CAR_WID, abs=0.01), (length, width, corner)
        assert corner == pytest.approx(90.0, abs=0.05)


# --------------------------------------- the detections layer: nothing rebuilt per car


def test_detection_layer_reads_the_site_once_and_reuses_its_transformer(
    yard: tuple[Database, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """40 analyst outlines of a lon/lat image and the site's detector cars: the site's
    point is read once per layer and per reviewed scene (HEAD: once per car) and the
    outlines share a transformer to UTM (HEAD: a new one per outline, 0.5 ms each)."""
    import railwatch.export.layers as layers
    from railwatch.review import cars_from_feature_collection

    db, ids = yard
    scene_id = ids[-4]
    features = []
    for k in range(40):
        x = X0 + 60.0 + (k % 20) * CAR_STEP
        y = TRACK_Y + (k // 20) * 6.0
        body = affinity.rotate(box(x - 7, y - 1.5, x + 7, y + 1.5), 30.0, origin="centroid")
        features.append({"type": "Feature", "geometry": mapping(to_wgs84(body)), "properties": {}})
    with db.session() as s:
        scene = repo.get_scene(s, scene_id)
        scene.crs = "EPSG:4326"
        s.flush()
        cars = cars_from_feature_collection(
            {"type": "FeatureCollection", "features": features}, scene, scene.site
        )
        repo.set_scene_review(s, scene_id, cars=cars)

    points = []
    real_point = layers._site_point

    def counted_point(site: Any) -> Any:
        points.append(1)
        return real_point(site)

    monkeypatch.setattr(layers, "_site_point", counted_point)
    built = []
    real_from_crs = Transformer.from_crs

    def counting(*args: Any, **kwargs: Any) -> Transformer:
        built.append(args[:2])
        return real_from_crs(*args, **kwargs)

    monkeypatch.setattr(Transformer, "from_crs", staticmethod(counting))
    import railwatch.imagery._geo as geo

    geo._cached_transformer.cache_clear()  # the first use builds one
    with db.session() as s:
        site = repo.get_site(s, SITE_NAME)
        layer = layers.detection_layer(s, site, list(site.scenes))
    rows = [r for r in layer.records if r["scene_id"] == scene_id and r["source"] == "analyst"]
    assert len(rows) == 40
    assert all(r["length_m"] == pytest.approx(14.0, abs=0.01) for r in rows)
    assert len(layer.records) > 100
    assert len(points) <= 2, len(points)  # once for the layer, once for the reviewed scene
    assert len(built) <= 1, built  # one transformer to the site's UTM zone


# ---------------------------------------- scene review --cars: metres under lon/lat


@pytest.mark.parametrize("crs", [None, "EPSG:4326", "EPSG:4269"])
def test_review_refuses_metres_read_as_lonlat(
    yard: tuple[Database, list[int]], crs: str | None
) -> None:
    """Outlines in UTM metres without a 'crs' member (RFC 7946: lon/lat), or under one
    naming a geographic CRS: refused as not lon/lat (HEAD: GEOSException 'getX called on
    empty Point', the CLI's internal error and the web API's 500)."""
    from railwatch.review import cars_from_feature_collection

    db, ids = yard
    rings = [_ring(X0 + 70.0 + k * CAR_STEP, TRACK_Y) for k in range(3)]
    with db.session() as s:
        scene = repo.get_scene(s, ids[0])
        # the same cars in lon/lat are read (the control)
        assert (
            len(
                cars_from_feature_collection(
                    _fc([_to_lonlat(r) for r in rings], crs), scene, scene.site
                )
            )
            == 3
        )
        with pytest.raises(InputError) as err:
            cars_from_feature_collection(_fc(rings, crs), scene, scene.site, source="cars.geojson")
    said = str(err.value)
    assert said.startswith("cars.geojson: feature 0 has coordinates (e.g. 550"), said
    assert "that are not longitude/latitude" in said
    assert ("without a 'crs' member" if crs in (None, "EPSG:4326") else f"names ({crs}") in said
