"""import-labels on datasets as CVAT, Roboflow and Label Studio write them (QA session 24)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from railwatch.errors import InputError
from railwatch.export.labels import import_labels, read_labels

QUAD = "10 10 40 10 40 20 10 20"


def _image(path: Path, value: int = 90) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((200, 300, 3), value, np.uint8)).save(path)


def _coco_doc(anns: list[dict], images: list[dict] | None = None) -> dict:
    return {
        "images": images or [{"id": 1, "file_name": "a.png", "width": 300, "height": 200}],
        "annotations": anns,
        "categories": [{"id": 1, "name": "tank"}],
    }


def _ann(**extra: object) -> dict:
    return {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 30, 10], **extra}


def test_a_cvat_rotated_box_keeps_its_rotation(tmp_path: Path) -> None:
    # CVAT's COCO export: the unrotated bbox, no segmentation, attributes.rotation in
    # degrees clockwise on the image; it was imported axis-aligned
    _image(tmp_path / "images" / "a.png")
    (tmp_path / "annotations").mkdir()
    doc = _coco_doc([_ann(segmentation=[], attributes={"occluded": False, "rotation": 90.0})])
    (tmp_path / "annotations" / "instances_default.json").write_text(json.dumps(doc))
    labels = read_labels(tmp_path, "coco")
    pts = np.asarray(labels.images[0].objects[0].corners)
    # 30 x 10 px about (25, 15), turned a quarter: 10 wide, 30 high
    assert np.allclose(pts.min(axis=0), [20, 0], atol=1e-6)
    assert np.allclose(pts.max(axis=0), [30, 30], atol=1e-6)
    doc = _coco_doc([_ann(segmentation=[], attributes={"rotation": 30.0})])
    (tmp_path / "annotations" / "instances_default.json").write_text(json.dumps(doc))
    pts = np.asarray(read_labels(tmp_path, "coco").images[0].objects[0].corners)
    left, right = pts[[0, 3]].mean(axis=0), pts[[1, 2]].mean(axis=0)
    # clockwise on the image (y down): the right end goes down
    assert math.degrees(math.atan2(right[1] - left[1], right[0] - left[0])) == pytest.approx(30)


def test_a_rotation_that_is_not_degrees_is_refused(tmp_path: Path) -> None:
    _image(tmp_path / "a.png")
    doc = _coco_doc([_ann(attributes={"rotation": "left"})])
    (tmp_path / "annotations.json").write_text(json.dumps(doc))
    with pytest.raises(InputError, match=r"annotation\[0\].*'rotation' must be degrees"):
        read_labels(tmp_path, "coco")


def test_coco_shapes_that_are_not_one_polygon_are_refused_not_replaced_by_the_bbox(
    tmp_path: Path,
) -> None:
    _image(tmp_path / "a.png")
    rle = _ann(segmentation={"counts": [0, 5, 10], "size": [200, 300]}, iscrowd=1)
    two = _ann(segmentation=[[10, 10, 40, 10, 40, 20, 10, 20], [90, 90, 120, 90, 120, 99]])
    (tmp_path / "annotations.json").write_text(json.dumps(_coco_doc([rle, two])))
    with pytest.raises(InputError) as err:
        read_labels(tmp_path, "coco")
    assert "annotation[0]: segmentation is a mask (RLE)" in str(err.value)
    assert "annotation[1]: segmentation has 2 polygons" in str(err.value)


def test_an_annotation_of_an_image_not_in_the_file_is_not_lost(tmp_path: Path) -> None:
    _image(tmp_path / "a.png")
    (tmp_path / "annotations.json").write_text(json.dumps(_coco_doc([_ann(image_id=7)])))
    with pytest.raises(InputError, match=r"annotation\[0\]: image_id 7 is not among"):
        read_labels(tmp_path, "coco")


def test_two_coco_images_of_one_name_are_refused(tmp_path: Path) -> None:
    # both were written to images/a.png and labels/a.txt: the second's empty labels won
    _image(tmp_path / "a.png")
    _image(tmp_path / "sub" / "a.png", 30)
    images = [
        {"id": 1, "file_name": "a.png", "width": 300, "height": 200},
        {"id": 2, "file_name": "sub/a.png", "width": 300, "height": 200},
    ]
    (tmp_path / "annotations.json").write_text(json.dumps(_coco_doc([_ann()], images)))
    with pytest.raises(InputError, match=r"'sub/a.png'.*also named a"):
        import_labels(tmp_path, "coco", tmp_path / "out")
    assert not (tmp_path / "out" / "labels").exists()


def test_coco_bare_file_names_with_images_in_their_folder(tmp_path: Path) -> None:
    # CVAT and Roboflow name the image without its folder
    _image(tmp_path / "images" / "a.png")
    doc = _coco_doc([_ann(segmentation=[[10, 10, 40, 10, 40, 20, 10, 20]])])
    (tmp_path / "result.json").write_text(json.dumps(doc))
    summary = import_labels(tmp_path, "coco", tmp_path / "out")
    assert (summary.images, summary.objects, summary.unlabelled) == (1, 1, ())
    assert (tmp_path / "out" / "images" / "a.png").is_file()


def test_image_names_in_another_case_are_found(tmp_path: Path) -> None:
    _image(tmp_path / "images" / "Yard_1.PNG")
    (tmp_path / "labelTxt").mkdir()
    (tmp_path / "labelTxt" / "yard_1.txt").write_text(f"{QUAD} tank 0\n")
    summary = import_labels(tmp_path, "dota", tmp_path / "out")
    assert (summary.images, summary.objects, summary.unlabelled) == (1, 1, ())


@pytest.mark.parametrize(
    "line",
    ["10 10 10 10 10 10 10 10 tank 0", "10 10 40 20 40 10 10 20 tank 0"],
    ids=["one point", "bow-tie"],
)
def test_corners_that_outline_no_box_are_refused(tmp_path: Path, line: str) -> None:
    _image(tmp_path / "images" / "a.png")
    (tmp_path / "labelTxt").mkdir()
    (tmp_path / "labelTxt" / "a.txt").write_text(f"{QUAD} tank 0\n{line}\n")
    with pytest.raises(InputError, match=r"a.txt:2: the 4 corners do not outline a box"):
        read_labels(tmp_path, "dota")


def test_yolo_data_yaml_with_comments(tmp_path: Path) -> None:
    # Roboflow's and CVAT's Ultralytics exports name the file data.yaml
    _image(tmp_path / "images" / "a.png")
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "a.txt").write_text("1 0.1 0.1 0.2 0.1 0.2 0.15 0.1 0.15\n")
    (tmp_path / "data.yaml").write_text("nc: 2\nnames:\n  0: tank  # oil\n  1: 'hopper' # ore\n")
    labels = read_labels(tmp_path, "yolo-obb")
    assert [o.cls for o in labels.images[0].objects] == ["hopper"]
