"""eval compares lon/lat truth in the UTM zone of its cars: for a yard across 180° the
zone came from the plain mean longitude (near 0° for cars at 179.99° and -179.99°), a
zone on the other side of the Earth, where a 14 m car measured 47 m."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyproj import Transformer

from railwatch.detect.base import Detection, OrientedBox
from railwatch.detect.eval import _metric_crs, evaluate_dirs
from railwatch.detect.geojson import read_geojson, to_feature_collection, write_geojson


def _car(x: float, y: float) -> Detection:
    return Detection(OrientedBox(x, y, 14.0, 3.2, 30.0), cls="boxcar")


@pytest.mark.parametrize(("lat", "utm"), [(-16.5, "EPSG:32760"), (65.0, "EPSG:32660")])
def test_cars_on_both_sides_of_180_are_measured_in_their_own_zone(
    tmp_path: Path, lat: float, utm: str
) -> None:
    x180, y = Transformer.from_crs("EPSG:4326", utm, always_xy=True).transform(180.0, lat)
    # three cars west of 180°, one east of it: the plain mean longitude is 90°
    truth = [_car(x180 - 40, y), _car(x180 + 40, y), _car(x180 - 40, y + 20)]
    truth.append(_car(x180 - 40, y + 40))
    pred = [Detection(OrientedBox(d.box.cx + 2.0, d.box.cy + 0.5, 14.0, 3.2, 30.0)) for d in truth]
    tdir, pdir = tmp_path / "truth", tmp_path / "pred"
    for path, cars in ((tdir / "s.truth.geojson", truth), (pdir / "s.detections.geojson", pred)):
        write_geojson(path, to_feature_collection(cars, crs=utm, gsd=0.5, to_crs="EPSG:4326"))
    t = read_geojson(tdir / "s.truth.geojson")
    assert {round(d.box.cx) for d in t.detections} == {180, -180}  # lon/lat, both sides

    metric = _metric_crs(t, read_geojson(pdir / "s.detections.geojson"))
    assert metric == utm  # the old code: EPSG:32745 / EPSG:32645 (lon 93°)
    moved = read_geojson(tdir / "s.truth.geojson", to_crs=metric)
    for d in moved.detections:  # 47.0 x 10.7 m in zone 45 at 16.5° S
        assert d.box.length == pytest.approx(14.0, abs=0.02)
        assert d.box.width == pytest.approx(3.2, abs=0.02)

    (scene,) = evaluate_dirs(tdir, pred_dir=pdir)
    assert scene.prf[0.5].f1 == 1.0
