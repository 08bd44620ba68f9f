"""`railwatch export-labels` of a site with analysts' reviews: a scene reviewed with
outlines is labelled with the analyst's outlines (verified), the others with the
detector's boxes, and the manifest and each COCO image say which; `--reviewed-only`
writes a verified set that import-labels, train --labels and eval --truth read
(tests/report_db.py's yard: real small GeoTIFFs with cars drawn on a track)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from shapely.geometry import box, mapping

from railwatch.cli.main import main
from railwatch.detect.eval import read_labelled_truth
from railwatch.detect.labels import load_labelled_dir
from railwatch.errors import InputError, RailwatchError
from railwatch.export.label_chips import MANIFEST, export_labels
from railwatch.export.labels import import_labels, read_labels
from railwatch.review import cars_from_feature_collection
from railwatch.storage import Database, repo
from report_db import CAR_LEN, CAR_STEP, COLOURS, PLANS, SITE_NAME, TRACK_Y, X0, populate, to_wgs84

N_DETECTED = PLANS[-1].n  # 18 cars drawn in the last image, each detected
N_OUTLINED = 20  # the analyst's: those 18 and 2 on a line 20 m south, with no car drawn


def _outlines(n: int) -> dict[str, Any]:
    features = []
    for k in range(n):
        x = X0 + 60.0 + CAR_LEN / 2 + (k % 18) * CAR_STEP
        y = TRACK_Y - 20.0 * (k // 18)
        body = to_wgs84(box(x - 7.0, y - 1.5, x + 7.0, y + 1.5))
        props = {"class": "tank" if k % 2 else "boxcar", "covered": k < 3}
        features.append({"type": "Feature", "geometry": mapping(body), "properties": props})
    return {"type": "FeatureCollection", "features": features}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Database, list[int], str]:
    tmp = tmp_path_factory.mktemp("labels_review")
    url = f"sqlite:///{tmp / 'r.db'}"
    db = Database(url)
    ids = populate(db, tmp / "scenes")["scene_ids"]
    with db.session() as s:
        scene = repo.get_scene(s, ids[-1])
        cars = cars_from_feature_collection(_outlines(N_OUTLINED), scene, scene.site)
        repo.set_scene_review(s, ids[-1], cars=cars, note="2 missed on the south line")
        repo.set_scene_review(s, ids[0], {"all": 6})  # a count alone: no outlines
    return db, ids, url


def _of_scene(names: list[str], scene_id: int) -> list[str]:
    return [n for n in names if f"_s{scene_id}_" in n]


def test_a_scene_reviewed_with_outlines_is_labelled_with_them(
    site: tuple[Database, list[int], str], tmp_path: Path
) -> None:
    db, ids, _ = site
    result = export_labels(db, tmp_path, "dota", site=SITE_NAME)
    assert result.verified == (ids[-1],)
    assert ids[0] in result.detector and ids[-1] not in result.detector
    assert len(result.verified) + len(result.detector) == result.scenes
    labels = read_labels(tmp_path, "dota")
    mine = [i for i in labels.images if f"_s{ids[-1]}_" in i.name]
    assert sum(len(i.objects) for i in mine) == N_OUTLINED  # not the detector's 18
    # the analyst's first 18 outlines sit on the cars drawn in the chip, the 2 others
    # on empty ground south of the track (where the detector found nothing)
    car_colours = {tuple(c) for c in COLOURS.values()}
    on_cars = 0
    for img in mine:
        with Image.open(tmp_path / "images" / f"{img.name}.png") as im:
            px = np.asarray(im)
        for obj in img.objects:
            cx, cy = obj.centre
            on_cars += tuple(int(v) for v in px[int(cy), int(cx)]) in car_colours
    assert on_cars == N_DETECTED
    # a count-only review keeps the detector's boxes (it drew no outline)
    first = [i for i in labels.images if f"_s{ids[0]}_" in i.name]
    assert sum(len(i.objects) for i in first) == PLANS[0].n


def test_the_manifest_and_coco_say_which_labels_are_verified(
    site: tuple[Database, list[int], str], tmp_path: Path
) -> None:
    db, ids, _ = site
    result = export_labels(db, tmp_path, "coco", site=SITE_NAME)
    assert result.manifest == tmp_path / MANIFEST
    doc = json.loads((tmp_path / MANIFEST).read_text())
    assert doc["site"] == SITE_NAME and doc["label_format"] == "coco"
    assert doc["reviewed_only"] is False
    scenes = {e["scene_id"]: e for e in doc["scenes"]}
    assert set(scenes) == set(result.verified) | set(result.detector)
    last, first, other = scenes[ids[-1]], scenes[ids[0]], scenes[ids[1]]
    assert (last["labels"], last["verified"], last["objects"]) == ("analyst", True, N_OUTLINED)
    assert last["review"]["kind"] == "outlines" and last["review"]["counts"]["all"] == 20.0
    assert last["review"]["note"] == "2 missed on the south line"
    assert (first["labels"], first["verified"]) == ("detector", False)
    assert first["review"]["kind"] == "count"
    assert (other["labels"], other["verified"], "review" in other) == ("detector", False, False)
    coco = json.loads((tmp_path / "annotations.json").read_text())
    meta = {i["id"]: i["railwatch"] for i in coco["images"]}
    assert {m["scene_id"] for m in meta.values() if m["verified"]} == {ids[-1]}
    assert all(m["labels"] == ("analyst" if m["verified"] else "detector") for m in meta.values())
    mine = [a for a in coco["annotations"] if meta[a["image_id"]]["verified"]]
    assert len(mine) == N_OUTLINED and sum(a["attributes"]["covered"] for a in mine) == 3
    assert {a["attributes"]["score"] for a in mine} == {1.0}
    chips = [i["file_name"].split("/")[-1][:-4] for i in coco["images"]]
    assert last["chips"] == _of_scene(chips, ids[-1])


def test_reviewed_only_is_a_verified_set_that_train_and_eval_read(
    site: tuple[Database, list[int], str], tmp_path: Path
) -> None:
    db, ids, _ = site
    dota = tmp_path / "truth"
    result = export_labels(db, dota, "dota", site=SITE_NAME, reviewed_only=True)
    assert result.verified == (ids[-1],) and result.detector == ()
    assert result.objects == N_OUTLINED
    # (each chip beside its world file and CRS since session 35: NAME.pgw, NAME.png.aux.xml)
    names = [p.stem for p in (dota / "images").glob("*.png")]
    assert names and _of_scene(names, ids[-1]) == names
    doc = json.loads((dota / MANIFEST).read_text())
    assert doc["reviewed_only"] is True and [e["scene_id"] for e in doc["scenes"]] == [ids[-1]]
    # train --labels reads the DOTA folder as it is, with each chip's gsd
    labelled = load_labelled_dir(dota)
    assert labelled.cars == N_OUTLINED and not labelled.unlabelled
    assert {round(i.native_gsd, 3) for i in labelled.images} == {PLANS[-1].gsd}
    # eval --truth reads it by the same loader
    truth = read_labelled_truth(dota)
    assert truth.cars == N_OUTLINED and len(truth.scenes) == len(names)
    # COCO through import-labels: a training set train --labels reads, covered kept
    coco = tmp_path / "coco"
    export_labels(db, coco, "coco", site=SITE_NAME, reviewed_only=True)
    summary = import_labels(coco, "coco", tmp_path / "train", site=SITE_NAME)
    assert summary.objects == N_OUTLINED and summary.without_gsd == ()
    trained = load_labelled_dir(tmp_path / "train")
    assert trained.cars == N_OUTLINED
    assert sum(c.covered for i in trained.images for c in i.cars) == 3


def test_reviewed_only_without_outline_reviews_is_refused(
    site: tuple[Database, list[int], str], tmp_path: Path
) -> None:
    db, ids, _ = site
    with pytest.raises(RailwatchError, match=rf"scene {ids[0]} has no outlines of an analyst") as e:
        export_labels(db, tmp_path / "a", "dota", scene_id=ids[0], reviewed_only=True)
    assert not isinstance(e.value, InputError)  # nothing on the command line is wrong
    assert not (tmp_path / "a").exists()  # nothing written
    one = export_labels(db, tmp_path / "b", "dota", scene_id=ids[-1], reviewed_only=True)
    assert one.verified == (ids[-1],) and one.objects == N_OUTLINED


def test_a_site_without_outline_reviews_is_refused_with_what_to_do(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'r.db'}")
    populate(db, tmp_path / "scenes")
    with pytest.raises(RailwatchError, match=r"no scene of testyard has outlines.*--cars") as e:
        export_labels(db, tmp_path / "out", "coco", site=SITE_NAME, reviewed_only=True)
    assert not isinstance(e.value, InputError)
    result = export_labels(db, tmp_path / "all", "coco", site=SITE_NAME)
    assert result.verified == () and len(result.detector) == result.scenes
    # status 1, as eval --site with nothing reviewed (session 31; it was 2, a usage error)
    argv = ["--db", db.url, "export-labels", SITE_NAME, "--reviewed-only", "--out"]
    assert main([*argv, str(tmp_path / "cli"), "--format", "coco"]) == 1


def test_cli_reviewed_only(
    site: tuple[Database, list[int], str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, ids, url = site
    out = tmp_path / "cli"
    args = ["--db", url, "export-labels", SITE_NAME, "--format", "dota", "--out", str(out)]
    assert main([*args, "--reviewed-only", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verified_scenes"] == [ids[-1]] and data["detector_scenes"] == []
    assert data["objects"] == N_OUTLINED and data["manifest"] == str(out / MANIFEST)
    # the whole site into a folder of its own (one holding labels already is refused)
    assert main([*args[:-1], str(tmp_path / "cli-all")]) == 0
    text = capsys.readouterr().out
    assert "1 scene verified (an analyst's outlines)" in text
    assert f"{len(PLANS) - 3} the detector's" in text  # 12 usable, 1 of them verified
