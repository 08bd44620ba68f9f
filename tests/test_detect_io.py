"""detect_file on GeoTIFF and PNG, the GeoJSON layout, and `railwatch detect`."""

from __future__ import annotations

import json
import warnings
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from railwatch.cli.main import main
from railwatch.detect import registry
from railwatch.detect.api import detect_file
from railwatch.detect.base import Detection, OrientedBox, corners_of
from railwatch.detect.geojson import (
    from_feature_collection,
    read_geojson,
    to_feature_collection,
)
from railwatch.errors import ImageryError, InputError
from test_detect_fakes import BrightBlobDetector, draw_car, string_of_cars

X0, Y0, GSD = 500_000.0, 4_700_000.0, 0.5


def _scene() -> tuple[np.ndarray, list[OrientedBox]]:
    img = np.full((400, 500, 3), 60, np.uint8)
    boxes = string_of_cars(60, 100, 0, 5, gap=3) + string_of_cars(100, 200, 30, 4, gap=3)
    boxes.append(OrientedBox(300, 330, 28, 6, 90))
    for b in boxes:
        draw_car(img, b)
    return img, boxes


def _geotiff(path: Path, img: np.ndarray, nodata_cols: int = 0) -> Path:
    h, w = img.shape[:2]
    profile = {
        "driver": "GTiff",
        "width": w,
        "height": h,
        "count": 3,
        "dtype": "uint8",
        "crs": "EPSG:32652",
        "transform": from_origin(X0, Y0, GSD, GSD),
        "tiled": True,
        "blockxsize": 128,
        "blockysize": 128,
        "compress": "deflate",
    }
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(img.transpose(2, 0, 1))
        if nodata_cols:
            mask = np.full((h, w), 255, np.uint8)
            mask[:, :nodata_cols] = 0
            ds.write_mask(mask)
    return path


def test_geotiff_boxes_in_crs(tmp_path: Path) -> None:
    img, boxes = _scene()
    path = _geotiff(tmp_path / "yard.tif", img)
    res = detect_file(path, detector=BrightBlobDetector(), tile_px=128)
    assert res.crs == "EPSG:32652" and res.gsd == pytest.approx(GSD)
    assert (res.width, res.height) == (500, 400)
    assert len(res.detections) == len(boxes) == sum(res.counts.values())
    for b in boxes:
        x, y = X0 + b.cx * GSD, Y0 - b.cy * GSD
        near = min(res.detections, key=lambda d: np.hypot(d.box.cx - x, d.box.cy - y))
        assert np.hypot(near.box.cx - x, near.box.cy - y) < 0.75
        assert near.box.length == pytest.approx(14.0, abs=1.6)  # the fake's box is loose
        # y flips between pixel rows and northings: the angle changes sign
        assert (near.box.angle + b.angle + 90) % 180 - 90 == pytest.approx(0, abs=4)


def test_geotiff_nodata_is_not_detected(tmp_path: Path) -> None:
    img, _ = _scene()
    path = _geotiff(tmp_path / "half.tif", img, nodata_cols=250)
    res = detect_file(path, detector=BrightBlobDetector(), tile_px=128)
    assert res.detections
    assert all(d.box.cx > X0 + 250 * GSD for d in res.detections)


def test_png_needs_gsd(tmp_path: Path) -> None:
    img, boxes = _scene()
    png = tmp_path / "photo.png"
    cv2.imwrite(str(png), img[:, :, ::-1])
    with pytest.raises(
        InputError,
        match=r"not georeferenced: give its ground sample distance to detect on it \(gsd=METRES",
    ):
        detect_file(png, detector=BrightBlobDetector())
    res = detect_file(png, gsd=0.5, detector=BrightBlobDetector(), tile_px=128)
    assert res.crs is None and len(res.detections) == len(boxes)
    cx = np.sort([d.box.cx for d in res.detections])
    assert cx == pytest.approx(np.sort([b.cx for b in boxes]), abs=1.0)  # pixel coordinates


@pytest.mark.parametrize(("gsd", "hint"), [(1e9, ""), (0.0001, "degrees?"), (5e-6, "degrees?")])
def test_absurd_gsd_is_refused(tmp_path: Path, gsd: float, hint: str) -> None:
    """--gsd 1e9 was read as a 'presence' image of 200,000 km and --gsd 0.0001 (or a
    pixel size in degrees) as 0 cars, both with status 0."""
    img, _ = _scene()
    png = tmp_path / "photo.png"
    cv2.imwrite(str(png), img[:, :, ::-1])
    with pytest.raises(InputError, match=f"not the scale of an aerial or satellite image.*{hint}"):
        detect_file(png, gsd=gsd, detector=BrightBlobDetector())


def test_geojson_layout_and_roundtrip() -> None:
    dets = [
        Detection(
            OrientedBox(X0 + 10, Y0 - 20, 14, 3.2, 30),
            cls="tank",
            score=0.87,
            covered=True,
            covered_score=0.91,
        )
    ]
    fc = to_feature_collection(dets, crs="EPSG:32652", gsd=0.5)
    assert fc["crs"] == {"type": "name", "properties": {"name": "EPSG:32652"}}
    feat = fc["features"][0]
    assert feat["properties"] == {
        "class": "tank",
        "score": 0.87,
        "covered": True,
        "covered_score": 0.91,
    }
    ring = feat["geometry"]["coordinates"][0]
    assert len(ring) == 5 and ring[0] == ring[-1]
    back = from_feature_collection(json.loads(json.dumps(fc)))
    assert back.crs == "EPSG:32652" and back.gsd == 0.5
    assert back.detections[0].extra == {}
    probs = {"p_tank": 0.3, "p_boxcar": 0.7, "length_m": 14.0}
    with_probs = to_feature_collection([replace(dets[0], extra=probs)], crs="EPSG:32652")
    assert with_probs["features"][0]["properties"]["class_scores"] == {"tank": 0.3, "boxcar": 0.7}
    again = from_feature_collection(json.loads(json.dumps(with_probs))).detections[0]
    assert again.extra == {"p_tank": 0.3, "p_boxcar": 0.7}
    b = back.detections[0].box
    assert (b.cx, b.cy, b.length, b.width, b.angle) == pytest.approx(
        (X0 + 10, Y0 - 20, 14, 3.2, 30), abs=1e-2
    )
    assert back.detections[0].covered and back.detections[0].cls == "tank"
    pixel = to_feature_collection(dets, crs=None)
    assert "crs" in pixel and pixel["crs"] is None
    wgs = to_feature_collection(dets, crs="EPSG:32652", to_crs="EPSG:4326")
    assert "crs" not in wgs
    lon, lat = wgs["features"][0]["geometry"]["coordinates"][0][0]
    assert 128 < lon < 130 and 42 < lat < 43.0  # UTM 52N near 42.4 N
    with pytest.raises(InputError):
        to_feature_collection(dets, crs=None, to_crs="EPSG:4326")


def test_cli_detect(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(registry, "get_detector", lambda name="default": BrightBlobDetector())
    img, boxes = _scene()
    png = tmp_path / "photo.png"
    cv2.imwrite(str(png), img[:, :, ::-1])
    assert main(["detect", str(png)]) == 2
    assert "not georeferenced: pass --gsd" in capsys.readouterr().err
    out = tmp_path / "out.geojson"
    assert main(["detect", str(png), "--gsd", "0.5", "-o", str(out), "--tile", "128"]) == 0
    fc = json.loads(out.read_text())
    assert fc["crs"] is None and len(fc["features"]) == len(boxes)
    shown = capsys.readouterr().out
    # the table fits 80 columns (per-class counts in one column, the output below it)
    assert f"│ {len(boxes)} (" in shown and f"wrote {out}" in shown.replace("\n", "")
    assert "…" not in shown
    assert main(["detect", str(png), "--gsd", "0.5", "--wgs84", "-o", str(out)]) == 2
    tif = _geotiff(tmp_path / "yard.tif", img)
    outdir = tmp_path / "dets"
    capsys.readouterr()
    assert main(["detect", str(tif), "--out-dir", str(outdir), "--wgs84", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary[0]["total"] == len(boxes) and summary[0]["method"] == "objects"
    # the total's 90 % interval (the detector's calibration) holds the count, and the
    # GeoJSON carries it too
    assert summary[0]["low"] <= summary[0]["total"] <= summary[0]["high"]
    assert summary[0]["high"] > summary[0]["low"]
    written = json.loads((outdir / "yard.detections.geojson").read_text())
    assert written["count_interval"] == [summary[0]["low"], summary[0]["high"]]
    fs = read_geojson(outdir / "yard.detections.geojson")
    assert fs.crs == "EPSG:4326" and len(fs.detections) == len(boxes)


def test_corners_of_many_boxes_equal_each_box_corners_bit_for_bit() -> None:
    rng = np.random.default_rng(3)

    def random_box(angle: float) -> OrientedBox:
        cx, cy = rng.uniform(-1e6, 1e6, 2)
        length, width = rng.uniform(0.5, 60, 2)
        return OrientedBox(float(cx), float(cy), float(length), float(width), float(angle))

    angles = [*rng.uniform(-720, 720, 500), 0.0, 90.0, -90.0, 180.0, 45.0, 1e-9]
    boxes = [random_box(a) for a in angles]
    many = corners_of(boxes)
    assert many.shape == (len(boxes), 4, 2)
    for b, c in zip(boxes, many, strict=True):
        assert np.array_equal(b.corners(), c)
    assert corners_of([]).shape == (0, 4, 2)


def test_feature_rings_are_closed_counter_clockwise_box_corners() -> None:
    boxes = [OrientedBox(10, 20, 28, 6, a) for a in (0.0, 30.0, 95.0, -170.0)]
    fc = to_feature_collection([Detection(b) for b in boxes], crs=None, precision=6)
    for b, feat in zip(boxes, fc["features"], strict=True):
        ring = np.array(feat["geometry"]["coordinates"][0])
        assert ring.shape == (5, 2) and np.array_equal(ring[0], ring[-1])
        x, y = ring[:-1, 0], ring[:-1, 1]
        assert 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)) > 0  # CCW
        assert {tuple(p) for p in np.round(b.corners(), 6)} == {tuple(p) for p in ring[:-1]}


def test_cli_detect_unwritable_output_is_an_input_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An output under a file, or --out-dir naming a file, were internal errors (status
    70: FileExistsError / NotADirectoryError) after the detection had run."""
    monkeypatch.setattr(registry, "get_detector", lambda name="default": BrightBlobDetector())
    img, _ = _scene()
    tif = _geotiff(tmp_path / "yard.tif", img)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert main(["detect", str(tif), "-o", str(blocker / "out.geojson")]) == 2
    err = capsys.readouterr().err
    assert "cannot write detections to" in err and "internal error" not in err
    assert main(["detect", str(tif), "--out-dir", str(blocker)]) == 2
    assert "--out-dir" in capsys.readouterr().err and blocker.read_text() == "x"


def test_geotiff_without_valid_pixels_is_an_error(tmp_path: Path) -> None:
    """An all-nodata raster gave '0 railcars' (status 0): a zero that was never seen."""
    img, _ = _scene()
    path = _geotiff(tmp_path / "empty.tif", img, nodata_cols=img.shape[1])
    with pytest.raises(ImageryError, match="no valid pixels"):
        detect_file(path, detector=BrightBlobDetector(), tile_px=128)
    with pytest.raises(ImageryError, match="no valid pixels"):  # the coarse method too
        detect_file(path, gsd=3.0, detector=BrightBlobDetector())


def test_float_geotiff_nan_pixels_are_no_data(tmp_path: Path) -> None:
    """NaN pixels of a float raster without nodata were cast to 8 bits (undefined,
    RuntimeWarning) and made the percentile scaling NaN; all-NaN gave 0 cars."""
    img, _ = _scene()
    data = img.transpose(2, 0, 1).astype(np.float32) * 10.0
    data[:, :, :250] = np.nan
    profile = {
        "driver": "GTiff",
        "width": data.shape[2],
        "height": data.shape[1],
        "count": 3,
        "dtype": "float32",
        "crs": "EPSG:32652",
        "transform": from_origin(X0, Y0, GSD, GSD),
    }
    path = tmp_path / "f32.tif"
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        res = detect_file(path, detector=BrightBlobDetector(), tile_px=128)
    assert res.detections
    assert all(d.box.cx > X0 + 250 * GSD for d in res.detections)
    with rasterio.open(path, "r+") as ds:
        ds.write(np.full_like(data, np.nan))
    with pytest.raises(ImageryError, match="no valid pixels"):
        detect_file(path, detector=BrightBlobDetector(), tile_px=128)


def test_cli_detect_coarse_takes_the_sun_from_sidecar_or_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """At 3 m the occupied-length estimate gets the sun's position: from the STAC
    sidecar the simulator writes (view:sun_*), or from --sun, which wins; a malformed
    --sun is refused with the form to use."""
    from railwatch.detect import api
    from railwatch.sim import SceneParams, render_scene, write_scene

    p = SceneParams(seed=3, gsd=3.0, size_px=(160, 160), n_cars=20, sun_azimuth=200.0)
    tif = write_scene(render_scene(p), tmp_path, "coarse", preview=False).image
    assert tif.with_suffix(".json").is_file()
    seen: list[object] = []
    real = api.estimate_occupancy

    def spy(*a: object, **kw: object) -> object:
        seen.append(kw.get("sun"))
        return real(*a, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(api, "estimate_occupancy", spy)
    out = tmp_path / "o.geojson"
    assert main(["detect", str(tif), "-o", str(out)]) == 0
    assert seen and seen[-1] == pytest.approx((200.0, p.sun_elevation))
    assert main(["detect", str(tif), "-o", str(out), "--sun", "150, 20"]) == 0
    assert seen[-1] == pytest.approx((150.0, 20.0))
    capsys.readouterr()
    assert main(["detect", str(tif), "-o", str(out), "--sun", "south"]) == 2
    assert "AZIMUTH,ELEVATION" in capsys.readouterr().err
    assert main(["detect", str(tif), "-o", str(out), "--sun", "150,-5"]) == 2
    assert "elevation" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[1, 2]", "not a GeoJSON object"),
        ('{"type": "Feature", "geometry": null}', "no geometry"),
        ('{"type": "LineString", "coordinates": [[0]]}', "positions"),
        ('{"type": "Feature", "geometry": {"type": "Bogus", "coordinates": []}}', "Bogus"),
        ('{"type": "Point", "coordinates": [130.6, 42.4]}', "LineString"),
    ],
)
def test_cli_detect_malformed_tracks_is_an_input_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    text: str,
    says: str,
) -> None:
    """A --tracks file that was JSON but not track lines (a list, a null or unknown
    geometry, a one-number position) was an internal error (status 70: AttributeError,
    ValueError, GeometryTypeError); it is now checked as `site add --tracks` checks it."""
    monkeypatch.setattr(registry, "get_detector", lambda name="default": BrightBlobDetector())
    img, _ = _scene()
    tif = _geotiff(tmp_path / "yard.tif", img)
    tracks = tmp_path / "tracks.geojson"
    tracks.write_text(text)
    assert main(["detect", str(tif), "--tracks", str(tracks), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "internal error" not in err and "--tracks" in err and says in err
    assert not (tmp_path / "o").exists()


def test_detect_reads_track_lines(tmp_path: Path) -> None:
    """A FeatureCollection of LineStrings (WGS84) is read as the tracks."""
    from railwatch.cli.detect import _read_tracks

    line = {"type": "LineString", "coordinates": [[130.60, 42.41], [130.61, 42.42]]}
    fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": line}]}
    tracks = tmp_path / "tracks.geojson"
    tracks.write_text(json.dumps(fc))
    geom = _read_tracks(tracks)
    assert geom.geom_type == "MultiLineString" and len(geom.geoms) == 1


def test_cli_detect_folder_empty_file_or_non_image_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder, an empty file and a text file named .tif all said only GDAL's "'X' not
    recognized as being in a supported file format": what was wrong, not what to do."""
    monkeypatch.setattr(registry, "get_detector", lambda name="default": BrightBlobDetector())
    folder = tmp_path / "folder"
    folder.mkdir()
    empty = tmp_path / "empty.tif"
    empty.write_bytes(b"")
    text = tmp_path / "notes.tif"
    text.write_text("not an image\n")
    for path, says in (
        (folder, "it is a folder: give an image file"),
        (empty, "the file is empty (0 bytes): re-export or re-download it"),
        (text, "it is not an image format GDAL reads, or it is corrupt: give a GeoTIFF"),
    ):
        # a folder is a mistake of the command line (2), as a path that is not there
        assert main(["detect", str(path), "--gsd", "0.5"]) == (2 if path == folder else 1)
        err = " ".join(capsys.readouterr().err.split())
        assert f"cannot read image {path}: {says}" in err and "not recognized" not in err


def test_cli_detect_tracks_folder_or_not_utf8_says_what_to_give(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A folder, or a file that is not UTF-8 text, for --tracks said "cannot read ...
    [Errno 21] Is a directory" or the codec's error, not that a GeoJSON file is wanted."""
    monkeypatch.setattr(registry, "get_detector", lambda name="default": BrightBlobDetector())
    img, _ = _scene()
    tif = _geotiff(tmp_path / "yard.tif", img)
    folder = tmp_path / "tracks"
    folder.mkdir()
    for given, says in (
        (folder, f"--tracks {folder} is a folder: give the path of a GeoJSON file (UTF-8 text)"),
        (tif, f"--tracks file {tif} is not UTF-8 text"),
    ):
        assert main(["detect", str(tif), "--tracks", str(given), "-o", str(tmp_path / "o")]) == 2
        err = " ".join(capsys.readouterr().err.split())
        assert says in err and "Errno" not in err and "codec" not in err
        assert not (tmp_path / "o").exists()
