"""import-labels on labels as labelling tools really write them (QA 2026-12)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from railwatch.errors import InputError
from railwatch.export.labels import read_labels

QUAD = "10 10 40 10 40 20 10 20"


def _image(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((200, 300, 3), 90, np.uint8)).save(path)


def _dota(root: Path, data: bytes, stem: str = "a") -> Path:
    _image(root / "images" / f"{stem}.png")
    (root / "labelTxt").mkdir(parents=True, exist_ok=True)
    (root / "labelTxt" / f"{stem}.txt").write_bytes(data)
    return root


def _yolo(root: Path, line: str, names: str) -> Path:
    _image(root / "images" / "a.png")
    (root / "labels").mkdir(parents=True)
    (root / "labels" / "a.txt").write_text(line)
    (root / "dataset.yaml").write_text(names)
    return root


def _coco(root: Path, anns: list[dict], cats: object = None, images: object = None) -> Path:
    _image(root / "a.png")
    doc = {
        "images": [{"id": 1, "file_name": "a.png", "width": 300, "height": 200}]
        if images is None
        else images,
        "annotations": anns,
        "categories": [{"id": 1, "name": "tank"}] if cats is None else cats,
    }
    (root / "annotations.json").write_text(json.dumps(doc))
    return root


def test_dota_with_bom_crlf_spaces_and_other_case(tmp_path: Path) -> None:
    text = f"\ufeffimagesource:x\r\ngsd:0.5\r\n  {QUAD}   Tank  0 \r\n{QUAD} HOPPER\r\n"
    labels = read_labels(_dota(tmp_path, text.encode()), "dota")
    assert [o.cls for o in labels.images[0].objects] == ["tank", "hopper"]


def test_dota_not_utf8_or_bad_image_is_an_input_error(tmp_path: Path) -> None:
    root = _dota(tmp_path / "l1", f"{QUAD} tank 0\n# caf\u00e9\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"not UTF-8 text.*save the label file as UTF-8"):
        read_labels(root, "dota")
    root = _dota(tmp_path / "img", f"{QUAD} tank\n".encode())
    (root / "images" / "a.png").write_bytes(b"not a png")
    with pytest.raises(InputError, match=r"cannot read the image a\.png"):
        read_labels(root, "dota")


def test_non_ascii_names(tmp_path: Path) -> None:
    labels = read_labels(_dota(tmp_path, f"{QUAD} tank\n".encode(), stem="gare_été"), "dota")
    assert labels.images[0].name == "gare_été"


def test_yolo_class_names_in_another_case(tmp_path: Path) -> None:
    root = _yolo(tmp_path, "0 0.1 0.1 0.2 0.1 0.2 0.2 0.1 0.2\r\n", "names: ['Tank', 'Hopper']\n")
    assert read_labels(root, "yolo-obb").images[0].objects[0].cls == "tank"


def test_yolo_pixel_coordinates_say_to_normalise(tmp_path: Path) -> None:
    root = _yolo(tmp_path, f"0 {QUAD}\n", "names: [tank]\n")
    with pytest.raises(InputError, match="divided by the image width/height"):
        read_labels(root, "yolo-obb")


def test_coco_polygon_closed_or_with_more_points_keeps_its_orientation(tmp_path: Path) -> None:
    # a rotated car drawn as a closed ring of 5 points (and an axis-aligned bbox): the
    # polygon, not the bbox, gives the corners
    seg = [10, 10, 40, 12, 38, 22, 8, 20, 10, 10]
    ann = {"id": 1, "image_id": 1, "category_id": 1, "segmentation": [seg], "bbox": [8, 10, 32, 12]}
    obj = read_labels(_coco(tmp_path / "a", [ann]), "coco").images[0].objects[0]
    assert obj.corners == ((10, 10), (40, 12), (38, 22), (8, 20))
    # a six-point outline: its minimum-area rectangle
    seg6 = [10, 10, 25, 10, 40, 10, 40, 20, 25, 20, 10, 20]
    ann6 = {"id": 1, "image_id": 1, "category_id": 1, "segmentation": [seg6]}
    labels = read_labels(_coco(tmp_path / "b", [ann6], [{"id": 1, "name": "Tank "}]), "coco")
    pts = np.asarray(labels.images[0].objects[0].corners)
    assert labels.images[0].objects[0].cls == "tank"
    assert pts.shape == (4, 2)
    assert sorted(map(tuple, pts.round(3).tolist())) == [(10, 10), (10, 20), (40, 10), (40, 20)]


def test_coco_wrong_shapes_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="'images' must be a list of objects"):
        read_labels(_coco(tmp_path / "a", [], images=["a.png"]), "coco")
    with pytest.raises(InputError, match="'categories' must be a list of objects"):
        read_labels(_coco(tmp_path / "b", [], cats={"1": "tank"}), "coco")
    ann = {
        "id": 1,
        "image_id": 1,
        "category_id": 1,
        "segmentation": [[10, 10, 40, 10, 40, 20, 10, 20]],
        "attributes": {"score": "high"},
    }
    with pytest.raises(InputError, match="'score' and 'difficult' must be numbers"):
        read_labels(_coco(tmp_path / "c", [ann]), "coco")


# ------------------------------------------------------------- train/calibrate --labels


def _geojson_dir(root: Path, text: str, name: str = "yard.truth.geojson") -> Path:
    root.mkdir(parents=True)
    _image(root / "yard.png")
    (root / name).write_text(text, encoding="utf-8")
    return root


def _car_fc() -> dict:
    ring = [[100, 100], [140, 100], [140, 106], [100, 106], [100, 100]]  # 20 m x 3 m
    feat = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}}
    feat["properties"] = {"class": " Tank ", "covered": False}
    return {"type": "FeatureCollection", "crs": None, "gsd": 0.5, "features": [feat]}


def test_training_labels_with_bom_other_case_suffix_and_class(tmp_path: Path) -> None:
    from railwatch.detect.labels import load_labelled_dir

    text = "\ufeff" + json.dumps(_car_fc(), indent=1).replace("\n", "\r\n")
    labelled = load_labelled_dir(_geojson_dir(tmp_path / "a", text, "yard.Truth.GeoJSON"))
    assert labelled.cars == 1
    assert labelled.images[0].cars[0].cls == "tank"


def test_training_labels_empty_file_says_what_to_write(tmp_path: Path) -> None:
    from railwatch.detect.labels import load_labelled_dir

    with pytest.raises(InputError, match=r"is empty: save the corrected FeatureCollection"):
        load_labelled_dir(_geojson_dir(tmp_path / "a", ""))


def test_training_labels_in_a_format_train_does_not_read(tmp_path: Path) -> None:
    from railwatch.detect.labels import load_labelled_dir

    yolo = _yolo(tmp_path / "yolo", "0 0.1 0.1 0.2 0.1 0.2 0.2 0.1 0.2\n", "names: [tank]\n")
    with pytest.raises(InputError, match=r"looks like a YOLO-OBB dataset"):
        load_labelled_dir(yolo)
    coco = _coco(tmp_path / "coco", [])
    with pytest.raises(InputError, match=r"looks like a COCO dataset"):
        load_labelled_dir(coco)


def test_eval_pixels_against_crs_says_what_to_do(tmp_path: Path) -> None:
    from railwatch.detect.eval import evaluate_dirs

    truth = tmp_path / "truth"
    truth.mkdir()
    fc = _car_fc()
    fc["crs"] = {"type": "name", "properties": {"name": "EPSG:32652"}}
    (truth / "s.truth.geojson").write_text(json.dumps(fc))
    pred = tmp_path / "pred"
    pred.mkdir()
    (pred / "s.detections.geojson").write_text(json.dumps(_car_fc()))
    with pytest.raises(InputError, match=r"give both in pixels or both in a CRS"):
        evaluate_dirs(truth, pred_dir=pred)
