"""Bring-your-own-model audit of ``--detector onnx:PATH`` (session 35): tiny ONNX models
shaped like real Ultralytics YOLO-OBB exports, built here with ``onnx.helper``.

The "spot" model finds the reddest pixel of its input (its first channel) and reports
one oriented box there, of a fixed size in *model* pixels, with the red value as its
score: so a test sees where the tile was put in the model's input (letterbox, gsd
resampling), which channel is read as red and whether pixels are scaled to 0-1.
Layouts (Ultralytics ``ultralytics/nn/modules/head.py`` and ``engine/exporter.py``):
``raw`` ``(B, 4 + nc + 1, N)`` (``yolo export format=onnx``), ``rows`` the same
transposed ``(B, N, 4 + nc + 1)``, ``e2e`` ``(B, max_det, 7)`` rows of ``cx, cy, w, h,
score, class index, angle`` (``nms=True`` exports and YOLO26's end-to-end heads).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from railwatch.detect.onnx_backend import OnnxObbDetector, decode_obb
from railwatch.detect.registry import get_detector
from railwatch.errors import DetectionError, InputError

#: Box size (model pixels) and angle (radians) the spot model reports.
BOX_W, BOX_H, ANGLE = 20.0, 6.0, 0.3


def _const(name: str, value: np.ndarray) -> onnx.NodeProto:
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(value, name))


def spot_model(
    path: Path,
    *,
    size: tuple[int | str, int | str] = (64, 64),
    layout: str = "raw",
    fp16: bool = False,
    batch: int | str = 1,
    channels: int = 3,
    meta: dict[str, str] | None = None,
    cls_index: int = 0,
    nc: int = 1,
) -> Path:
    """A model that boxes the reddest pixel of its input (see module docs)."""
    nodes = []
    x = "images"
    if fp16:
        nodes.append(helper.make_node("Cast", ["images"], ["x32"], to=TensorProto.FLOAT))
        x = "x32"
    nodes += [
        _const("c0", np.array([0], np.int64)),
        _const("c1", np.array([1], np.int64)),
        _const("c3", np.array([3], np.int64)),
        helper.make_node("Slice", [x, "c0", "c1", "c1"], ["red"]),  # (B, 1, H, W)
        helper.make_node("Shape", [x], ["shp"]),
        helper.make_node("Gather", ["shp", "c3"], ["wdim"], axis=0),  # (1,) int64
        _const("flat", np.array([0, -1], np.int64)),
        helper.make_node("Reshape", ["red", "flat"], ["red2"]),  # (B, H*W)
        helper.make_node("ArgMax", ["red2"], ["idx"], axis=1, keepdims=1),  # (B, 1)
        helper.make_node("ReduceMax", ["red2"], ["score"], axes=[1], keepdims=1),  # (B, 1)
        helper.make_node("Mod", ["idx", "wdim"], ["col"]),
        helper.make_node("Div", ["idx", "wdim"], ["row"]),
        helper.make_node("Cast", ["col"], ["colf"], to=TensorProto.FLOAT),
        helper.make_node("Cast", ["row"], ["rowf"], to=TensorProto.FLOAT),
        _const("half", np.array([0.5], np.float32)),
        helper.make_node("Add", ["colf", "half"], ["cx"]),
        helper.make_node("Add", ["rowf", "half"], ["cy"]),
        _const("zero", np.array([0.0], np.float32)),
        helper.make_node("Mul", ["score", "zero"], ["z"]),  # (B, 1) zeros
    ]
    cols = ["cx", "cy"]
    values = {"w": BOX_W, "h": BOX_H, "ang": ANGLE, "clsidx": float(cls_index)}
    for name, v in values.items():
        nodes.append(_const(f"{name}_c", np.array([v], np.float32)))
        nodes.append(helper.make_node("Add", ["z", f"{name}_c"], [name]))
    # the other classes score 0
    if layout == "e2e":
        cols += ["w", "h", "score", "clsidx", "ang"]
    else:
        scores = ["z"] * nc
        scores[cls_index] = "score"
        cols += ["w", "h", *scores, "ang"]
    nodes.append(helper.make_node("Concat", cols, ["rows"], axis=1))  # (B, K)
    axis = 2 if layout == "raw" else 1
    nodes.append(_const("ax", np.array([axis], np.int64)))
    out = "out32" if fp16 else "output0"
    nodes.append(helper.make_node("Unsqueeze", ["rows", "ax"], [out]))
    if fp16:
        nodes.append(helper.make_node("Cast", [out], ["output0"], to=TensorProto.FLOAT16))
    k = len(cols)
    out_shape: list[int | str] = [batch, k, 1] if layout == "raw" else [batch, 1, k]
    dtype = TensorProto.FLOAT16 if fp16 else TensorProto.FLOAT
    graph = helper.make_graph(
        nodes,
        "spot",
        [helper.make_tensor_value_info("images", dtype, [batch, channels, *size])],
        [helper.make_tensor_value_info("output0", dtype, out_shape)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    if meta:
        helper.set_model_props(model, meta)
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def red_spot(
    shape: tuple[int, int], at: tuple[int, int], value: int = 200, half: int = 1
) -> np.ndarray:
    """A black RGB image with a ``2 * half`` pixels wide red square whose centre is at
    pixel ``at`` (x, y), and a brighter blue square elsewhere (a detector reading BGR
    would box that)."""
    img = np.zeros((*shape, 3), np.uint8)
    x, y = at
    img[y - half : y + half, x - half : x + half, 0] = value
    bx, by = shape[1] - 1 - x, shape[0] - 1 - y
    img[by - half : by + half, bx - half : bx + half, 2] = 255
    return img


def _onnx(spec: str) -> OnnxObbDetector:
    det = get_detector(spec)
    assert isinstance(det, OnnxObbDetector)
    return det


# ------------------------------------------------------------------ what already held


def test_channel_order_normalisation_and_angle_convention(tmp_path: Path) -> None:
    """RGB (not BGR) in 0-1 reaches the model, its box lands on the red square and the
    angle follows Ultralytics' ``xywhr2xyxyxyxy`` (``w`` along ``(cos r, sin r)`` in
    image pixels, y down)."""
    det = _onnx(f"onnx:{spot_model(tmp_path / 'm.onnx')}")
    (d,) = det.detect(red_spot((64, 64), (20, 40)), 0.5)
    assert (d.box.cx, d.box.cy) == pytest.approx((20.0, 40.0), abs=1.0)
    assert d.score == pytest.approx(200 / 255, abs=1e-3)  # 0-1, not 0-255 (clipped to 1)
    cx, cy, w, h, r = d.box.cx, d.box.cy, BOX_W, BOX_H, ANGLE
    v1 = np.array([math.cos(r), math.sin(r)]) * w / 2
    v2 = np.array([-math.sin(r), math.cos(r)]) * h / 2
    c = np.array([cx, cy])
    ultralytics = {
        tuple(np.round(p, 6)) for p in (c + v1 + v2, c + v1 - v2, c - v1 - v2, c - v1 + v2)
    }
    ours = {tuple(np.round(p, 6)) for p in d.box.corners()}
    assert ours == ultralytics


def test_names_and_metadata_of_an_ultralytics_export_are_read(tmp_path: Path) -> None:
    """Ultralytics writes every metadata value as ``str(v)``: names a dict, imgsz a list."""
    meta = {"names": "{0: 'plane', 1: 'railcar'}", "imgsz": "[64, 64]", "stride": "32"}
    path = spot_model(tmp_path / "m.onnx", meta=meta, nc=2, cls_index=1)
    det = _onnx(f"onnx:{path}")
    assert det.class_map == (None, "railcar")
    (d,) = det.detect(red_spot((64, 64), (30, 30)), 0.5)
    assert d.cls == "railcar"


# ------------------------------------------------------------------ layouts


@pytest.mark.parametrize("layout", ["rows", "e2e"])
def test_candidates_first_layouts_are_decoded(tmp_path: Path, layout: str) -> None:
    """A transposed head ``(1, N, 4 + nc + 1)`` and an end-to-end export ``(1, max_det,
    7)`` (``nms=True``, YOLO26) were refused ("export the raw OBB head instead"): both
    are common exports. Now each is decoded, boxes on the red square."""
    meta = {"names": "{0: 'railcar'}"}
    if layout == "e2e":
        meta["args"] = "{'batch': 1, 'nms': True}"
    det = _onnx(f"onnx:{spot_model(tmp_path / 'm.onnx', layout=layout, meta=meta)}")
    (d,) = det.detect(red_spot((64, 64), (12, 50)), 0.5)
    assert (d.box.cx, d.box.cy) == pytest.approx((12.0, 50.0), abs=1.0)
    assert (d.box.length, d.box.width) == pytest.approx((BOX_W, BOX_H))
    assert d.box.angle == pytest.approx(math.degrees(ANGLE))


def test_an_end_to_end_export_keeps_its_classes_apart(tmp_path: Path) -> None:
    """The class column of an end-to-end row is an index into the names."""
    meta = {"names": "{0: 'plane', 1: 'tank car'}", "end2end": "True"}
    path = spot_model(tmp_path / "m.onnx", layout="e2e", meta=meta, cls_index=1)
    (d,) = _onnx(f"onnx:{path}").detect(red_spot((64, 64), (30, 30)), 0.5)
    assert d.cls == "tank"
    plane = spot_model(tmp_path / "p.onnx", layout="e2e", meta=meta, cls_index=0)
    assert _onnx(f"onnx:{plane}").detect(red_spot((64, 64), (30, 30)), 0.5) == []


def test_end_to_end_rows_are_decoded_from_arrays() -> None:
    """decode_obb reads padded end-to-end rows (score 0) and a class index per row."""
    rows = np.array(
        [[[10, 20, 6, 30, 0.9, 1, 0.0], [40, 40, 30, 6, 0.8, 0, 0.1], [0, 0, 0, 0, 0, 0, 0]]],
        np.float32,
    )
    dets = decode_obb(rows, ("hopper", "tank"), scale=1.0, pad=(0.0, 0.0), layout="end2end")
    assert [(d.cls, round(d.box.length)) for d in dets] == [("tank", 30), ("hopper", 30)]
    assert dets[0].box.angle == pytest.approx(90.0 - 180.0)


# ------------------------------------------------------------------ inputs


def test_a_half_precision_model_is_fed_float16(tmp_path: Path) -> None:
    """An fp16 export (``half=True``) takes float16: feeding float32 failed every tile
    ("failed to run: Unexpected input data type")."""
    det = _onnx(f"onnx:{spot_model(tmp_path / 'm.onnx', fp16=True)}")
    (d,) = det.detect(red_spot((64, 64), (20, 40)), 0.5)
    assert (d.box.cx, d.box.cy) == pytest.approx((20.0, 40.0), abs=1.0)


def test_a_fixed_batch_above_one_is_filled(tmp_path: Path) -> None:
    """An export with ``batch=4`` fixed takes four images: one tile failed to run."""
    det = _onnx(f"onnx:{spot_model(tmp_path / 'm.onnx', batch=4)}")
    (d,) = det.detect(red_spot((64, 64), (20, 40)), 0.5)
    assert (d.box.cx, d.box.cy) == pytest.approx((20.0, 40.0), abs=1.0)


def test_a_dynamic_model_runs_at_its_metadata_imgsz(tmp_path: Path) -> None:
    """A ``dynamic=True`` export (input ``(batch, 3, height, width)``) ran at 1024 px
    whatever it was exported at; Ultralytics writes ``imgsz`` in its metadata."""
    path = spot_model(
        tmp_path / "m.onnx", size=("height", "width"), batch="batch", meta={"imgsz": "[96, 96]"}
    )
    det = _onnx(f"onnx:{path}")
    assert det.input_size == (96, 96) and det.tile_px == 96


def test_a_sidecar_imgsz_against_a_fixed_input_is_refused(tmp_path: Path) -> None:
    """A sidecar ``imgsz`` other than the model's fixed input made every tile fail."""
    path = spot_model(tmp_path / "m.onnx")
    (tmp_path / "m.json").write_text(json.dumps({"imgsz": 1024}))
    with pytest.raises(InputError, match=r"imgsz 1024 but the model's input is fixed at 64"):
        get_detector(f"onnx:{path}")


def test_a_dynamic_imgsz_off_the_stride_is_refused(tmp_path: Path) -> None:
    path = spot_model(tmp_path / "m.onnx", size=("height", "width"))
    (tmp_path / "m.json").write_text(json.dumps({"imgsz": 1000}))
    with pytest.raises(InputError, match=r"imgsz 1000 .*multiple of the model's stride 32"):
        get_detector(f"onnx:{path}")


def test_a_single_band_model_is_fed_grey(tmp_path: Path) -> None:
    """A ``channels=1`` model: a (1, 1, H, W) input was fed three bands (failed to run)."""
    det = _onnx(f"onnx:{spot_model(tmp_path / 'm.onnx', channels=1)}")
    img = np.zeros((64, 64, 3), np.uint8)
    img[39:41, 19:21] = 255  # white: bright in grey
    (d,) = det.detect(img, 0.5)
    assert (d.box.cx, d.box.cy) == pytest.approx((20.0, 40.0), abs=1.0)


def test_a_four_band_model_is_refused_with_what_to_do(tmp_path: Path) -> None:
    """A 4-band (RGBN) model failed every tile; railwatch hands detectors red, green, blue."""
    path = spot_model(tmp_path / "m.onnx", channels=4)
    with pytest.raises(DetectionError, match=r"takes 4 bands.*red, green and blue"):
        get_detector(f"onnx:{path}")


def test_an_image_that_is_not_8_bit_is_refused(tmp_path: Path) -> None:
    """16-bit pixels given to detect() were cast into the 8-bit canvas (wrapped)."""
    det = _onnx(f"onnx:{spot_model(tmp_path / 'm.onnx')}")
    with pytest.raises(InputError, match=r"8-bit.*uint16.*stretch_to_uint8"):
        det.detect(np.zeros((64, 64, 3), np.uint16), 0.5)


# ------------------------------------------------------------------ scale


def test_a_small_image_is_not_scaled_up(tmp_path: Path) -> None:
    """A 32 px image given to a 64 px model was scaled up 2 times (cars twice the size
    the model learned); now it is padded, its cars kept at their ground size."""
    det = _onnx(f"onnx:{spot_model(tmp_path / 'm.onnx')}")
    (d,) = det.detect(red_spot((32, 32), (10, 20)), 0.5)
    assert (d.box.cx, d.box.cy) == pytest.approx((10.0, 20.0), abs=1.0)
    assert d.box.length == pytest.approx(BOX_W)  # model pixels = image pixels


def test_a_tile_larger_than_the_model_is_cut_not_shrunk(tmp_path: Path) -> None:
    """A 128 px tile (``--tile-px``, or the 30 m overlap at fine gsd) was shrunk to the
    64 px input (cars half size); now it is run in windows of the model's size."""
    det = _onnx(f"onnx:{spot_model(tmp_path / 'm.onnx')}")
    img = np.zeros((128, 128, 3), np.uint8)
    img[99:101, 89:91, 0] = 200
    img[19:21, 19:21, 0] = 220
    dets = sorted(det.detect(img, 0.1), key=lambda d: d.box.cx)
    assert [(round(d.box.cx), round(d.box.cy)) for d in dets] == [(20, 20), (90, 100)]
    assert all(d.box.length == pytest.approx(BOX_W) for d in dets)


def test_the_model_gsd_resamples_each_tile(tmp_path: Path) -> None:
    """A model trained at 0.5 m fed 0.3 m imagery saw cars 1.7 times too large (no
    option said the model's gsd). ``?gsd=0.5`` resamples each tile to 0.5 m."""
    path = spot_model(tmp_path / "m.onnx", size=(64, 64))
    det = _onnx(f"onnx:{path}?gsd=0.5")
    assert det.model_gsd == 0.5
    (d,) = det.detect(red_spot((100, 100), (50, 30), value=255, half=3), 0.3)
    assert (d.box.cx, d.box.cy) == pytest.approx((50.0, 30.0), abs=2.0)
    # 20 model pixels at 0.5 m = 10 m = 33.3 pixels at 0.3 m
    assert d.box.length == pytest.approx(BOX_W * 0.5 / 0.3)
    (tmp_path / "m.json").write_text(json.dumps({"gsd": 0.5}))
    assert _onnx(f"onnx:{path}").model_gsd == 0.5
    assert _onnx(f"onnx:{path}?gsd=0.3").version != _onnx(f"onnx:{path}").version


@pytest.mark.parametrize("bad", ["abc", "0", "-1", "nan", "20"])
def test_a_bad_model_gsd_is_refused(tmp_path: Path, bad: str) -> None:
    path = spot_model(tmp_path / "m.onnx")
    with pytest.raises(DetectionError, match=r"gsd=.*metres per pixel"):
        get_detector(f"onnx:{path}?gsd={bad}")


# ------------------------------------------------------------------ imagery files


def _geotiff(path: Path, bands: np.ndarray, gsd: float = 0.5, **profile: object) -> Path:
    import rasterio
    from rasterio.transform import from_origin

    count, h, w = bands.shape
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=w,
        height=h,
        count=count,
        dtype=bands.dtype,
        crs="EPSG:32652",
        transform=from_origin(500000.0, 4700000.0, gsd, gsd),
        **profile,
    ) as ds:
        ds.write(bands)
    return path


@pytest.mark.parametrize("kind", ["uint16", "grey", "rgbn"])
def test_16_bit_one_band_and_four_band_files_reach_the_model_as_8_bit_rgb(
    tmp_path: Path, kind: str
) -> None:
    """Through detect_file (what ``railwatch detect`` runs): a 16-bit file is stretched
    to 8 bits, a one-band file read as grey in all three bands, a four-band (RGBN) file
    read as red, green, blue from its first three (the near-infrared band, brightest
    elsewhere, is not read as red); the box lands on the spot in every case."""
    from railwatch.detect.api import detect_file

    h = w = 256
    spot = (150, 90)  # x, y
    if kind == "uint16":
        bands = np.full((3, h, w), 300, np.uint16)
        bands[0, 89:91, 149:151] = 4000
    elif kind == "grey":
        bands = np.full((1, h, w), 20, np.uint8)
        bands[0, 89:91, 149:151] = 250
    else:
        bands = np.full((4, h, w), 20, np.uint8)
        bands[0, 89:91, 149:151] = 250
        bands[3, 30:32, 30:32] = 255  # bright in the near infrared only
    tif = _geotiff(tmp_path / "scene.tif", bands)
    det = _onnx(f"onnx:{spot_model(tmp_path / 'm.onnx', size=(256, 256))}")
    result = detect_file(tif, detector=det, workers=1)
    px = [(d.box.cx, d.box.cy) for d in result.detections]
    assert len(px) >= 1
    # detections come back in the file's CRS: map the spot's pixel there
    x0, y0 = 500000.0 + spot[0] * 0.5, 4700000.0 - spot[1] * 0.5
    assert any(abs(x - x0) <= 1.0 and abs(y - y0) <= 1.0 for x, y in px), px


def test_a_model_of_another_task_is_refused(tmp_path: Path) -> None:
    """A 'detect' export of two classes, (1, 6, N), was read as one OBB class whose angle
    was the second class's score; Ultralytics writes the task in the metadata."""
    path = spot_model(tmp_path / "m.onnx", meta={"task": "detect", "names": "{0: 'railcar'}"})
    with pytest.raises(DetectionError, match=r"is a 'detect' model .*not an oriented-box"):
        get_detector(f"onnx:{path}")
    ok = spot_model(tmp_path / "ok.onnx", meta={"task": "obb", "names": "{0: 'railcar'}"})
    assert _onnx(f"onnx:{ok}").layout == "raw"


def test_an_end_to_end_flag_on_another_shape_is_refused_when_loaded(tmp_path: Path) -> None:
    path = spot_model(tmp_path / "m.onnx", meta={"end2end": "True", "names": "{0: 'railcar'}"})
    with pytest.raises(DetectionError, match=r"not the YOLO-OBB layout"):
        get_detector(f"onnx:{path}")
