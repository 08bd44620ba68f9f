"""Training labels: export chips + labels from a database, lossless round trips in
COCO, DOTA and YOLO-OBB, import into a training set, and clear errors on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from railwatch.errors import InputError
from railwatch.export.label_chips import export_labels, tile_starts
from railwatch.export.labels import (
    FORMATS,
    LabelImage,
    LabelObject,
    LabelSet,
    import_labels,
    read_labels,
    read_yaml_names,
    write_labels,
)
from railwatch.storage import Database, repo
from report_db import COLOURS, PLANS, populate

GROUND = 150


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Database:
    tmp = tmp_path_factory.mktemp("labels")
    database = Database(f"sqlite:///{tmp / 'rw.db'}")
    populate(database, tmp / "scenes")
    return database


def _synthetic() -> tuple[LabelSet, dict[str, np.ndarray]]:
    rng = np.random.default_rng(3)
    objs = (
        LabelObject("tank", ((10.25, 20.5), (38.125, 20.5), (38.125, 26.75), (10.25, 26.75))),
        LabelObject(
            "gondola",
            ((50.0, 40.0), (70.3923048454, 28.0), (73.3923048454, 33.1961524227),
             (53.0, 45.1961524227)),
            covered=True,
        ),
        # truncated at the right edge: its centre is inside, a corner is not
        LabelObject("boxcar", ((90.0, 60.0), (104.0, 60.0), (104.0, 63.0), (90.0, 63.0))),
    )  # fmt: skip
    images = (LabelImage("a", 100, 80, objs), LabelImage("empty", 64, 64, ()))
    pixels = {
        "a": rng.integers(0, 255, (80, 100, 3), dtype=np.uint8),
        "empty": np.zeros((64, 64, 3), dtype=np.uint8),
    }
    return LabelSet(("boxcar", "gondola", "tank"), images), pixels


def _assert_same(a: LabelSet, b: LabelSet, *, covered: bool) -> None:
    by_name = {i.name: i for i in b.images}
    assert {i.name for i in a.images} == set(by_name)
    for img in a.images:
        other = by_name[img.name]
        assert (img.width, img.height) == (other.width, other.height)
        assert len(img.objects) == len(other.objects)
        for x, y in zip(img.objects, other.objects, strict=True):
            assert x.cls == y.cls
            assert np.allclose(x.corners, y.corners, atol=1e-6, rtol=0)
            if covered:
                assert x.covered == y.covered


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_is_lossless(fmt: str, tmp_path: Path) -> None:
    labels, pixels = _synthetic()
    write_labels(labels, tmp_path, fmt, pixels)
    back = read_labels(tmp_path, fmt)
    _assert_same(labels, back, covered=fmt == "coco")
    with Image.open(tmp_path / "images" / "a.png") as im:
        assert np.array_equal(np.asarray(im), pixels["a"])


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_from_database_matches_the_cars(db: Database, fmt: str, tmp_path: Path) -> None:
    result = export_labels(db, tmp_path, fmt, site="testyard", chip=256)
    usable = [p for p in PLANS if p.usable]
    assert result.scenes == len(usable) and not result.skipped
    labels = read_labels(tmp_path, fmt)
    assert len(labels.images) == result.chips
    # every car of every scene is in at least one chip
    assert sum(len(i.objects) for i in labels.images) >= sum(p.n for p in usable)
    # each label sits on a drawn car: the chip pixel under its centre has a car colour
    car_colours = {tuple(c) for c in COLOURS.values()}
    checked = 0
    for img in labels.images:
        with Image.open(tmp_path / "images" / f"{img.name}.png") as im:
            px = np.asarray(im)
        assert px.shape[:2] == (img.height, img.width)
        assert img.width <= 256 and img.height <= 256
        for obj in img.objects:
            cx, cy = obj.centre
            r, c = int(cy), int(cx)
            if 0 <= r < img.height and 0 <= c < img.width:
                assert tuple(int(v) for v in px[r, c]) in car_colours
                checked += 1
    assert checked > 50


def test_export_one_scene_and_bad_arguments(db: Database, tmp_path: Path) -> None:
    result = export_labels(db, tmp_path / "one", "coco", scene_id=1, chip=1024)
    assert result.scenes == 1 and result.chips == 1 and result.objects == PLANS[0].n
    doc = json.loads((tmp_path / "one" / "annotations.json").read_text())
    assert doc["images"][0]["railwatch"]["scene_id"] == 1
    assert sum(a["attributes"]["covered"] for a in doc["annotations"]) == 2
    with pytest.raises(InputError, match="exactly one"):
        export_labels(db, tmp_path / "x", "coco")
    with pytest.raises(InputError, match="too small"):
        export_labels(db, tmp_path / "x", "coco", site="testyard", chip=8)
    with pytest.raises(InputError, match="unknown label format"):
        export_labels(db, tmp_path / "x", "voc", site="testyard")


def test_tile_starts_cover_the_area() -> None:
    assert tile_starts(100, 256) == [0]
    assert tile_starts(600, 256) == [0, 256, 344]
    assert tile_starts(512, 256) == [0, 256]


def test_import_writes_a_training_set(tmp_path: Path) -> None:
    labels, pixels = _synthetic()
    write_labels(labels, tmp_path / "src", "dota", pixels)
    summary = import_labels(tmp_path / "src", "dota", tmp_path / "train", site="yard")
    assert summary.images == 2 and summary.objects == 3
    assert summary.by_class == {"boxcar": 1, "gondola": 1, "tank": 1}
    train = tmp_path / "train"
    assert (train / "images" / "a.png").is_file() and (train / "labels" / "a.txt").is_file()
    names = read_yaml_names(train / "dataset.yaml")
    assert names[:7] == ["boxcar", "gondola", "hopper", "tank", "flat", "container", "locomotive"]
    manifest = json.loads((train / "railwatch_labels.json").read_text())
    assert manifest["site"] == "yard" and manifest["source_format"] == "dota"
    # the training set is itself a valid YOLO-OBB dataset with the same geometry
    _assert_same(labels, read_labels(train, "yolo-obb"), covered=False)


def _dota_dir(tmp_path: Path, lines: list[str], *, image: bool = True) -> Path:
    root = tmp_path / "dota"
    (root / "labelTxt").mkdir(parents=True)
    (root / "images").mkdir()
    (root / "labelTxt" / "chip.txt").write_text("\n".join(lines) + "\n")
    if image:
        Image.fromarray(np.zeros((50, 100, 3), dtype=np.uint8)).save(root / "images" / "chip.png")
    return root


def test_dota_errors_list_file_and_line(tmp_path: Path) -> None:
    root = _dota_dir(
        tmp_path,
        [
            "gsd:0.5",
            "10 10 24 10 24 13 10 13 tank 0",
            "10 10 24 10 24 13 10 13 spaceship 0",
            "300 10 314 10 314 13 300 13 tank 0",
            "10 10 24 10 tank 0",
            "a b c d e f g h tank 0",
        ],
    )
    with pytest.raises(InputError) as err:
        read_labels(root, "dota")
    msg = str(err.value)
    assert "4 problems" in msg
    assert "chip.txt:3: unknown class 'spaceship'" in msg
    assert "chip.txt:4: label outside the image" in msg
    assert "chip.txt:5: expected" in msg
    assert "chip.txt:6: corner coordinates must be numbers" in msg
    assert "chip.txt:2" not in msg


def test_missing_images_are_reported(tmp_path: Path) -> None:
    root = _dota_dir(tmp_path, ["10 10 24 10 24 13 10 13 tank 0"], image=False)
    with pytest.raises(InputError, match=r"chip.txt: missing image chip.png"):
        read_labels(root, "dota")


def test_yolo_errors(tmp_path: Path) -> None:
    labels, pixels = _synthetic()
    root = tmp_path / "y"
    write_labels(labels, root, "yolo-obb", pixels)
    (root / "labels" / "a.txt").write_text("7 0.1 0.1 0.2 0.1 0.2 0.2 0.1 0.2\n0 0.1 0.1\n")
    with pytest.raises(InputError) as err:
        read_labels(root, "yolo-obb")
    assert "a.txt:1: class id 7 not in dataset.yaml names" in str(err.value)
    assert "a.txt:2: expected" in str(err.value)
    (root / "dataset.yaml").unlink()
    with pytest.raises(InputError, match=r"dataset\.yaml"):
        read_labels(root, "yolo-obb")


def test_wrong_format_and_bad_coco(tmp_path: Path) -> None:
    labels, pixels = _synthetic()
    write_labels(labels, tmp_path / "d", "dota", pixels)
    with pytest.raises(InputError, match="no COCO annotations"):
        read_labels(tmp_path / "d", "coco")
    with pytest.raises(InputError, match=r"needs dataset\.yaml"):
        read_labels(tmp_path / "d", "yolo-obb")
    write_labels(labels, tmp_path / "c", "coco", pixels)
    doc = json.loads((tmp_path / "c" / "annotations.json").read_text())
    doc["annotations"][0]["category_id"] = 99
    doc["images"][1]["file_name"] = "images/gone.png"
    (tmp_path / "c" / "annotations.json").write_text(json.dumps(doc))
    with pytest.raises(InputError) as err:
        read_labels(tmp_path / "c", "coco")
    assert "annotation[0]: unknown category_id 99" in str(err.value)
    assert "missing image file" in str(err.value)
    (tmp_path / "c" / "annotations.json").write_text("{not json")
    with pytest.raises(InputError, match="not a COCO JSON file"):
        read_labels(tmp_path / "c", "coco")


def test_out_that_is_a_file_is_an_input_error(db: Database, tmp_path: Path) -> None:
    """export-labels and import-labels with --out naming a file were internal errors
    (status 70: NotADirectoryError); the file is left as it was."""
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(InputError, match=r"cannot write the labels to .*give --out a directory"):
        export_labels(db, blocker, "coco", site="testyard", chip=256)
    labels, pixels = _synthetic()
    write_labels(labels, tmp_path / "src", "dota", pixels)
    with pytest.raises(InputError, match=r"cannot write the training set to .*give --out"):
        import_labels(tmp_path / "src", "dota", blocker / "train")
    assert blocker.read_text() == "x"


def test_scenes_counted_by_length_are_skipped(tmp_path: Path) -> None:
    """A 3 m scene has no car boxes: its chips would be labelled "no car" over cars that
    are there (and `train --labels` refused the whole folder for them)."""
    from datetime import UTC, datetime

    from report_db import FakeCount, add_counted_scene

    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    populate(db, tmp_path / "scenes")
    with db.session() as s:
        site = repo.get_site(s, "testyard")
        coarse = FakeCount(20.0, 15.0, 30.0, {"railcar": (20, 15, 30)}, 0, method="length")
        sid = add_counted_scene(s, site, datetime(2022, 6, 1, tzinfo=UTC), 3.0, coarse, 999)
    result = export_labels(db, tmp_path / "out", "dota", site="testyard", chip=256)
    assert result.skipped == (
        f"scene {sid} (3 m) is counted by occupied track length: it has no car boxes to label",
    )
    assert result.scenes == sum(p.usable for p in PLANS)
    db.dispose()


@pytest.mark.parametrize("fmt", ["dota", "yolo-obb"])
def test_images_without_a_label_file_are_named_not_silently_dropped(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.cli.main import main

    labels, pixels = _synthetic()
    src = tmp_path / "src"
    write_labels(labels, src, fmt, pixels)
    Image.fromarray(pixels["a"]).save(src / "images" / "extra.png")  # no label file
    summary = import_labels(src, fmt, tmp_path / "out")
    assert summary.unlabelled == ("extra.png",)
    assert summary.images == len(labels.images)
    assert main(["import-labels", str(src), "--format", fmt, "--out", str(tmp_path / "o2")]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "1 image has no label file and was left out (extra.png)" in err
    assert "empty label file" in err
