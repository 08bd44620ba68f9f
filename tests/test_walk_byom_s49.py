"""Walk of the bring-your-own-model workflow (session 49): detect, correct the labels in
QGIS, ``calibrate --labels`` / ``train --labels``, ``eval``, with a model of one's own
(``--detector onnx:PATH``). Each test is a fault found on the walk.

The ONNX models are built here with ``onnx.helper``: constant outputs of a given shape
(the plumbing is what is checked, not the boxes)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from railwatch.cli.main import main
from railwatch.errors import DetectionError, InputError

WEIGHTS = Path(__file__).parents[1] / "src/railwatch/detect/weights"
ORIGIN = (500000.0, 4700000.0)  # top left of the test GeoTIFFs, EPSG:32633
GSD = 0.5


def _geotiff(path: Path, size: int = 256) -> Path:
    """A 0.5 m UTM GeoTIFF of grey noise."""
    import rasterio
    from rasterio.transform import from_origin

    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=size,
        height=size,
        count=3,
        dtype="uint8",
        crs="EPSG:32633",
        transform=from_origin(*ORIGIN, GSD, GSD),
    ) as ds:
        ds.write(np.random.default_rng(0).integers(60, 140, (3, size, size)).astype("uint8"))
    return path


def _car(k: int, cls: str = "boxcar") -> dict[str, Any]:
    """A 15 m x 3 m car in UTM metres, the ``k``-th of a row down the image."""
    x0, y0 = ORIGIN[0] + 20.0, ORIGIN[1] - 10.0 - 6.0 * k
    ring = [[x0, y0], [x0 + 15, y0], [x0 + 15, y0 - 3], [x0, y0 - 3], [x0, y0]]
    return {
        "type": "Feature",
        "properties": {"class": cls, "covered": False},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def _fc(n: int, **top: Any) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "EPSG:32633"}},
        "gsd": GSD,
        **top,
        "features": [_car(k) for k in range(n)],
    }


def _write(path: Path, obj: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))
    return path


#: The top-level members `railwatch detect` writes that say whose output a file is.
DETECT_MEMBERS = {"method": "objects", "detector": "default", "detector_version": "2.9"}


# ----------------------------------------------------------------- labels: train/calibrate


def test_a_label_file_made_on_another_image_is_refused(tmp_path: Path) -> None:
    """`detect`'s output of a.tif copied (or saved) as b's labels taught b.tif a.tif's
    boxes without a word where both show one yard (their boxes inside both images)."""
    from railwatch.detect.labels import load_labelled_dir

    folder = tmp_path / "L"
    _geotiff(folder / "a.tif")
    _geotiff(folder / "b.tif")
    _write(folder / "a.truth.geojson", _fc(3, source="a.tif"))
    _write(folder / "b.truth.geojson", _fc(2, source="a.tif", **DETECT_MEMBERS))
    with pytest.raises(InputError) as err:
        load_labelled_dir(folder)
    said = str(err.value)
    assert "b.truth.geojson: was made on the image a.tif" in said
    assert "not on b.tif" in said
    assert "a.truth.geojson" not in said  # its own image: no problem
    # the same file once its source names its image (or says none) is read
    _write(folder / "b.truth.geojson", _fc(2, source="B.png"))
    assert len(load_labelled_dir(folder).images) == 2
    # scene cars' "source" (detector/analyst) names no image
    _write(folder / "b.truth.geojson", _fc(2, source="detector"))
    assert len(load_labelled_dir(folder).images) == 2


def test_pixel_labels_saved_by_qgis_as_crs84_are_told_what_to_do(tmp_path: Path) -> None:
    """QGIS reads a pixel label file ("crs": null) as EPSG:4326 and saves it with a 'crs'
    member naming CRS84; the message said the file 'has no crs member'."""
    from PIL import Image

    from railwatch.detect.labels import load_labelled_dir

    folder = tmp_path / "L"
    folder.mkdir()
    Image.fromarray(np.full((128, 128, 3), 100, np.uint8)).save(folder / "yard.png")
    ring = [[10, 10], [40, 10], [40, 16], [10, 16], [10, 10]]
    fc = {
        "type": "FeatureCollection",
        "name": "yard.truth",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "gsd": GSD,
        "features": [
            {
                "type": "Feature",
                "properties": {"class": "tank"},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        ],
    }
    _write(folder / "yard.truth.geojson", fc)
    with pytest.raises(InputError) as err:
        load_labelled_dir(folder)
    said = str(err.value)
    assert "has no 'crs' member, which means" not in said
    assert "one naming EPSG:4326 or CRS84" in said
    assert 'set "crs": null' in said


def test_detect_output_kept_as_labels_is_the_detectors(tmp_path: Path) -> None:
    """A label file that is `detect`'s output as it wrote it (its 'detector' and
    'detector_version') was 'not said': train, calibrate and eval gave no word that it
    taught or scored the detector against its own boxes."""
    from railwatch.detect.labels import load_labelled_dir

    folder = tmp_path / "L"
    for name in ("a", "b", "c"):
        _geotiff(folder / f"{name}.tif")
    _write(folder / "a.detections.geojson", _fc(2, source="a.tif", **DETECT_MEMBERS))
    _write(folder / "b.truth.geojson", _fc(2, **DETECT_MEMBERS, verified=True))
    _write(folder / "c.truth.geojson", _fc(2))  # QGIS's Save As: no top-level member
    got = {i.name: i.verified for i in load_labelled_dir(folder).images}
    assert got == {"a": False, "b": True, "c": None}


def _weights(tmp_path: Path) -> Path:
    weights = tmp_path / "w" / "w.onnx"
    weights.parent.mkdir()
    shutil.copy(WEIGHTS / "railwatch_default.onnx", weights)
    shutil.copy(WEIGHTS / "railwatch_default.json", weights.with_suffix(".json"))
    return weights


def test_calibrate_labels_says_what_it_read_and_whose_labels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`calibrate --labels` said nothing of the labels: a folder of `detect`'s uncorrected
    output calibrated the detector against its own boxes (recall 1.00) and an image
    without a label file was left out, both without a word; a recall spread taken as 0.1
    (fewer than two images of 5 or more cars at a resolution) read as measured."""
    folder = tmp_path / "L"
    _geotiff(folder / "a.tif")
    _geotiff(folder / "c.tif")  # no label file
    _write(folder / "a.detections.geojson", _fc(6, source="a.tif", **DETECT_MEMBERS))
    weights = _weights(tmp_path)
    capsys.readouterr()
    assert main(["calibrate", str(weights), "--labels", str(folder)]) == 0
    got = capsys.readouterr()
    said = " ".join((got.out + got.err).split())
    assert "labels: 1 image (0 without cars), 6 cars (boxcar 6)" in said, said
    assert "origin: 1 the detector's (unverified)" in said
    assert "warning: 1 image of the detector's labels" in said
    assert "not used (no label file): 1 image, c.tif" in said
    assert "sd 0.10 assumed: 1 image with 5 or more cars at this resolution" in said
    assert "scene-to-scene sd" not in said


# ----------------------------------------------------------------------------- eval


def _eval_dirs(tmp_path: Path) -> tuple[Path, Path]:
    truth, pred = tmp_path / "truth", tmp_path / "pred"
    _write(truth / "a.truth.geojson", _fc(3))
    _write(truth / "b.truth.geojson", _fc(2))
    _write(truth / "empty.truth.geojson", _fc(0))
    _write(pred / "a.detections.geojson", _fc(3, source="a.tif", **DETECT_MEMBERS))
    _write(pred / "b.detections.geojson", _fc(1, source="b.tif", **DETECT_MEMBERS))
    _write(pred / "empty.detections.geojson", _fc(0, source="empty.tif", **DETECT_MEMBERS))
    return truth, pred


def test_eval_refuses_files_made_on_another_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Prediction (or truth) files made on another image than the scene they pair with
    by name were scored against it: F1 0, or a wrong score where both show one yard."""
    truth, pred = _eval_dirs(tmp_path)
    _write(pred / "b.detections.geojson", _fc(3, source="a.tif", **DETECT_MEMBERS))
    capsys.readouterr()
    assert main(["eval", "--truth", str(truth), "--pred", str(pred)]) == 2
    said = " ".join(capsys.readouterr().err.split())
    assert "b.detections.geojson was made on a.tif, not on scene b's image" in said, said
    assert "nothing was evaluated" in said
    assert "a.detections.geojson" not in said


def test_eval_warns_of_truth_that_is_detect_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`detect`'s output copied as NAME.truth.geojson scored F1 1 without a word."""
    truth, pred = _eval_dirs(tmp_path)
    _write(truth / "a.truth.geojson", _fc(3, source="a.tif", **DETECT_MEMBERS))
    capsys.readouterr()
    assert main(["eval", "--truth", str(truth), "--pred", str(pred), "--json"]) == 0
    got = capsys.readouterr()
    said = " ".join(got.err.split())
    assert "warning: 1 truth file is railwatch detect's output as it wrote it" in said, said
    rows = {r["name"]: r for r in json.loads(got.out)["scenes"]}
    assert rows["a"]["truth_verified"] is False
    assert "truth_verified" not in rows["b"]


def test_eval_shows_each_scene_and_what_a_dash_means(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The tables gave groups only (an analyst could not see which held-out image was
    off without --json), and an empty yard read as empty showed "–" without a word."""
    truth, pred = _eval_dirs(tmp_path)
    capsys.readouterr()
    assert main(["eval", "--truth", str(truth), "--pred", str(pred)]) == 0
    out = capsys.readouterr().out
    assert "Per scene" in out
    lines = {ln.split()[1]: ln.split()[2:] for ln in out.splitlines() if ln.startswith("│ ")}
    row_b = [c for c in lines["b"] if c != "│"]
    assert row_b == ["0.5", "2", "1", "-1", "0.667"], row_b
    row_empty = [c for c in lines["empty"] if c != "│"]
    assert row_empty == ["0.5", "0", "0", "0", "–"], row_empty
    flat = " ".join(out.split())
    assert "F1 –: nothing to measure (no car in the truth and none predicted)" in flat
    # an empty yard alone: every box figure "–", said under the table
    for name in ("a", "b"):
        (truth / f"{name}.truth.geojson").unlink()
        (pred / f"{name}.detections.geojson").unlink()
    capsys.readouterr()
    assert main(["eval", "--truth", str(truth), "--pred", str(pred)]) == 0
    flat = " ".join(capsys.readouterr().out.split())
    assert "–: nothing to measure (precision: nothing detected; recall: no car in the truth" in (
        flat
    )


def test_eval_lists_the_worst_scenes_of_many(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.cli.eval import SCENES_SHOWN, WORST_SHOWN

    truth, pred = tmp_path / "truth", tmp_path / "pred"
    for k in range(SCENES_SHOWN + 1):
        _write(truth / f"s{k:02d}.truth.geojson", _fc(4))
        _write(pred / f"s{k:02d}.detections.geojson", _fc(4 if k != 7 else 1))
    capsys.readouterr()
    assert main(["eval", "--truth", str(truth), "--pred", str(pred)]) == 0
    out = capsys.readouterr().out
    flat = " ".join(out.split())
    assert f"the {WORST_SHOWN} of {SCENES_SHOWN + 1} scenes whose count is furthest off" in flat
    scene_rows = [ln.split()[1] for ln in out.splitlines() if ln.startswith("│ s")]
    assert scene_rows[0] == "s07"
    assert len(scene_rows) == WORST_SHOWN


# ------------------------------------------------------------------------ onnx models


def _const_model(
    path: Path,
    outputs: list[tuple[str, tuple[int, ...]]],
    *,
    meta: dict[str, str] | None = None,
    inputs: int = 1,
) -> Path:
    """An ONNX model taking (1, 3, 64, 64) images and giving zeros of each output's shape."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    ins = [f"images{k}" if k else "images" for k in range(inputs)]
    nodes = [
        helper.make_node("ReduceMax", [name], [f"m{k}"], keepdims=0) for k, name in enumerate(ins)
    ]
    outs = []
    for name, shape in outputs:
        value = numpy_helper.from_array(np.zeros(shape, np.float32), f"{name}_c")
        nodes.append(helper.make_node("Constant", [], [f"{name}_c"], value=value))
        nodes.append(helper.make_node("Identity", [f"{name}_c"], [name]))
        outs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape)))
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 3, 64, 64]) for n in ins],
        outs,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    for k, v in (meta or {}).items():
        prop = model.metadata_props.add()
        prop.key, prop.value = k, v
    onnx.save(model, str(path))
    return path


def test_a_model_of_two_outputs_is_refused_as_such(tmp_path: Path) -> None:
    """A segmentation export (its second output the mask prototypes) read its first
    output as an OBB head: 'no class names for its 32 classes', or, with ?classes=, or
    with one class more, boxes read out of mask coefficients without a word."""
    from railwatch.detect.onnx_backend import OnnxObbDetector

    seg = _const_model(
        tmp_path / "seg.onnx", [("output0", (1, 6, 84)), ("output1", (1, 32, 16, 16))]
    )
    with pytest.raises(DetectionError) as err:
        OnnxObbDetector(seg)
    said = str(err.value)
    assert "has 2 outputs (output0 (1, 6, 84), output1 (1, 32, 16, 16))" in said
    assert "segmentation model's mask prototypes" in said
    two_in = _const_model(tmp_path / "two_in.onnx", [("output0", (1, 6, 84))], inputs=2)
    with pytest.raises(DetectionError, match="takes 2 inputs"):
        OnnxObbDetector(two_in)


def test_class_names_ending_in_car_or_wagon_are_railcar_types() -> None:
    """A fine-tuned model's 'hopper_wagon' or 'Tanker car' was taken as not a railcar:
    its boxes dropped without a word."""
    from railwatch.detect.onnx_backend import railwatch_class

    assert railwatch_class("hopper_wagon") == "hopper"
    assert railwatch_class("Tanker car") == "tank"
    assert railwatch_class("gondola-wagons") == "gondola"
    assert railwatch_class("Flat_Car") == "flat"
    assert railwatch_class("wagon") == "railcar"  # as before
    assert railwatch_class("plane") is None
    assert railwatch_class("storage tank") is None
    assert railwatch_class("small vehicle") is None


def test_class_count_and_map_errors_say_where_the_names_came_from(tmp_path: Path) -> None:
    from railwatch.detect.onnx_backend import OnnxObbDetector

    model = _const_model(tmp_path / "m.onnx", [("output0", (1, 7, 84))])
    with pytest.raises(DetectionError) as err:
        OnnxObbDetector(model, classes=("railcar",))
    said = str(err.value)
    assert "outputs 2 classes but 1 class name was given (railcar, from ?classes=)" in said
    # 80 names of an untrained export ('0' .. '79'): not 80 'railcar's spelled out
    names = {str(k): str(k) for k in range(80)}
    big = _const_model(
        tmp_path / "big.onnx", [("output0", (1, 85, 84))], meta={"names": repr(names)}
    )
    with pytest.raises(DetectionError) as err:
        OnnxObbDetector(big)
    said = str(err.value)
    assert "none of the 80 classes of big.onnx (0, 1, 2, 3, 4, 5, 6, 7 and 72 more, from " in said
    assert "the model's metadata)" in said
    assert "railcar,railcar" not in said


def test_detect_names_the_classes_it_drops(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A class name railwatch does not know (a typo in ?classes=) lost its cars silently."""
    model = _const_model(tmp_path / "m.onnx", [("output0", (1, 7, 84))])
    image = _geotiff(tmp_path / "a.tif", 64)
    capsys.readouterr()
    spec = f"onnx:{model}?classes=railcar,gondla"
    assert main(["detect", str(image), "--detector", spec, "--out-dir", str(tmp_path / "o")]) == 0
    said = " ".join(capsys.readouterr().err.split())
    assert "note: 1 of the 2 classes of onnx:m.onnx is not a railcar class" in said, said
    assert "dropped: gondla" in said


def test_a_model_whose_classes_map_otherwise_now_gets_another_version(tmp_path: Path) -> None:
    """Scenes counted with a 'hopper_wagon' class dropped are counted again: the version
    of such a model changes; that of a model whose classes map as before does not."""
    from railwatch.detect.onnx_backend import OnnxObbDetector, model_version

    model = _const_model(tmp_path / "m.onnx", [("output0", (1, 7, 84))])

    def before_s49(det: OnnxObbDetector) -> str:
        return model_version(
            "onnx",
            det.path,
            det.names,
            det.score_threshold,
            det.nms_iou,
            det.input_size,
            det.model_gsd,
            det.layout,
            "unscaled",
            "ultralytics-nms",
            det.agnostic,
            det.max_det,
        )

    same = OnnxObbDetector(model, classes=("railcar", "tank car"))
    assert same.version == before_s49(same)
    moved = OnnxObbDetector(model, classes=("hopper_wagon", "tank"))
    assert moved.class_map == ("hopper", "tank")
    assert moved.version != before_s49(moved)


def test_eval_refuses_an_empty_file_and_one_without_features(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An empty truth file said only "Expecting value: line 1 column 1 (char 0)"; a
    FeatureCollection without 'features' (a file cut short by hand) was scored as a scene
    of 0 cars."""
    truth, pred = _eval_dirs(tmp_path)
    (truth / "b.truth.geojson").write_text("\n")
    capsys.readouterr()
    assert main(["eval", "--truth", str(truth), "--pred", str(pred)]) == 2
    said = " ".join(capsys.readouterr().err.split())
    assert "b.truth.geojson is empty: save the FeatureCollection there" in said, said
    _write(truth / "b.truth.geojson", _fc(2))
    _write(pred / "b.detections.geojson", {"type": "FeatureCollection", "source": "b.tif"})
    assert main(["eval", "--truth", str(truth), "--pred", str(pred)]) == 2
    said = " ".join(capsys.readouterr().err.split())
    assert "b.detections.geojson is a FeatureCollection without a 'features' list" in said


def test_eval_detector_reads_a_png_gsd_sidecar_and_says_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A PNG's truth saved by QGIS has no "gsd"; `train --labels` reads a sidecar
    NAME.json {"gsd": M}, `eval --detector` did not, and said to give --gsd, an option
    eval has not (with rasterio's NotGeoreferencedWarning printed above it)."""
    from PIL import Image

    truth = tmp_path / "truth"
    truth.mkdir()
    Image.fromarray(np.full((64, 64, 3), 100, np.uint8)).save(truth / "yard.png")
    ring = [[10, 10], [40, 10], [40, 16], [10, 16], [10, 10]]
    car = {
        "type": "Feature",
        "properties": {"class": "tank"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    _write(
        truth / "yard.truth.geojson", {"type": "FeatureCollection", "crs": None, "features": [car]}
    )
    model = _const_model(tmp_path / "m.onnx", [("output0", (1, 6, 84))])
    argv = ["eval", "--truth", str(truth), "--detector", f"onnx:{model}"]
    capsys.readouterr()
    assert main(argv) == 2
    said = " ".join(capsys.readouterr().err.split())
    assert "1 image is not georeferenced and no ground sample distance is given" in said, said
    assert 'a sidecar yard.json {"gsd": METRES}' in said
    assert "--gsd" not in said
    assert "NotGeoreferencedWarning" not in said
    _write(truth / "yard.json", {"gsd": 0.5})
    assert main([*argv, "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["scenes"]
    assert (row["gsd"], row["truth"], row["pred"]) == (0.5, 1, 0)


def test_a_torchvision_of_another_torch_is_named_as_the_cause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PyPI's torchvision beside a CPU-only torch loads no compiled operators; every tile
    of an `ultralytics:` model failed with "operator torchvision::nms does not exist"
    alone (a stand-in for the ultralytics package raises it, as the real one did)."""
    import sys
    import types

    from railwatch.detect.ultralytics_backend import UltralyticsObbDetector

    class YOLO:
        def __init__(self, path: str, task: str | None = None) -> None:
            self.task = "obb"
            self.names = {0: "hopper_wagon", 1: "plane"}
            self.overrides = {"imgsz": 64}

        def predict(self, image: np.ndarray, **kwargs: Any) -> list[Any]:
            raise RuntimeError("operator torchvision::nms does not exist")

    module = types.ModuleType("ultralytics")
    module.YOLO = YOLO  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ultralytics", module)
    weights = tmp_path / "m.pt"
    weights.write_bytes(b"stand-in")
    det = UltralyticsObbDetector(weights)
    assert det.names == ("hopper_wagon", "plane")
    assert det.class_map == {0: "hopper", 1: None}
    with pytest.raises(DetectionError) as err:
        det.detect(np.full((32, 32, 3), 100, np.uint8), 0.5)
    said = str(err.value)
    assert "operator torchvision::nms does not exist; torchvision does not match" in said
    assert "onnx:M.onnx, which needs neither" in said
