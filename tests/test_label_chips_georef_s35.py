"""Georeferenced training chips (2026-12-06, session 35).

``railwatch export-labels`` wrote bare PNG chips: an analyst could not open one over the
site in QGIS, nor take a corrected label back to the ground. Each chip now has its world
file (``NAME.pgw``) and its CRS (``NAME.png.aux.xml``), which GDAL reads, and
``railwatch_export.json`` gives each chip's transform and its scene's CRS. What reads
the chips (train --labels, eval --truth, import-labels) reads them as before.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from PIL import Image
from shapely.geometry import Polygon

from railwatch.detect.eval import read_labelled_truth
from railwatch.detect.labels import load_labelled_dir
from railwatch.export.label_chips import (
    MANIFEST,
    WORLD_FILE_SUFFIX,
    chip_transform,
    export_labels,
    to_ground,
    write_chip,
)
from railwatch.export.labels import FORMATS, import_labels, read_labels
from railwatch.storage import Database, repo
from report_db import CRS, SITE_NAME, populate

#: How far a label taken back to the ground may lie from the car it was cut from (m).
GROUND_TOLERANCE_M = 0.03


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Database:
    tmp = tmp_path_factory.mktemp("georef")
    database = Database(f"sqlite:///{tmp / 'rw.db'}")
    populate(database, tmp / "scenes")
    return database


@pytest.fixture(scope="module")
def dota(db: Database, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dota") / "chips"
    export_labels(db, out, "dota", site=SITE_NAME, chip=256)
    return out


def _manifest(folder: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    return doc


def test_every_chip_opens_georeferenced_where_its_scene_lies(db: Database, dota: Path) -> None:
    doc = _manifest(dota)
    chips = 0
    with db.session(readonly=True) as s:
        for entry in doc["scenes"]:
            scene = repo.get_scene(s, entry["scene_id"])
            assert entry["crs"] == scene.crs == CRS
            with rasterio.open(scene.uri) as src:
                scene_transform = src.transform
            assert set(entry["chip_transforms"]) == set(entry["chips"])
            for name in entry["chips"]:
                png = dota / "images" / f"{name}.png"
                assert png.with_suffix(WORLD_FILE_SUFFIX).is_file()
                assert (dota / "images" / f"{name}.png.aux.xml").is_file()
                row, col = (int(p[1:]) for p in name.rsplit("_", 2)[1:])
                want = scene_transform @ Affine.translation(col, row)
                assert entry["chip_transforms"][name] == pytest.approx(list(want)[:6])
                with rasterio.open(png) as chip:  # as QGIS reads it, through GDAL
                    assert chip.crs == rasterio.crs.CRS.from_user_input(CRS)
                    assert list(chip.transform)[:6] == pytest.approx(list(want)[:6])
                    # the chip's pixels lie on the scene's: the same ground, the same values
                    pixels = chip.read()
                with rasterio.open(scene.uri) as src:
                    window = rasterio.windows.Window(col, row, chip.width, chip.height)
                    assert np.array_equal(src.read([1, 2, 3], window=window), pixels)
                chips += 1
    assert chips > 20


def test_a_cars_label_goes_back_to_the_ground_within_a_few_cm(db: Database, dota: Path) -> None:
    """Each stored car of scene 1 (a polygon in the scene's CRS) -> its chip's pixel label
    (the DOTA file, as a labelling tool reads it) -> the scene's CRS again, by the chip's
    transform from the manifest and by the chip's own world file: the same corners."""
    doc = _manifest(dota)
    entry = next(e for e in doc["scenes"] if e["scene_id"] == 1)
    labels = {i.name: i for i in read_labels(dota, "dota").images}
    with db.session(readonly=True) as s:
        cars = [(d.cls, d.native_geometry) for d in repo.list_detections(s, 1)]
    assert cars
    for cls, geom in cars:
        found = 0
        for name in entry["chips"]:
            with rasterio.open(dota / "images" / f"{name}.png") as chip:
                own = chip.transform
            for obj in labels[name].objects:
                ground = Polygon(to_ground(obj.corners, entry["chip_transforms"][name]))
                if ground.centroid.distance(geom.centroid) > 1.0:
                    continue
                assert obj.cls == cls
                stored = shapely.get_coordinates(geom)[:4]
                back = np.asarray(ground.exterior.coords)[:4]
                assert np.abs(back - stored).max() < GROUND_TOLERANCE_M
                by_file = np.array([own @ (x, y) for x, y in obj.corners])
                assert np.abs(by_file - stored).max() < GROUND_TOLERANCE_M
                found += 1
        assert found >= 1  # in every chip that holds its centre


@pytest.mark.parametrize("fmt", FORMATS)
def test_coco_and_yolo_chips_are_georeferenced_too(db: Database, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / fmt
    export_labels(db, out, fmt, scene_id=1, chip=256)
    entry = _manifest(out)["scenes"][0]
    name = entry["chips"][0]
    with rasterio.open(out / "images" / f"{name}.png") as chip:
        assert chip.crs is not None
        assert list(chip.transform)[:6] == pytest.approx(entry["chip_transforms"][name])
    if fmt == "coco":
        doc = json.loads((out / "annotations.json").read_text(encoding="utf-8"))
        meta = next(i["railwatch"] for i in doc["images"] if name in i["file_name"])
        assert meta["transform"] == pytest.approx(entry["chip_transforms"][name])
        assert meta["crs"] == CRS


def test_training_and_eval_read_the_georeferenced_chips(dota: Path, tmp_path: Path) -> None:
    """train --labels reads the DOTA export as before (every chip, every label, its
    scene's gsd from the labels); eval --truth places each chip's cars on the ground, where
    the detector's cars of a georeferenced image are; import-labels takes them."""
    labelled = load_labelled_dir(dota)
    exported = read_labels(dota, "dota")
    assert len(labelled.images) == len(exported.images)
    assert sum(len(i.cars) for i in labelled.images) == sum(len(i.objects) for i in exported.images)
    gsds = {c: e["gsd"] for e in _manifest(dota)["scenes"] for c in e["chips"]}
    assert {i.name: i.native_gsd for i in labelled.images} == gsds
    truth = read_labelled_truth(dota)
    assert [t.features.crs if t.features else None for t in truth.scenes] == [CRS] * len(
        truth.scenes
    )
    summary = import_labels(dota, "dota", tmp_path / "train", site=SITE_NAME)
    assert summary.images == len(exported.images) and not summary.without_gsd
    assert load_labelled_dir(tmp_path / "train").images


def test_write_chip_keeps_lonlat_axes_and_a_rotated_grid(tmp_path: Path) -> None:
    rgb = np.random.default_rng(1).integers(0, 255, (20, 30, 3), dtype=np.uint8)
    cases = {
        "lonlat": ("EPSG:4326", (4.5e-6, 0.0, 130.6081, 0.0, -4.5e-6, 42.4214)),
        "rotated": (CRS, chip_transform(Affine(0.4, 0.3, 550_000.0, 0.3, -0.4, 4_695_000.0), 7, 3)),
    }
    for name, (crs, transform) in cases.items():
        path = tmp_path / f"{name}.png"
        write_chip(path, rgb, crs, transform)
        with rasterio.open(path) as chip:
            assert chip.crs == rasterio.crs.CRS.from_user_input(crs)
            assert list(chip.transform)[:6] == pytest.approx(list(transform), rel=1e-9)
            # x is longitude: the top-left corner lies at 130.6 E, 42.4 N
            assert chip.transform @ (0, 0) == pytest.approx(transform[2::3][:1] + transform[5:6])
        with Image.open(path) as im:  # labelling tools read the PNG as it was
            assert np.array_equal(np.asarray(im.convert("RGB")), rgb)
    # a CRS GDAL cannot read: the chip without sidecars, never a failed export
    path = tmp_path / "odd.png"
    write_chip(path, rgb, "not a crs", cases["lonlat"][1])
    assert not path.with_suffix(WORLD_FILE_SUFFIX).exists()
    with Image.open(path) as im:
        assert np.array_equal(np.asarray(im), rgb)
