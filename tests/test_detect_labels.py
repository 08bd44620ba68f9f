"""Fine-tuning labels (``railwatch.detect.labels``): loading GeoJSON in pixels, in the
image CRS and in lon/lat; DOTA; the errors; training crops whose boxes lie on the cars;
and a tiny ``railwatch train --labels`` run whose card records the labelled set."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from railwatch.detect.labels import (
    UNTYPED,
    LabelledSet,
    labelled_crops,
    load_labelled_dir,
    parse_class,
    record_in_card,
)
from railwatch.detect.model_core import CLASSES, WORK_GSD, encode_targets
from railwatch.detect.train import CROP, TrainConfig, build_bank
from railwatch.errors import DetectionError, InputError

GREY = (110, 110, 110)
RED = (230, 30, 30)
#: (centre x m, centre y m, length m, width m, angle deg, class, covered)
CARS: list[tuple[float, float, float, float, float, str, bool]] = [
    (30.0, 30.0, 16.0, 3.2, 0.0, "boxcar", False),
    (80.0, 35.0, 14.0, 3.1, 30.0, "gondola", True),
    (35.0, 85.0, 12.0, 3.0, 90.0, "tank", False),
    (95.0, 95.0, 20.0, 3.2, 135.0, "railcar", False),
    (60.0, 140.0, 14.5, 3.2, 60.0, "hopper", False),
]
SIZE_M = 160.0
UTM = "EPSG:32632"
ORIGIN = (400_000.0, 5_270_000.0)  # top-left corner in UTM 32N (near 47.6 N, 7.7 E)


def _corners_m(cx: float, cy: float, length: float, width: float, ang: float) -> np.ndarray:
    a = np.deg2rad(ang)
    u = np.array([np.cos(a), np.sin(a)]) * length / 2
    v = np.array([-np.sin(a), np.cos(a)]) * width / 2
    c = np.array([cx, cy])
    return np.stack([c - u - v, c + u - v, c + u + v, c - u + v])


def _image(gsd: float) -> tuple[np.ndarray, list[np.ndarray]]:
    """Grey ground with red cars (each pixel mixed by its exact coverage, from a 4x
    supersampled mask); the cars' pixel corners (x right, y down, pixel-corner origin)."""
    n = round(SIZE_M / gsd)
    mask = np.zeros((4 * n, 4 * n), np.uint8)
    polys = []
    for cx, cy, length, width, ang, _, _ in CARS:
        px = _corners_m(cx, cy, length, width, ang) / gsd
        # OpenCV puts integer coordinates at pixel centres; ours at pixel corners
        cv2.fillPoly(mask, [np.round((px * 4 - 0.5) * 8).astype(np.int32)], 255, shift=3)
        polys.append(px)
    cover = cv2.resize(mask, (n, n), interpolation=cv2.INTER_AREA).astype(np.float64) / 255.0
    img = np.asarray(GREY, np.float64) * (1 - cover[..., None]) + np.asarray(RED) * cover[..., None]
    return np.round(img).astype(np.uint8), polys


def _feature(ring: np.ndarray, cls: str | None, covered: bool | None) -> dict[str, Any]:
    coords = [[float(x), float(y)] for x, y in ring] + [[float(ring[0][0]), float(ring[0][1])]]
    props: dict[str, Any] = {"score": 0.9}
    if cls is not None:
        props["class"] = cls
    if covered is not None:
        props["covered"] = covered
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [coords]},
            "properties": props}  # fmt: skip


def _fc(rings: list[np.ndarray], crs: str | None, **extra: Any) -> dict[str, Any]:
    fc: dict[str, Any] = {"type": "FeatureCollection"}
    if crs != "EPSG:4326":
        fc["crs"] = None if crs is None else {"type": "name", "properties": {"name": crs}}
    fc.update(extra)
    fc["features"] = [_feature(r, c[5], c[6]) for r, c in zip(rings, CARS, strict=True)]
    return fc


def _write_png(folder: Path, name: str, gsd: float, with_gsd: bool = True) -> list[np.ndarray]:
    """A PNG with pixel labels; their top-level "gsd" unless ``with_gsd`` is false."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    img, polys = _image(gsd)
    Image.fromarray(img).save(folder / f"{name}.png")
    fc = _fc(polys, None, **({"gsd": gsd} if with_gsd else {}))
    (folder / f"{name}.truth.geojson").write_text(json.dumps(fc))
    return polys


def _write_geotiff(
    folder: Path, name: str, gsd: float, label_crs: str = UTM, suffix: str = ".truth.geojson"
) -> list[np.ndarray]:
    import rasterio
    from rasterio.transform import from_origin

    folder.mkdir(parents=True, exist_ok=True)
    img, polys = _image(gsd)
    transform = from_origin(ORIGIN[0], ORIGIN[1], gsd, gsd)
    with rasterio.open(
        folder / f"{name}.tif", "w", driver="GTiff", width=img.shape[1], height=img.shape[0],
        count=3, dtype="uint8", crs=UTM, transform=transform,
    ) as ds:  # fmt: skip
        ds.write(img.transpose(2, 0, 1))
    rings = [
        np.stack([ORIGIN[0] + p[:, 0] * gsd, ORIGIN[1] - p[:, 1] * gsd], axis=1) for p in polys
    ]
    if label_crs != UTM:
        from pyproj import Transformer

        tr = Transformer.from_crs(UTM, label_crs, always_xy=True)
        rings = [np.stack(tr.transform(r[:, 0], r[:, 1]), axis=1) for r in rings]
    (folder / f"{name}{suffix}").write_text(json.dumps(_fc(rings, label_crs)))
    return polys


def _same_ring(a: np.ndarray, b: np.ndarray, tol: float) -> None:
    assert a[:4] == pytest.approx(b[:4], abs=tol)


# ----------------------------------------------------------------------------- loading


def test_pixel_geojson_with_gsd(tmp_path: Path) -> None:
    polys = _write_png(tmp_path, "yard", 0.5)
    ls = load_labelled_dir(tmp_path)
    assert len(ls.images) == 1 and ls.cars == len(CARS)
    item = ls.images[0]
    assert item.gsd == pytest.approx(0.5) and item.native_gsd == pytest.approx(0.5)
    assert item.image.shape == (320, 320, 3) and item.image.dtype == np.uint8
    assert [c.cls for c in item.cars] == [c[5] for c in CARS]
    assert [c.covered for c in item.cars] == [c[6] for c in CARS]
    for car, p in zip(item.cars, polys, strict=True):
        _same_ring(car.polygon, p, 1e-9)
    s = ls.summary()
    assert s["cars"] == 5 and s["images"][0]["image"] == "yard.png"
    assert s["images"][0]["labels"] == "yard.truth.geojson"
    assert s["images"][0]["by_class"]["railcar"] == 1


@pytest.mark.parametrize("label_crs", [UTM, "EPSG:4326", "EPSG:3857"])
def test_georeferenced_geojson_any_crs(tmp_path: Path, label_crs: str) -> None:
    """Image-CRS labels, --wgs84 lon/lat labels (no crs member) and another CRS all land
    on the same pixels; the gsd comes from the geotransform."""
    polys = _write_geotiff(tmp_path, "scene", 0.3, label_crs=label_crs)
    item = load_labelled_dir(tmp_path).images[0]
    assert item.native_gsd == pytest.approx(0.3)
    for car, p in zip(item.cars, polys, strict=True):
        # stored at 0.4 m: pixels scale by 0.3 / 0.4 (the reprojections agree to mm)
        _same_ring(car.polygon / (0.3 / item.gsd), p, 0.02)


def test_fine_images_are_stored_coarser_with_their_cars(tmp_path: Path) -> None:
    polys = _write_png(tmp_path, "fine", 0.1)
    item = load_labelled_dir(tmp_path).images[0]
    assert item.gsd == pytest.approx(0.4, rel=1e-3) and item.image.shape[0] == 400
    for car, p in zip(item.cars, polys, strict=True):
        _same_ring(car.polygon, p * 0.25, 1e-6)
        c = np.round(car.polygon[:4].mean(axis=0)).astype(int)
        assert tuple(item.image[c[1], c[0]]) == pytest.approx(RED, abs=12)


def test_gsd_from_sidecar_and_dota(tmp_path: Path) -> None:
    _write_png(tmp_path, "a", 0.5, with_gsd=False)
    (tmp_path / "a.json").write_text(json.dumps({"type": "Feature", "properties": {"gsd": 0.5}}))
    dota = tmp_path / "labelTxt"
    dota.mkdir()
    _, polys_b = _image(0.25)
    (tmp_path / "images").mkdir()
    from PIL import Image

    Image.fromarray(_image(0.25)[0]).save(tmp_path / "images" / "b.png")
    lines = ["gsd:0.25"] + [
        " ".join(f"{v:.3f}" for v in p.ravel()) + f" {c[5]} 0"
        for p, c in zip(polys_b, CARS, strict=True)
    ]
    (dota / "b.txt").write_text("\n".join(lines) + "\n")
    ls = load_labelled_dir(tmp_path)
    assert [i.name for i in ls.images] == ["a", "b"] and ls.cars == 10
    assert ls.images[0].native_gsd == 0.5 and ls.images[1].native_gsd == 0.25
    _same_ring(ls.images[1].cars[0].polygon / (0.25 / ls.images[1].gsd), polys_b[0], 0.01)


def test_corrected_truth_wins_over_raw_detections(tmp_path: Path) -> None:
    _write_png(tmp_path, "yard", 0.5)
    (tmp_path / "yard.detections.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "crs": None, "gsd": 0.5, "features": []})
    )
    (tmp_path / "other.png").write_bytes((tmp_path / "yard.png").read_bytes())
    ls = load_labelled_dir(tmp_path)
    assert ls.images[0].label_path.name == "yard.truth.geojson" and ls.cars == 5
    assert ls.unlabelled == ("other.png",)


def test_class_names() -> None:
    assert parse_class("Tank") == "tank" and parse_class(None) == UNTYPED
    assert parse_class("unknown") == UNTYPED and parse_class("railcar") == UNTYPED
    with pytest.raises(InputError, match=r"unknown class 'wagon'.*railcar"):
        parse_class("wagon")


# ----------------------------------------------------------------------------- errors


def _edit(path: Path, fn: Any) -> None:
    fc = json.loads(path.read_text())
    fn(fc)
    path.write_text(json.dumps(fc))


def _set_geom(fc: dict[str, Any], geom: dict[str, Any]) -> None:
    fc["features"][1]["geometry"] = geom


ERROR_CASES: list[tuple[str, Any, str]] = [
    ("no gsd", lambda fc: fc.pop("gsd"), r'not georeferenced.*"gsd": METRES.*yard\.json'),
    ("bad gsd", lambda fc: fc.update({"gsd": -0.5}), "'gsd' must be a positive number"),
    ("point", lambda fc: _set_geom(fc, {"type": "Point", "coordinates": [1, 2]}),
     "feature 1 is a Point, not a Polygon"),
    ("no geometry", lambda fc: _set_geom(fc, None), "feature 1 has no geometry"),  # type: ignore[arg-type]
    ("class", lambda fc: fc["features"][2]["properties"].update({"class": "wagon"}),
     "feature 2: unknown class 'wagon'"),
    ("covered", lambda fc: fc["features"][0]["properties"].update({"covered": "maybe"}),
     "feature 0: 'covered' must be true or false"),
    ("outside", lambda fc: fc["features"][3]["geometry"]["coordinates"][0].__setitem__(
        slice(None), [[x + 5000, y] for x, y in fc["features"][3]["geometry"]["coordinates"][0]]),
     "feature 3 lies outside the image yard.png"),
    ("string of cars", lambda fc: fc["features"][0]["geometry"].update(
        {"coordinates": [[[0, 0], [200, 0], [200, 6], [0, 6], [0, 0]]]}),
     r"feature 0 is 100.0 m x 3.0 m .* not one railcar"),
    ("lon/lat on a png", lambda fc: fc.pop("crs"), "no 'crs' member.*not georeferenced"),
    ("utm on a png", lambda fc: fc.update({"crs": {"type": "name", "properties": {"name": UTM}}}),
     "EPSG:32632 but yard.png is not georeferenced"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "edit", "message"), ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_errors_name_the_file_and_the_fix(
    tmp_path: Path, case: str, edit: Any, message: str
) -> None:
    _write_png(tmp_path, "yard", 0.5)
    _edit(tmp_path / "yard.truth.geojson", edit)
    with pytest.raises(InputError, match=message) as err:
        load_labelled_dir(tmp_path)
    assert "yard.truth.geojson" in str(err.value)


def test_errors_missing_image_unreadable_label_and_all_at_once(tmp_path: Path) -> None:
    _write_png(tmp_path, "yard", 0.5)
    (tmp_path / "gone.truth.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "crs": None, "features": []})
    )
    (tmp_path / "broken.geojson").write_text("{not json")
    (tmp_path / "broken.png").write_bytes((tmp_path / "yard.png").read_bytes())
    with pytest.raises(InputError) as err:
        load_labelled_dir(tmp_path)
    msg = str(err.value)
    assert msg.startswith("2 problems")
    assert "gone.truth.geojson: no image gone.tif/.png/.jpg" in msg
    assert "broken.geojson: cannot read the label file" in msg


def test_errors_empty_dir_and_wgs84_without_lonlat(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no label files"):
        load_labelled_dir(tmp_path)
    with pytest.raises(InputError, match="not a directory"):
        load_labelled_dir(tmp_path / "missing")
    _write_geotiff(tmp_path, "scene", 0.5)
    _edit(tmp_path / "scene.truth.geojson", lambda fc: fc.pop("crs"))  # UTM numbers, no crs
    with pytest.raises(InputError, match="coordinates are not"):
        load_labelled_dir(tmp_path)


# ----------------------------------------------------------------------------- crops


def _red_blobs(crop: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Connected red regions and each pixel's red coverage (0-1: red over grey mixes
    linearly, so r - g is 200 x coverage)."""
    diff = crop[..., 0].astype(np.float64) - crop[..., 1].astype(np.float64)
    n, lab = cv2.connectedComponents((diff > 20).astype(np.uint8))
    return lab, np.clip(diff / 200.0, 0.0, 1.0), n


def _rectangle_of(weight: np.ndarray) -> tuple[float, float, float, float, float]:
    """Centre, length, width and axis angle of a rectangle from its coverage map
    (moments: a uniform rectangle has variance L^2 / 12 along its axis)."""
    ys, xs = np.nonzero(weight)
    w = weight[ys, xs]
    x, y = xs + 0.5, ys + 0.5  # pixel centres, corner-origin coordinates
    cx, cy = float((w * x).sum() / w.sum()), float((w * y).sum() / w.sum())
    cov = np.cov(np.stack([x - cx, y - cy]), aweights=w, bias=True)
    vals, vecs = np.linalg.eigh(cov)
    angle = float(np.degrees(np.arctan2(vecs[1, 1], vecs[0, 1]))) % 180.0
    return cx, cy, float(np.sqrt(12 * vals[1])), float(np.sqrt(12 * vals[0])), angle


@pytest.mark.parametrize(("native", "gsd_range"), [(0.3, (0.3, 0.5)), (0.15, (0.3, 0.6))])
def test_crop_boxes_lie_on_the_labelled_cars(
    tmp_path: Path, native: float, gsd_range: tuple[float, float]
) -> None:
    """Every WorkBox of a labelled crop matches the red car drawn at its polygon: the
    rectangle of the car's pixels in the crop (after reprojection to pixels, storage at
    0.4 m, gsd jitter, resampling and the crop offset) has the box's centre, length,
    width and angle."""
    _write_geotiff(tmp_path, "scene", native)
    item = load_labelled_dir(tmp_path).images[0]
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(6):
        for crop, boxes in labelled_crops(item, rng, gsd_range, n_crops=2):
            assert crop.shape == (CROP, CROP, 3)
            lab, cover, _ = _red_blobs(crop)
            for b in boxes:
                m = b.length / 2 + 3
                if not (m < b.cx < CROP - m and m < b.cy < CROP - m):
                    continue  # cut by the crop edge
                k = lab[int(b.cy), int(b.cx)]
                assert k > 0, "box centre not on a car"
                cx, cy, length, width, angle = _rectangle_of(np.where(lab == k, cover, 0.0))
                assert (cx, cy) == pytest.approx((b.cx, b.cy), abs=0.35)
                assert length == pytest.approx(b.length, abs=0.8)
                assert width == pytest.approx(b.width, abs=0.6)
                assert abs((angle - b.angle + 90) % 180 - 90) < 1.5
                # the working scale is 0.5 m up to the +-20 % claimed-gsd error
                assert 12 * 0.75 < b.length * WORK_GSD < 20 * 1.25
                checked += 1
    assert checked >= 10


def test_small_images_are_padded_not_mirrored_and_untyped_cars_have_no_class(
    tmp_path: Path,
) -> None:
    from PIL import Image

    img, polys = _image(0.5)
    chip = np.ascontiguousarray(img[:120, :120])  # 60 m: smaller than a crop
    Image.fromarray(chip).save(tmp_path / "chip.png")
    fc = {"type": "FeatureCollection", "crs": None, "gsd": 0.5,
          "features": [_feature(polys[0], "railcar", False)]}  # fmt: skip
    (tmp_path / "chip.truth.geojson").write_text(json.dumps(fc))
    item = load_labelled_dir(tmp_path).images[0]
    crop, boxes = labelled_crops(item, np.random.default_rng(0), (0.5, 0.5), n_crops=1)[0]
    assert crop.shape == (CROP, CROP, 3) and len(boxes) == 1 and boxes[0].cls == -1
    _, _, n = _red_blobs(crop)
    assert n == 2  # background + the one car: the padding repeats no car
    t = encode_targets(boxes, crop.shape[:2])
    assert t["body"].sum() > 0 and (t["cls"][t["body"] > 0] == -1).all()
    assert t["heat"].max() == 1.0


# ----------------------------------------------------------------------------- training


def test_bank_draws_the_labelled_share(tmp_path: Path) -> None:
    _write_png(tmp_path, "yard", 0.5)
    cfg = TrainConfig(scenes=16, sim_fraction=0.0, labels=str(tmp_path), labels_share=0.5)
    bank = build_bank(cfg)
    assert bank.sources.count("labels") == 8 and bank.sources.count("synth") == 8
    lab = [b for b, s in zip(bank.boxes, bank.sources, strict=True) if s == "labels"]
    assert sum(len(b) for b in lab) > 0
    assert {b.cls for bs in lab for b in bs} <= {*range(len(CLASSES)), -1}
    with pytest.raises(InputError, match="labels-share"):
        build_bank(TrainConfig(scenes=2, labels=str(tmp_path), labels_share=0.0))
    # no labels: the bank is what it was before (same draws as labels=None)
    a = build_bank(TrainConfig(scenes=3, sim_fraction=0.0, seed=5))
    assert a.sources == ["synth"] * 3


def test_record_in_card_keeps_other_keys(tmp_path: Path) -> None:
    _write_png(tmp_path / "lab", "yard", 0.5)
    ls: LabelledSet = load_labelled_dir(tmp_path / "lab")
    w = tmp_path / "w.onnx"
    w.with_suffix(".json").write_text(json.dumps({"threshold": 0.45}))
    record_in_card(w, ls, crops=7)
    card = json.loads(w.with_suffix(".json").read_text())
    assert card["threshold"] == 0.45
    assert card["labels"]["crops"] == 7 and card["labels"]["cars"] == 5
    assert card["labels"]["images"][0]["image"] == "yard.png"


@pytest.mark.slow
def test_train_command_with_labels(tmp_path: Path) -> None:
    """`railwatch train --labels`: labelled crops enter the bank, the weights load and
    run, and the card names the labelled files and their cars."""
    pytest.importorskip("torch")
    from typer.testing import CliRunner

    from railwatch.cli.main import build_app
    from railwatch.detect.default import DefaultDetector

    _write_png(tmp_path / "lab", "yard", 0.5)
    _write_geotiff(tmp_path / "lab", "scene", 0.3, label_crs="EPSG:4326")
    out = tmp_path / "tuned.onnx"
    args = ["train", "--out", str(out), "--scenes", "8", "--epochs", "1", "--sim-fraction", "0",
            "--labels", str(tmp_path / "lab"), "--labels-share", "0.5",
            "--calibration-scenes", "0", "--threads", "1"]  # fmt: skip
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["bank"]["sources"] == {"labels": 4, "synth": 4}
    assert card["config"]["labels"] == str(tmp_path / "lab")
    assert card["config"]["labels_share"] == 0.5
    assert card["labels"]["cars"] == 10 and card["labels"]["crops"] == 4
    assert sorted(i["image"] for i in card["labels"]["images"]) == ["scene.tif", "yard.png"]
    img, _ = _image(0.5)
    assert isinstance(DefaultDetector(out).detect(img, 0.5), list)


def test_train_command_rejects_bad_labels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad labels stop `railwatch train` before any drawing or training (exit 2)."""
    from railwatch.cli.main import main

    _write_png(tmp_path, "yard", 0.5, with_gsd=False)  # no gsd anywhere
    assert main(["train", "--out", str(tmp_path / "w.onnx"), "--labels", str(tmp_path)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "yard.truth.geojson" in err and '"gsd": METRES' in err
    assert not (tmp_path / "w.onnx").exists()
    assert main(["train", "--out", str(tmp_path / "w.onnx"), "--init", str(tmp_path / "x")]) == 2


def test_detector_spec_with_other_weights(tmp_path: Path) -> None:
    """`--detector default:PATH` runs the default detector with (fine-tuned) weights, so
    `railwatch detect` and `railwatch eval --detector` can measure them."""
    from railwatch.detect.default import DefaultDetector, default_weights
    from railwatch.detect.registry import get_detector

    det = get_detector(f"default:{default_weights()}")
    assert isinstance(det, DefaultDetector) and det.weights == default_weights()
    # a path that is no file is refused when the spec is read (bad input), still as a
    # DetectionError for Python callers
    with pytest.raises(DetectionError, match="weights not found"):
        get_detector(f"default:{tmp_path / 'none.onnx'}")


def test_fine_tuned_card_keeps_the_parent_threshold(tmp_path: Path) -> None:
    from railwatch.cli.train import _keep_decoding

    parent, out = tmp_path / "parent.onnx", tmp_path / "tuned.onnx"
    out.with_suffix(".json").write_text(json.dumps({"config": {}}))
    assert _keep_decoding(parent, out, {}) == []  # no parent card: nothing changes
    assert json.loads(out.with_suffix(".json").read_text()) == {"config": {}}
    assert _keep_decoding(parent, out, {"threshold": 0.45}) == ["threshold"]
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["threshold"] == 0.45 and card["config"] == {}
    assert card["threshold_from"] == str(parent)


def test_fine_tuned_card_keeps_the_shipped_decoding(tmp_path: Path) -> None:
    """A fine-tune of the shipped weights decodes as they do: string thresholds (both
    pairs, string pairs), the across-track refiner; the new card's own entries stay."""
    from railwatch.cli.train import DECODING_KEYS, _keep_decoding
    from railwatch.detect.default import DefaultDetector, default_weights

    shipped = json.loads(default_weights().with_suffix(".json").read_text())
    out = tmp_path / "tuned.onnx"
    shutil.copy(default_weights(), out)
    out.with_suffix(".json").write_text(json.dumps({"config": {"lr": 0.0005}, "stride": 8}))
    kept = _keep_decoding(default_weights(), out, shipped)
    assert {"string_thresholds", "string_thresholds_coarse", "refine"} <= set(kept)
    card = json.loads(out.with_suffix(".json").read_text())
    for key in kept:
        assert key in DECODING_KEYS and card[key] == shipped[key]
    assert card["config"] == {"lr": 0.0005} and card["decoding_from"] == str(default_weights())
    tuned, ship = DefaultDetector(out), DefaultDetector(default_weights(), precision="fp32")
    assert tuned.refiner is not None and tuned.string_pairs == ship.string_pairs is True
    assert tuned.string_thresholds == ship.string_thresholds
    assert tuned.coarse_string_thresholds == ship.coarse_string_thresholds is not None
