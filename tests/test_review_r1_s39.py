"""Review r1 (session 39) of `railwatch detect`, `eval` and the exports, as a remote
sensing user runs them: the faults it found, each fixed.

- `detect IMG -o IMG` (or `scene cars ID -o IMAGE`) wrote the GeoJSON over the image:
  :func:`railwatch.detect.geojson.write_geojson` refuses a file there that is no JSON.
- `detect --wgs84` of an image in a CRS whose axes point south and west (S-JTSK /
  Krovak, EPSG:5513) wrote every car's ring clockwise, against RFC 7946.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from pyproj import Geod, Transformer
from shapely.geometry import LinearRing

from imagery_helpers import write_geotiff
from railwatch.cli.main import main
from railwatch.detect.base import Detection, OrientedBox
from railwatch.detect.geojson import to_feature_collection, write_geojson
from railwatch.errors import InputError

_FC = {"type": "FeatureCollection", "features": []}


def _rgb(h: int, w: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, (3, h, w), dtype=np.uint8)


def test_detect_output_over_its_own_image_is_refused_and_the_image_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    img = write_geotiff(tmp_path / "yard.tif", _rgb(96, 96))
    before = img.read_bytes()
    assert main(["detect", str(img), "-o", str(img)]) != 0
    err = " ".join(capsys.readouterr().err.split())
    assert "is a TIFF image, which they would replace" in err
    assert "yard.detections.geojson" in err  # the name to give instead
    assert img.read_bytes() == before


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("photo.png", b"\x89PNG\r\n\x1a\n" + bytes(32), "a PNG image"),
        ("photo.jpg", b"\xff\xd8\xff\xe0" + bytes(32), "a JPEG image"),
        ("notes.txt", b"yard notes, 2026\n", "not a GeoJSON file"),
    ],
)
def test_write_geojson_keeps_a_file_that_is_no_json(
    tmp_path: Path, name: str, content: bytes, kind: str
) -> None:
    out = tmp_path / name
    out.write_bytes(content)
    with pytest.raises(InputError, match=kind):
        write_geojson(out, _FC)
    assert out.read_bytes() == content


def test_write_geojson_keeps_a_database(tmp_path: Path) -> None:
    db = tmp_path / "railwatch.geojson"
    with sqlite3.connect(db) as con:
        con.execute("create table t (x)")
    con.close()
    before = db.read_bytes()
    with pytest.raises(InputError, match="an SQLite database"):
        write_geojson(db, _FC)
    assert db.read_bytes() == before


@pytest.mark.parametrize(
    "old",
    [
        b"",
        b'{"type": "FeatureCollection"}',
        b'\xef\xbb\xbf\n {"a": 1}',
        b'\x1e{"type": "Feature"}\n',
    ],
)
def test_write_geojson_replaces_json_and_empty_files_as_before(tmp_path: Path, old: bytes) -> None:
    out = tmp_path / "yard.detections.geojson"
    out.write_bytes(old)
    write_geojson(out, _FC)
    assert out.read_text().startswith('{"type": "FeatureCollection"')


# RFC 7946: a car's ring is counter-clockwise in lon/lat, whatever CRS it came from


@pytest.mark.parametrize("epsg", [5513, 2065, 32633, 5514, 3035])
def test_wgs84_rings_are_counter_clockwise_from_a_mirroring_crs(epsg: int) -> None:
    # a yard near Prague, in each CRS
    x, y = Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True).transform(14.4, 50.1)
    dets = [
        Detection(OrientedBox(x + 40 * k, y, 15.0, 3.0, a), "tank", 0.9)
        for k, a in enumerate((0.0, 33.0, -70.0))
    ]
    fc = to_feature_collection(dets, crs=f"EPSG:{epsg}", to_crs="EPSG:4326")
    assert "crs" not in fc
    for feat in fc["features"]:
        ring = feat["geometry"]["coordinates"][0]
        assert feat["geometry"]["type"] == "Polygon" and ring[0] == ring[-1]
        assert LinearRing(ring).is_ccw
        # still the car: 15 m x 3 m on the ground
        area, _ = Geod(ellps="WGS84").polygon_area_perimeter(
            [p[0] for p in ring], [p[1] for p in ring]
        )
        assert abs(abs(area) - 45.0) < 0.5


# `railwatch eval`: scenes without a car in the truth, left out of MAPE and within ±15 %


def _car(k: int, cls: str = "tank") -> dict[str, object]:
    x = 20.0 + 60.0 * k  # 50 x 10 px cars (15 x 3 m at 0.3 m) along a row
    ring = [[x, 20.0], [x + 50.0, 20.0], [x + 50.0, 30.0], [x, 30.0], [x, 20.0]]
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"class": cls, "score": 0.9, "covered": False},
    }


def _scene(folder: Path, name: str, kind: str, cars: int, gsd: float = 0.3) -> None:
    fc = {
        "type": "FeatureCollection",
        "crs": None,
        "gsd": gsd,
        "features": [_car(k) for k in range(cars)],
    }
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.{kind}.geojson").write_text(json.dumps(fc))


def _empty_yard_folders(tmp_path: Path) -> tuple[Path, Path]:
    truth, pred = tmp_path / "truth", tmp_path / "pred"
    # two yards read exactly; an empty one given 5 false cars; an empty one read empty
    for name, t, p in (("a", 4, 4), ("b", 6, 6), ("empty", 0, 5), ("still", 0, 0)):
        _scene(truth, name, "truth", t)
        _scene(pred, name, "detections", p)
    return truth, pred


def test_eval_json_says_which_scenes_mape_is_over(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truth, pred = _empty_yard_folders(tmp_path)
    assert main(["eval", "--truth", str(truth), "--pred", str(pred), "--json"]) == 0
    count = json.loads(capsys.readouterr().out)["overall"]["count"]
    assert count["scenes"] == 4
    assert count["mape"] == 0.0 and count["within_15pct"] == 1.0  # over the two with cars
    assert count["relative_scenes"] == 2
    assert count["empty_truth_scenes"] == 2
    assert count["empty_truth_with_predictions"] == 1
    assert count["empty_truth_predicted"] == 5.0
    assert count["mae"] == 1.25  # the empty yard's 5 false cars are in the MAE


def test_eval_table_says_mape_leaves_out_the_empty_yards(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truth, pred = _empty_yard_folders(tmp_path)
    assert main(["eval", "--truth", str(truth), "--pred", str(pred)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "count MAPE and within ±15 % are over the 2 of 4 scenes with cars in the truth" in out
    assert "2 scenes without a car in the truth: 1 of them has predictions, 5 in all" in out


def test_eval_table_of_empty_truth_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    truth, pred = tmp_path / "truth", tmp_path / "pred"
    _scene(truth, "empty", "truth", 0)
    _scene(pred, "empty", "detections", 3)
    assert main(["eval", "--truth", str(truth), "--pred", str(pred)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "count MAPE and within ±15 % are undefined: no scene has a car in the truth" in out
    assert "1 scene without a car in the truth: 3 predicted there (in count MAE)." in out


def test_eval_says_nothing_more_without_an_empty_yard(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truth, pred = tmp_path / "truth", tmp_path / "pred"
    _scene(truth, "a", "truth", 4)
    _scene(pred, "a", "detections", 3)
    assert main(["eval", "--truth", str(truth), "--pred", str(pred)]) == 0
    assert "without a car in the truth" not in " ".join(capsys.readouterr().out.split())


def test_eval_groups_real_pixel_sizes_by_resolution(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truth, pred = tmp_path / "truth", tmp_path / "pred"
    # pixel sizes as images give them: in degrees at 47.5 N, a UTM grid of 0.2998 m,
    # a 0.5 m product resampled; and round ones
    sizes = {"geo": 0.3003408095296486, "utm": 0.2998, "half": 0.5012, "a": 0.3, "b": 0.75}
    for name, gsd in sizes.items():
        _scene(truth, name, "truth", 3, gsd)
        _scene(pred, name, "detections", 3, gsd)
    assert main(["eval", "--truth", str(truth), "--pred", str(pred), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    groups = rep["by_resolution"]
    assert list(groups) == ["0.3", "0.5", "0.75"]
    assert [groups[k]["scenes"] for k in groups] == [3, 1, 1]
    # each scene keeps its own pixel size
    assert {r["name"]: r["gsd"] for r in rep["scenes"]} == sizes


# RFC 7946: longitudes within ±180, a car of an image in degrees past 180° too


@pytest.mark.parametrize(
    ("lon", "crs"),
    [
        (180.0006, "EPSG:4326"),
        (200.0, "EPSG:4326"),
        (180.0006, "EPSG:4269"),
        (-180.0006, "EPSG:4326"),
    ],
)
@pytest.mark.parametrize("wgs84", [False, True])
def test_cars_beyond_180_are_written_within_it(lon: float, crs: str, wgs84: bool) -> None:
    # a car of about 15 x 3 m at 65 N (degrees), wholly past the antimeridian
    box = OrientedBox(lon, 65.0, 0.00032, 0.000027, 10.0)
    fc = to_feature_collection(
        [Detection(box, "tank", 0.9)], crs=crs, to_crs="EPSG:4326" if wgs84 else None
    )
    geom = fc["features"][0]["geometry"]
    assert geom["type"] == "Polygon"
    ring = geom["coordinates"][0]
    assert all(-180.0 <= x <= 180.0 for x, _ in ring)
    assert LinearRing(ring).is_ccw
    # the same place: 360 degrees round
    centre = sum(x for x, _ in ring[:-1]) / 4
    assert abs((centre - lon + 180.0) % 360.0 - 180.0) < 1e-5


# a radar image (complex numbers) is refused, not detected as a photograph


@pytest.mark.parametrize("dtype", ["complex64", "complex_int16"])
def test_detect_refuses_a_complex_sar_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], dtype: str
) -> None:
    import rasterio
    from rasterio.transform import from_origin

    img = tmp_path / "slc.tif"
    data = _rgb(96, 96)[:1].astype(np.float32)
    with rasterio.open(
        img,
        "w",
        driver="GTiff",
        width=96,
        height=96,
        count=1,
        dtype=dtype,
        crs="EPSG:32632",
        transform=from_origin(618000, 5266000, 0.5, 0.5),
    ) as ds:
        ds.write((data + 1j * data).astype(np.complex64) if dtype == "complex64" else data)
    assert main(["detect", str(img), "-o", str(tmp_path / "slc.geojson")]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "slc.tif holds complex numbers" in err and "not an optical image" in err
    assert not (tmp_path / "slc.geojson").exists()


def test_detect_output_that_is_a_folder_says_to_give_out_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    img = write_geotiff(tmp_path / "yard.tif", _rgb(96, 96))
    folder = tmp_path / "results"
    folder.mkdir()
    assert main(["detect", str(img), "-o", str(folder)]) != 0
    err = " ".join(capsys.readouterr().err.split())
    assert f"cannot write detections to {folder}: it is a folder" in err
    assert f"--out-dir {folder} in place of -o" in err
    assert not any(folder.iterdir())


# an image georeferenced only by ground control points or RPCs: said how to map it


def _unmapped(path: Path, how: str) -> Path:
    import warnings

    import rasterio
    from rasterio.control import GroundControlPoint
    from rasterio.crs import CRS
    from rasterio.errors import NotGeoreferencedWarning
    from rasterio.rpc import RPC

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(
            path, "w", driver="GTiff", width=96, height=96, count=3, dtype="uint8"
        ) as ds:
            ds.write(_rgb(96, 96))
            if how == "gcps":
                points = [
                    GroundControlPoint(r, c, 618000 + 0.5 * c, 5266000 - 0.5 * r)
                    for r, c in ((0, 0), (0, 96), (96, 0), (96, 96))
                ]
                ds.gcps = (points, CRS.from_epsg(32632))
            else:
                ds.rpcs = RPC(
                    height_off=300, height_scale=500, lat_off=47.5, lat_scale=0.01,
                    line_den_coeff=[1.0] + [0.0] * 19, line_num_coeff=[0, 0, -1.0] + [0.0] * 17,
                    line_off=48, line_scale=48, long_off=10.5, long_scale=0.01,
                    samp_den_coeff=[1.0] + [0.0] * 19, samp_num_coeff=[0, 1.0] + [0.0] * 18,
                    samp_off=48, samp_scale=48,
                )  # fmt: skip
    return path


@pytest.mark.parametrize(
    ("how", "said"),
    [
        ("gcps", "It has ground control points but no map grid, which railwatch needs"),
        ("rpcs", "It has RPCs (the sensor's model) but no map grid, which railwatch needs"),
    ],
)
@pytest.mark.parametrize("scale_check", [[], ["--no-scale-check"]])
def test_detect_says_how_to_map_an_image_of_gcps_or_rpcs(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    how: str,
    said: str,
    scale_check: list[str],
) -> None:
    img = _unmapped(tmp_path / "l1b.tif", how)
    assert main(["detect", str(img), *scale_check]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "l1b.tif is not georeferenced" in err and "--gsd METRES" in err
    assert said in err and "gdalwarp" in err and "l1b.tif OUT.tif" in err
