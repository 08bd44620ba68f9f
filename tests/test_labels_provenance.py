"""Where each image's labels come from survives export-labels -> import-labels ->
``train --labels`` / ``eval --truth`` (session 26). export-labels says per scene whether
its labels are verified (an analyst's outlines) or the detector's; before, import-labels
dropped the flag and the labels reader never read it, so once imported verified and
unverified labels could not be told apart. Now ``LabelledImage.verified`` (None: not
said), ``LabelledSet.provenance``/``summary``, the card, train's and eval's messages,
and ``--verified-only`` for train and eval (tests/report_db.py's yard)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from shapely.geometry import box, mapping

from railwatch.cli.main import main
from railwatch.detect.eval import pair_files, read_labelled_truth
from railwatch.detect.labels import (
    describe_provenance,
    load_labelled_dir,
    read_export_provenance,
)
from railwatch.errors import InputError
from railwatch.export.label_chips import MANIFEST, export_labels
from railwatch.export.labels import import_labels
from railwatch.review import cars_from_feature_collection
from railwatch.storage import Database, repo
from report_db import CAR_LEN, CAR_STEP, SITE_NAME, TRACK_Y, X0, populate, to_wgs84


def _outlines(n: int) -> dict[str, Any]:
    feats = []
    for k in range(n):
        x = X0 + 60.0 + CAR_LEN / 2 + k * CAR_STEP
        body = to_wgs84(box(x - 7.0, TRACK_Y - 1.5, x + 7.0, TRACK_Y + 1.5))
        props = {"class": "tank", "covered": k == 0}
        feats.append({"type": "Feature", "geometry": mapping(body), "properties": props})
    return {"type": "FeatureCollection", "features": feats}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Database, list[int], str]:
    """The yard with its last scene reviewed with outlines (verified labels)."""
    tmp = tmp_path_factory.mktemp("provenance")
    url = f"sqlite:///{tmp / 'r.db'}"
    db = Database(url)
    ids = populate(db, tmp / "scenes")["scene_ids"]
    with db.session() as s:
        scene = repo.get_scene(s, ids[-1])
        cars = cars_from_feature_collection(_outlines(18), scene, scene.site)
        repo.set_scene_review(s, ids[-1], cars=cars, note="checked")
    return db, ids, url


def _expected(out: Path) -> dict[str, bool]:
    """Each chip's verified flag as export-labels' manifest lists it."""
    doc = json.loads((out / MANIFEST).read_text())
    return {c: e["verified"] for e in doc["scenes"] for c in e["chips"]}


def _verified(labelled_images: Any) -> dict[str, bool | None]:
    return {i.name.rsplit("/", 1)[-1]: i.verified for i in labelled_images}


def test_coco_round_trip_keeps_the_flag(
    site: tuple[Database, list[int], str], tmp_path: Path
) -> None:
    db, ids, _ = site
    export = export_labels(db, tmp_path / "exp", "coco", site=SITE_NAME, chip=256)
    expected = _expected(tmp_path / "exp")
    assert set(expected.values()) == {True, False}  # a mixed export
    summary = import_labels(tmp_path / "exp", "coco", tmp_path / "lab", site=SITE_NAME)
    n_true = sum(expected.values())
    assert summary.provenance == {
        "verified": n_true,
        "detector": len(expected) - n_true,
        "unknown": 0,
    }
    doc = json.loads((tmp_path / "lab" / "railwatch_labels.json").read_text())
    assert {i["name"]: i["verified"] for i in doc["images"]} == expected
    assert doc["verified_on_import"] is False
    # train --labels reads it (was: no flag at all once imported)
    labelled = load_labelled_dir(tmp_path / "lab")
    assert _verified(labelled.images) == expected
    assert labelled.provenance() == summary.provenance
    card = labelled.summary()
    assert card["provenance"] == summary.provenance
    assert {Path(i["image"]).stem: i["verified"] for i in card["images"]} == expected
    assert "verified_only" not in card
    # verified only: the reviewed scene's chips, the others named
    only = labelled.only_verified()
    assert {i.name for i in only.images} == {n for n, v in expected.items() if v}
    assert set(only.unverified) == {n for n, v in expected.items() if not v}
    assert only.summary()["verified_only"] is True
    assert only.summary()["unverified_left_out"] == len(expected) - n_true
    assert all(f"_s{ids[-1]}_" in i.name for i in only.images)
    assert export.verified == (ids[-1],)


def test_coco_without_the_railwatch_block_reads_the_export_manifest(
    site: tuple[Database, list[int], str], tmp_path: Path
) -> None:
    """A labelling tool drops the images' railwatch block: the manifest export-labels
    wrote beside the annotations still says it; without either it is not said."""
    db, _, _ = site
    src = tmp_path / "exp"
    export_labels(db, src, "coco", site=SITE_NAME, chip=256)
    expected = _expected(src)
    coco = json.loads((src / "annotations.json").read_text())
    for img in coco["images"]:
        gsd = img["railwatch"]["gsd"]
        img["railwatch"] = {"gsd": gsd}
    (src / "annotations.json").write_text(json.dumps(coco))
    import_labels(src, "coco", tmp_path / "a")
    assert _verified(load_labelled_dir(tmp_path / "a").images) == expected
    (src / MANIFEST).unlink()
    summary = import_labels(src, "coco", tmp_path / "b")
    assert summary.provenance == {"verified": 0, "detector": 0, "unknown": len(expected)}
    assert set(_verified(load_labelled_dir(tmp_path / "b").images).values()) == {None}


def test_dota_and_yolo_exports_carry_it_through_their_manifest(
    site: tuple[Database, list[int], str], tmp_path: Path
) -> None:
    db, _, _ = site
    dota = tmp_path / "dota"
    export_labels(db, dota, "dota", site=SITE_NAME, chip=256)
    expected = _expected(dota)
    assert read_export_provenance(dota) == expected
    # train --labels and eval --truth read the DOTA folder as it is
    assert _verified(load_labelled_dir(dota).images) == expected
    truth = read_labelled_truth(dota)
    assert {t.scene: t.verified for t in truth.scenes} == expected
    assert truth.provenance["verified"] == sum(expected.values())
    # YOLO-OBB has no gsd: it and the flag come from the export's manifest (session 28:
    # gsd=0.5 was given here, and taken for the 1 m scene's chips too)
    yolo = tmp_path / "yolo"
    export_labels(db, yolo, "yolo-obb", site=SITE_NAME, chip=256)
    import_labels(yolo, "yolo-obb", tmp_path / "yl")
    assert _verified(load_labelled_dir(tmp_path / "yl").images) == _expected(yolo)


def test_a_damaged_export_manifest_is_said_with_what_to_do(
    site: tuple[Database, list[int], str], tmp_path: Path
) -> None:
    db, _, _ = site
    dota = tmp_path / "dota"
    export_labels(db, dota, "dota", site=SITE_NAME, chip=256)
    (dota / MANIFEST).write_text("{not json")
    with pytest.raises(InputError, match=r"railwatch_export.json: cannot read it .*delete"):
        load_labelled_dir(dota)
    with pytest.raises(InputError, match=r"railwatch_export.json: cannot read it"):
        import_labels(dota, "dota", tmp_path / "x")
    (dota / MANIFEST).write_text(json.dumps({"scenes": [{"chips": ["a"], "verified": "yes"}]}))
    with pytest.raises(InputError, match=r"scene entry 0 lacks .*'verified' true/false"):
        read_export_provenance(dota)
    assert not (tmp_path / "x").exists()  # nothing written
    (dota / MANIFEST).unlink()  # the labels are then of unknown origin
    assert set(_verified(load_labelled_dir(dota).images).values()) == {None}


def test_import_labels_verified_marks_every_image(
    site: tuple[Database, list[int], str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, _, url = site
    src = tmp_path / "exp"
    export_labels(db, src, "coco", site=SITE_NAME, chip=256)
    n = len(_expected(src))
    args = ["--db", url, "import-labels", str(src), "--format", "coco"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    out = capsys.readouterr()
    text, err = " ".join(out.out.split()), " ".join(out.err.split())
    n_true = sum(_expected(src).values())
    assert (
        f"labels: {n_true} verified (an analyst's), {n - n_true} the detector's (unverified)"
    ) in text
    assert "import again with --verified" in err
    assert main([*args, "--out", str(tmp_path / "b"), "--verified", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["provenance"] == {"verified": n, "detector": 0, "unknown": 0}
    doc = json.loads((tmp_path / "b" / "railwatch_labels.json").read_text())
    assert doc["verified_on_import"] is True
    assert all(i["verified"] is True for i in doc["images"])


def test_a_coco_verified_that_is_not_a_boolean_is_refused(
    site: tuple[Database, list[int], str], tmp_path: Path
) -> None:
    db, _, _ = site
    src = tmp_path / "exp"
    export_labels(db, src, "coco", site=SITE_NAME, chip=256)
    coco = json.loads((src / "annotations.json").read_text())
    coco["images"][0]["railwatch"]["verified"] = "yes"
    (src / "annotations.json").write_text(json.dumps(coco))
    with pytest.raises(InputError, match=r"railwatch.verified must be true or false, got 'yes'"):
        import_labels(src, "coco", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_an_old_import_and_a_bad_flag_in_railwatch_labels_json(
    site: tuple[Database, list[int], str], tmp_path: Path
) -> None:
    """A folder import-labels wrote before the flag reads as not said; a flag that is
    not true/false/null is a problem with its file."""
    db, _, _ = site
    export_labels(db, tmp_path / "exp", "coco", site=SITE_NAME, chip=256)
    import_labels(tmp_path / "exp", "coco", tmp_path / "lab")
    path = tmp_path / "lab" / "railwatch_labels.json"
    doc = json.loads(path.read_text())
    for img in doc["images"]:
        del img["verified"]
    path.write_text(json.dumps(doc))
    labelled = load_labelled_dir(tmp_path / "lab")
    assert labelled.provenance() == {"verified": 0, "detector": 0, "unknown": len(doc["images"])}
    with pytest.raises(InputError, match=r"no labelled image .* is verified \(\d+ not said\)"):
        labelled.only_verified()
    doc["images"][0]["verified"] = 1
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=r"railwatch_labels.json: image .*'verified' must be"):
        load_labelled_dir(tmp_path / "lab")


# ----------------------------------------------------------------------------- GeoJSON


def _geojson_dir(folder: Path, flags: dict[str, Any]) -> Path:
    """One 8-bit PNG per name with one car in pixels, its file's top-level ``verified``
    as given (left out for None)."""
    from PIL import Image

    folder.mkdir(parents=True)
    for name, flag in flags.items():
        rgb = np.full((96, 96, 3), 110, dtype=np.uint8)
        rgb[45:52, 30:62] = 40
        Image.fromarray(rgb).save(folder / f"{name}.png")
        ring = [[30, 45], [62, 45], [62, 52], [30, 52], [30, 45]]
        fc: dict[str, Any] = {"type": "FeatureCollection", "crs": None, "gsd": 0.5}
        if flag is not None:
            fc["verified"] = flag
        fc["features"] = [{"type": "Feature", "properties": {"class": "tank"},
                           "geometry": {"type": "Polygon", "coordinates": [ring]}}]  # fmt: skip
        (folder / f"{name}.truth.geojson").write_text(json.dumps(fc))
    return folder


def test_a_geojson_label_file_says_it_at_its_top_level(tmp_path: Path) -> None:
    folder = _geojson_dir(tmp_path / "lab", {"a": True, "b": False, "c": None})
    labelled = load_labelled_dir(folder)
    assert _verified(labelled.images) == {"a": True, "b": False, "c": None}
    assert labelled.provenance() == {"verified": 1, "detector": 1, "unknown": 1}
    assert describe_provenance(labelled.provenance()) == (
        "1 verified (an analyst's), 1 the detector's (unverified), 1 not said"
    )
    bad = _geojson_dir(tmp_path / "bad", {"a": "yes"})
    with pytest.raises(InputError, match=r"a.truth.geojson: its top-level 'verified' must be"):
        load_labelled_dir(bad)


def test_train_verified_only_trains_on_the_verified_images_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("torch")
    folder = _geojson_dir(tmp_path / "lab", {"a": True, "b": False, "c": None})
    out = tmp_path / "w.onnx"
    args = ["train", "--out", str(out), "--scenes", "4", "--epochs", "1", "--sim-fraction", "0",
            "--labels", str(folder), "--calibration-scenes", "0", "--threads", "1"]  # fmt: skip
    assert main([*args, "--verified-only"]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "labels' origin: 1 verified (an analyst's), 1 the detector's" in err
    assert "--verified-only: training on the 1 verified image(s); left out 2: b, c" in err
    card = json.loads(out.with_suffix(".json").read_text())["labels"]
    assert [i["image"] for i in card["images"]] == ["a.png"]
    assert card["images"][0]["verified"] is True
    assert card["provenance"] == {"verified": 1, "detector": 0, "unknown": 0}
    assert card["verified_only"] is True and card["unverified_left_out"] == 2
    # without it: all three, the mix said, and recorded
    assert main(args) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "the folder mixes 1 image(s) of verified labels with 1 image(s) of the detector's" in err
    card = json.loads(out.with_suffix(".json").read_text())["labels"]
    assert card["provenance"] == {"verified": 1, "detector": 1, "unknown": 1}
    assert "verified_only" not in card


def test_train_verified_only_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _geojson_dir(tmp_path / "lab", {"b": False})
    out = tmp_path / "w.onnx"
    assert main(["train", "--out", str(out), "--labels", str(folder), "--verified-only"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "no labelled image" in err and "is verified" in err and "--reviewed-only" in err
    assert main(["train", "--out", str(out), "--verified-only"]) == 2
    assert "give --labels DIR" in " ".join(capsys.readouterr().err.split())
    assert not out.exists()


# ----------------------------------------------------------------------------- eval


def _oracle(truth: Path, pred: Path, names: list[str]) -> None:
    """Prediction files equal to the truth (pixels), as detect --out-dir names them."""
    pred.mkdir()
    for n in names:
        fc = json.loads((truth / f"{n}.truth.geojson").read_text())
        fc.pop("verified", None)
        (pred / f"{n}.detections.geojson").write_text(json.dumps(fc))


def _eval(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, Any], str]:
    rc = main(["eval", *args, "--json"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    return json.loads(out.out), " ".join(out.err.split())


def test_eval_reports_the_origin_and_verified_only_scores_the_verified(
    site: tuple[Database, list[int], str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, _, _ = site
    export_labels(db, tmp_path / "exp", "coco", site=SITE_NAME, chip=256)
    expected = _expected(tmp_path / "exp")
    import_labels(tmp_path / "exp", "coco", tmp_path / "lab")
    labels = tmp_path / "lab"
    n_true = sum(expected.values())
    report, err = _eval(["--truth", str(labels), "--detector", "default"], capsys)
    assert report["truth"]["provenance"] == {
        "verified": n_true, "detector": len(expected) - n_true, "unknown": 0
    }  # fmt: skip
    assert {r["name"]: r["truth_verified"] for r in report["scenes"]} == expected
    assert "truth labels' origin:" in err
    assert "the scores measure agreement with that detector, not accuracy" in err
    assert f"the truth holds {n_true} verified image{'s' if n_true != 1 else ''} and " in err
    report, err = _eval(
        ["--truth", str(labels), "--detector", "default", "--verified-only"], capsys
    )
    assert {r["name"] for r in report["scenes"]} == {n for n, v in expected.items() if v}
    assert report["truth"]["verified_only"] is True
    assert report["truth"]["unverified_left_out"] == len(expected) - n_true
    gone = [d for d in report["left_out"] if d["folder"] == "truth"]
    assert len(gone) == len(expected) - n_true
    assert all("not verified (the detector's" in d["reason"] for d in gone)
    assert f"--verified-only scores the {n_true} verified image" in err
    assert "agreement with that detector" not in err


def test_eval_verified_only_with_pred_leaves_the_others_predictions_out_unwarned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _geojson_dir(tmp_path / "lab", {"a": True, "b": False})
    # GeoJSON label files alone are truth files to eval; beside an import-labels
    # railwatch_labels.json (here one with no images) the folder is read as train reads it
    (folder / "railwatch_labels.json").write_text(json.dumps({"images": []}))
    _oracle(folder, tmp_path / "pred", ["a", "b"])
    report, err = _eval(
        ["--truth", str(folder), "--pred", str(tmp_path / "pred"), "--verified-only"], capsys
    )
    assert [r["name"] for r in report["scenes"]] == ["a"]
    assert report["overall"]["iou0.5"]["f1"] == 1.0
    preds = [d for d in report["left_out"] if d["folder"] == "pred"]
    assert [Path(d["file"]).name for d in preds] == ["b.detections.geojson"]
    assert "left out by --verified-only" in preds[0]["reason"]
    assert "match no truth" not in err and "matches no truth" not in err


def test_eval_verified_only_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    truth = tmp_path / "t"
    truth.mkdir()
    fc: dict[str, Any] = {"type": "FeatureCollection", "crs": None, "gsd": 0.5, "features": []}
    (truth / "a.truth.geojson").write_text(json.dumps(fc))
    with pytest.raises(InputError, match=r"holds truth files, which say nothing of it"):
        pair_files(truth, verified_only=True)
    assert main(["eval", "--truth", str(truth), "--detector", "default", "--verified-only"]) == 2
    assert "leave out --verified-only" in " ".join(capsys.readouterr().err.split())
    assert main(["eval", "--site", "x", "--verified-only"]) == 2
    assert "--site scores against your reviews" in " ".join(capsys.readouterr().err.split())
    folder = _geojson_dir(tmp_path / "lab", {"b": False})
    (folder / "railwatch_labels.json").write_text(json.dumps({"images": []}))
    with pytest.raises(InputError, match=r"--verified-only: no labelled image .* is verified"):
        pair_files(folder, verified_only=True)


def test_the_cli_and_the_library_say_the_same_no_truth_reason() -> None:
    from railwatch.cli import eval as cli_eval
    from railwatch.detect import eval as lib_eval

    assert cli_eval.NO_TRUTH == lib_eval.NO_TRUTH
