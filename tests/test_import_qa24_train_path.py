"""export-labels -> correct -> import-labels -> train --labels runs to the end (QA session
24): import-labels keeps each image's ground sample distance (DOTA ``gsd:``, COCO
``railwatch.gsd``, ``--gsd`` for YOLO-OBB) and train reads its folder; training reads
classes and covered flags as ``railwatch eval`` does, and subfolders as eval does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from railwatch.cli.main import main
from railwatch.detect.labels import load_labelled_dir
from railwatch.errors import InputError
from railwatch.export.labels import import_labels, read_labels
from railwatch.storage import Database
from report_db import populate

SCENE = "1"  # the test yard's first image: 0.5 m, usable, 5 cars


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("qa24_import")
    url = f"sqlite:///{tmp / 'rw.db'}"
    populate(Database(url), tmp / "scenes")
    return url


def _export(db_url: str, fmt: str, out: Path, capsys: pytest.CaptureFixture[str]) -> int:
    rc = main(["--db", db_url, "export-labels", "--scene", SCENE, "--format", fmt,
               "--out", str(out), "--chip", "512", "--json"])  # fmt: skip
    assert rc == 0
    objects = int(json.loads(capsys.readouterr().out)["objects"])
    assert objects > 0
    return objects


def _move_first_box(src: Path, fmt: str) -> None:
    """What an analyst does in a labelling tool: one box moved 2 px right, its class
    changed to gondola (COCO: and marked covered)."""
    if fmt == "coco":
        doc = json.loads((src / "annotations.json").read_text())
        ann = doc["annotations"][0]
        ann["segmentation"] = [[v + 2 if k % 2 == 0 else v for k, v in
                                enumerate(ann["segmentation"][0])]]  # fmt: skip
        ann["category_id"] = next(c["id"] for c in doc["categories"] if c["name"] == "gondola")
        ann["attributes"]["covered"] = True
        (src / "annotations.json").write_text(json.dumps(doc))
        return
    folder = src / ("labelTxt" if fmt == "dota" else "labels")
    path = next(p for p in sorted(folder.glob("*.txt")) if p.read_text().strip())
    lines = path.read_text().splitlines()
    k = next(i for i, ln in enumerate(lines) if not ln.startswith("gsd:"))
    parts = lines[k].split()
    if fmt == "dota":
        xy = [float(v) + (2 if i % 2 == 0 else 0) for i, v in enumerate(parts[:8])]
        lines[k] = " ".join(f"{v:.10g}" for v in xy) + " gondola 0"
    else:
        names = (src / "dataset.yaml").read_text()
        gid = next(ln.split(":")[0].strip() for ln in names.splitlines() if "gondola" in ln)
        lines[k] = " ".join([gid, *parts[1:]])
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("fmt", ["coco", "dota", "yolo-obb"])
def test_exported_labels_corrected_and_imported_train(
    fmt: str, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("torch")
    src, train_set = tmp_path / "exported", tmp_path / "imported"
    objects = _export(db_url, fmt, src, capsys)
    _move_first_box(src, fmt)
    gsd = ["--gsd", "0.5"] if fmt == "yolo-obb" else []  # YOLO-OBB carries no gsd
    rc = main(["--db", db_url, "import-labels", str(src), "--format", fmt,
               "--out", str(train_set), "--json", *gsd])  # fmt: skip
    assert rc == 0
    imported = json.loads(capsys.readouterr().out)
    assert imported["objects"] == objects and imported["without_gsd"] == []
    manifest = json.loads((train_set / "railwatch_labels.json").read_text())
    assert {i["gsd"] for i in manifest["images"]} == {0.5}

    labelled = load_labelled_dir(train_set)  # was refused: no ground sample distance
    assert labelled.cars == objects
    assert {i.native_gsd for i in labelled.images} == {0.5}
    assert {i.source for i in labelled.images} == {fmt}
    classes = [c.cls for i in labelled.images for c in i.cars]
    assert classes.count("gondola") >= 1
    covered = [c.covered for i in labelled.images for c in i.cars]
    assert any(covered) == (fmt == "coco")  # COCO carries the flag the analyst set

    weights = tmp_path / "tuned.onnx"
    rc = main(["train", "--labels", str(train_set), "--out", str(weights), "--scenes", "2",
               "--epochs", "1", "--sim-fraction", "0", "--calibration-scenes", "0",
               "--threads", "1"])  # fmt: skip
    err = " ".join(capsys.readouterr().err.split())
    assert rc == 0, err
    n = len(labelled.images)
    # the export's 2 chips overlap: a car in the overlap is a label of each (session 40:
    # the labels were said as cars)
    assert f"labels: {n} images" in err and f"5 cars in {objects} labels" in err
    assert f"{n} image(s) of import-labels ({fmt})" in err
    assert ("carry no covered flag" in err) == (fmt != "coco")
    card = json.loads(weights.with_suffix(".json").read_text())
    assert card["labels"]["cars"] == objects
    assert card["labels"]["images"][0]["labels"] == "railwatch_labels.json"


def test_yolo_obb_without_gsd_is_written_and_said(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src, train_set = tmp_path / "exported", tmp_path / "imported"
    _export(db_url, "yolo-obb", src, capsys)
    # a set with no gsd anywhere: export-labels' railwatch_export.json gives each chip's
    # (session 28), so it goes, as when the labels come from elsewhere than export-labels
    (src / "railwatch_export.json").unlink()
    rc = main(["import-labels", str(src), "--format", "yolo-obb", "--out", str(train_set),
               "--json"])  # fmt: skip
    assert rc == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["without_gsd"]
    err = " ".join(out.err.split())
    assert "have no ground sample distance" in err and "--gsd METRES" in err
    with pytest.raises(
        InputError, match=r"railwatch_labels.json: image .* no ground sample.*--gsd"
    ):
        load_labelled_dir(train_set)


def test_gsd_option_checked_and_never_against_the_labels(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "exported"
    _export(db_url, "dota", src, capsys)
    with pytest.raises(InputError, match=r"labels give gsd 0.5 m, --gsd gives 0.3 m"):
        import_labels(src, "dota", tmp_path / "a", gsd=0.3)
    assert not (tmp_path / "a").exists()
    assert import_labels(src, "dota", tmp_path / "b", gsd=0.5).without_gsd == ()
    for bad in ("-1", "nan", "0"):
        rc = main(["import-labels", str(src), "--format", "dota", "--gsd", bad,
                   "--out", str(tmp_path / "c")])  # fmt: skip
        assert rc == 2 and "--gsd" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()


def _image(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((200, 300, 3), 90, np.uint8)).save(path)


def test_a_dota_gsd_line_that_is_no_number_is_refused(tmp_path: Path) -> None:
    # it was skipped as a header line: the gsd was lost unsaid
    _image(tmp_path / "images" / "a.png")
    (tmp_path / "labelTxt").mkdir()
    (tmp_path / "labelTxt" / "a.txt").write_text("gsd:0,5\n10 10 40 10 40 16 10 16 tank 0\n")
    with pytest.raises(InputError, match=r"a.txt:1: gsd must be a positive number"):
        read_labels(tmp_path, "dota")


def test_coco_classes_and_covered_read_as_eval_reads_them(tmp_path: Path) -> None:
    _image(tmp_path / "images" / "a.png")
    box = [10, 10, 40, 10, 40, 16, 10, 16]
    anns: list[dict[str, Any]] = [{"id": k, "image_id": 1, "category_id": c, "segmentation": [box],
             "attributes": {"covered": cov}}
            for k, (c, cov) in enumerate([(1, "no"), (2, "Yes"), (1, "false")])]  # fmt: skip
    doc = {
        "images": [{"id": 1, "file_name": "images/a.png", "width": 300, "height": 200,
                    "railwatch": {"gsd": 0.5}}],
        "annotations": anns,
        "categories": [{"id": 1, "name": "Tank Car"}, {"id": 2, "name": "Box_Car"}],
    }  # fmt: skip
    (tmp_path / "annotations.json").write_text(json.dumps(doc))
    objs = read_labels(tmp_path, "coco").images[0].objects
    assert [(o.cls, o.covered) for o in objs] == [
        ("tank", False),
        ("boxcar", True),
        ("tank", False),
    ]
    anns[0]["attributes"]["covered"] = "maybe"  # was read as false, unsaid
    (tmp_path / "annotations.json").write_text(json.dumps(doc))
    with pytest.raises(InputError, match=r"annotation\[0\].*covered 'maybe'"):
        read_labels(tmp_path, "coco")


def _truth(path: Path, *props: dict[str, object]) -> None:
    """An image and its truth file: one 20 m x 3 m car (0.5 m pixels) per ``props``."""
    _image(path.with_name(path.name.split(".")[0] + ".png"))
    feats = []
    for k, p in enumerate(props):
        y = 10 + 20 * k
        ring = [[10, y], [50, y], [50, y + 6], [10, y + 6], [10, y]]
        feats.append({"type": "Feature", "properties": p,
                      "geometry": {"type": "Polygon", "coordinates": [ring]}})  # fmt: skip
    fc = {"type": "FeatureCollection", "crs": None, "gsd": 0.5, "features": feats}
    path.write_text(json.dumps(fc))


def test_training_reads_a_truth_file_as_eval_does(tmp_path: Path) -> None:
    # eval reads 'tank car' and covered 'yes'/'no' (fce62dd); training refused them
    _truth(
        tmp_path / "yard.truth.geojson",
        {"class": "tank car", "covered": "yes"},
        {"class": "Box Car", "covered": "no"},
        {"class": "Flat_Car", "covered": "Y"},
    )
    cars = load_labelled_dir(tmp_path).images[0].cars
    assert [(c.cls, c.covered) for c in cars] == [
        ("tank", True),
        ("boxcar", False),
        ("flat", True),
    ]
    from railwatch.detect.geojson import read_geojson

    truth = read_geojson(tmp_path / "yard.truth.geojson").detections
    assert [(d.cls, d.covered) for d in truth] == [(c.cls, c.covered) for c in cars]


def test_training_reads_subfolders_as_eval_does(tmp_path: Path) -> None:
    # eval reads --truth's subfolders; training read only the top folder, unsaid
    _truth(tmp_path / "top.truth.geojson", {"class": "tank"})
    _truth(tmp_path / "siteA" / "yard.truth.geojson", {"class": "gondola"})
    _truth(tmp_path / "siteB" / "yard.truth.geojson", {"class": "hopper"})
    _image(tmp_path / "siteB" / "unlabelled.png")
    _truth(tmp_path / ".hidden" / "x.truth.geojson", {"class": "flat"})
    labelled = load_labelled_dir(tmp_path)
    assert [(i.name, i.cars[0].cls) for i in labelled.images] == [
        ("top", "tank"),
        ("siteA/yard", "gondola"),
        ("siteB/yard", "hopper"),
    ]
    assert labelled.unlabelled == ("siteB/unlabelled.png",)
    images = [i["image"] for i in labelled.summary()["images"]]
    assert images == ["top.png", "siteA/yard.png", "siteB/yard.png"]


def test_two_import_labels_folders_under_one_labels_folder(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # import-labels --site writes labels/SITE: give labels/ to train for every site
    objects = 0
    for fmt in ("coco", "dota"):
        objects += _export(db_url, fmt, tmp_path / fmt, capsys)
        import_labels(tmp_path / fmt, fmt, tmp_path / "labels" / fmt)
    labelled = load_labelled_dir(tmp_path / "labels")
    assert labelled.cars == objects
    assert {i.name.split("/")[0] for i in labelled.images} == {"coco", "dota"}
    assert labelled.unlabelled == ()


def test_an_imported_image_replaced_by_another_size_is_refused(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # its pixel labels would be taught on another picture
    _export(db_url, "dota", tmp_path / "dota", capsys)
    out = import_labels(tmp_path / "dota", "dota", tmp_path / "labels").out
    chip = sorted((out / "images").glob("*.png"))[0]
    with Image.open(chip) as im:
        w, h = im.size
    _image(chip)  # 300 x 200
    assert (w, h) != (300, 200)
    with pytest.raises(InputError, match=rf"labelled at {w} x {h} px but {chip.name} is 300 x 200"):
        load_labelled_dir(out)
