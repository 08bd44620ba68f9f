"""``railwatch eval --truth`` takes the analyst's own labelled chips (QA session 24): the
folder import-labels writes (``railwatch_labels.json``) or an export-labels DOTA folder,
read by the loader ``railwatch train --labels`` uses, so that held-out chips measure the
shipped and the tuned detector. Before, eval read only ``NAME.truth.geojson`` files and
refused such a folder ("no NAME.truth.geojson files")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from railwatch.cli.main import main
from railwatch.detect.eval import evaluate_dirs, pair_files, summarise
from railwatch.errors import InputError
from railwatch.storage import Database
from report_db import populate

SCENE = "1"  # the test yard's first image: 0.5 m, usable


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("qa24_evaltruth")
    url = f"sqlite:///{tmp / 'rw.db'}"
    populate(Database(url), tmp / "scenes")
    return url


def _exported(db_url: str, fmt: str, out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["--db", db_url, "export-labels", "--scene", SCENE, "--format", fmt,
               "--out", str(out), "--chip", "256", "--json"])  # fmt: skip
    assert rc == 0
    capsys.readouterr()


def _imported(db_url: str, tmp: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    _exported(db_url, "coco", tmp / "exported", capsys)
    out = tmp / "imported"
    rc = main(["import-labels", str(tmp / "exported"), "--format", "coco", "--out", str(out)])
    assert rc == 0
    capsys.readouterr()
    return out


def _oracle(manifest: Path, out: Path) -> None:
    """Prediction files of a perfect detector: each image's labelled cars in its pixels
    ("crs": null), as `railwatch detect --out-dir` names them."""
    out.mkdir()
    for img in json.loads(manifest.read_text())["images"]:
        feats = [
            {"type": "Feature",
             "geometry": {"type": "Polygon", "coordinates": [[*o["corners"], o["corners"][0]]]},
             "properties": {"class": o["cls"], "covered": o["covered"]}}
            for o in img["objects"]
        ]  # fmt: skip
        doc = {"type": "FeatureCollection", "crs": None, "gsd": img["gsd"], "features": feats}
        (out / f"{img['name']}.detections.geojson").write_text(json.dumps(doc))


def _oracle_on_ground(manifest: Path, export: Path, out: Path) -> None:
    """The perfect detector's files for export-labels chips, which are georeferenced
    (session 35): each chip's cars in its CRS, as `railwatch detect` writes them for a
    georeferenced image (``export``: the chips' railwatch_export.json, with each chip's
    transform)."""
    from railwatch.export.label_chips import to_ground

    _oracle(manifest, out)
    scenes = json.loads(export.read_text())["scenes"]
    where = {c: (e["crs"], t) for e in scenes for c, t in e["chip_transforms"].items()}
    for path in out.iterdir():
        doc = json.loads(path.read_text())
        crs, transform = where[path.name.removesuffix(".detections.geojson")]
        for f in doc["features"]:
            ring = f["geometry"]["coordinates"][0]
            f["geometry"]["coordinates"] = [[list(p) for p in to_ground(ring, transform)]]
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
        path.write_text(json.dumps(doc))


def _eval(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[dict, str]:
    rc = main(["eval", *args, "--json"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    return json.loads(out.out), " ".join(out.err.split())


def test_an_import_labels_folder_is_truth(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = _imported(db_url, tmp_path, capsys)
    manifest = json.loads((labels / "railwatch_labels.json").read_text())
    n_images = len(manifest["images"])
    n_cars = sum(len(i["objects"]) for i in manifest["images"])
    assert n_cars > 0
    pred = tmp_path / "oracle"
    _oracle(labels / "railwatch_labels.json", pred)
    # was: "no NAME.truth.geojson files in ...": the folder could not be used
    report, err = _eval(["--truth", str(labels), "--pred", str(pred)], capsys)
    assert report["truth"]["images"] == n_images and report["truth"]["cars"] == n_cars
    assert report["truth"]["sources"] == {"import-labels (coco)": n_images}
    assert f"truth: {n_images} labelled images with {n_cars} cars" in err
    # the same pixels: a perfect detector scores 1 (a frame or scale off would not)
    assert report["overall"]["iou0.5"]["f1"] == 1.0
    assert report["overall"]["iou0.5"]["tp"] == n_cars
    assert report["overall"]["covered_accuracy"] == 1.0  # COCO carries the flag
    rows = {r["name"]: r for r in report["scenes"]}
    assert set(rows) == {i["name"] for i in manifest["images"]}
    for name, row in rows.items():
        assert Path(row["truth_file"]).name == "railwatch_labels.json"
        assert Path(row["pred_file"]) == pred / f"{name}.detections.geojson"
        assert row["truth_format"] == "coco" and row["gsd"] == 0.5
    assert report["left_out"] == []


def test_detector_and_detect_out_dir_agree_on_imported_chips(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = _imported(db_url, tmp_path, capsys)
    chips = sorted((labels / "images").glob("*.png"))
    pred = tmp_path / "pred"
    rc = main(["detect", *map(str, chips), "--gsd", "0.5", "--out-dir", str(pred)])
    assert rc == 0
    capsys.readouterr()
    by_pred, _ = _eval(["--truth", str(labels), "--pred", str(pred)], capsys)
    by_det, _ = _eval(["--truth", str(labels), "--detector", "default"], capsys)
    assert by_pred["overall"] == by_det["overall"]
    assert {Path(r["image_file"]) for r in by_det["scenes"]} == set(chips)
    assert all("pred_file" in r for r in by_pred["scenes"])


def test_an_export_labels_dota_folder_is_truth_without_covered(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dota = tmp_path / "dota"
    _exported(db_url, "dota", dota, capsys)
    coco = _imported(db_url, tmp_path, capsys)
    pred = tmp_path / "oracle"
    _oracle_on_ground(coco / "railwatch_labels.json", dota / "railwatch_export.json", pred)
    report, err = _eval(["--truth", str(dota), "--pred", str(pred)], capsys)
    assert report["overall"]["iou0.5"]["f1"] == 1.0
    assert report["truth"]["sources"] == {"dota": report["truth"]["images"]}
    # DOTA has no covered flag: its cars read as not covered judge no tarpaulin
    assert "covered_accuracy" not in report["overall"]
    assert all(r["covered_known"] is False for r in report["scenes"])
    assert "no covered accuracy" in err


def test_an_image_without_gsd_is_left_out_and_said(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = _imported(db_url, tmp_path, capsys)
    pred = tmp_path / "oracle"
    _oracle(labels / "railwatch_labels.json", pred)
    path = labels / "railwatch_labels.json"
    doc = json.loads(path.read_text())
    first = doc["images"][0]["name"]
    doc["images"][0]["gsd"] = None
    path.write_text(json.dumps(doc))
    report, err = _eval(["--truth", str(labels), "--pred", str(pred)], capsys)
    assert first not in {r["name"] for r in report["scenes"]}
    (gone,) = [d for d in report["left_out"] if d["folder"] == "truth"]
    assert gone["file"] == f"images/{first}.png"
    assert "no ground sample distance" in gone["reason"] and "--gsd METRES" in gone["reason"]
    assert f"images/{first}.png in {labels} is not evaluated: no ground sample" in err
    assert report["truth"]["images"] == len(doc["images"]) - 1
    for img in doc["images"]:
        img["gsd"] = None
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=r"no labelled image .* can be scored.*ground sample"):
        pair_files(labels)


def test_a_wrong_label_stops_everything_with_its_file(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = _imported(db_url, tmp_path, capsys)
    path = labels / "railwatch_labels.json"
    doc = json.loads(path.read_text())
    img = next(i for i in doc["images"] if i["objects"])
    img["objects"][0]["cls"] = "spaceship"
    path.write_text(json.dumps(doc))
    seen: list[str] = []
    with pytest.raises(InputError, match=r"railwatch_labels.json: image .* unknown class"):
        evaluate_dirs(labels, predict=lambda *a: pytest.fail("ran"), on_scene=seen.append)
    assert seen == []


def test_truth_files_are_read_as_before(tmp_path: Path) -> None:
    """A folder of NAME.truth.geojson (no labels layout) keeps its meaning."""
    (tmp_path / "t").mkdir()
    fc: dict[str, Any] = {"type": "FeatureCollection", "crs": None, "gsd": 0.5, "features": []}
    (tmp_path / "t" / "a.truth.geojson").write_text(json.dumps(fc))
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "a.detections.geojson").write_text(json.dumps(fc))
    pairing = pair_files(tmp_path / "t", tmp_path / "p")
    assert pairing.labelled is None
    report = summarise(evaluate_dirs(tmp_path / "t", pred_dir=tmp_path / "p"))
    assert report["scenes"][0]["truth"] == 0
