"""import-labels reads each chip's ground sample distance from the railwatch_export.json
that export-labels wrote in the source folder (session 28). YOLO-OBB labels carry no
gsd, so export-labels -> (correct) -> import-labels warned "no ground sample distance"
and train --labels refused the folder, although the export's manifest gives each
scene's gsd and its chips. A --gsd that contradicts the manifest is an error naming both
values; chips the manifest does not list still take --gsd."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from railwatch.cli.main import main
from railwatch.detect.labels import load_labelled_dir
from railwatch.errors import InputError
from railwatch.export.labels import import_labels
from railwatch.storage import Database
from report_db import populate

SCENE = "1"  # the test yard's first image: 0.5 m, usable, 5 cars


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("s28b_import_gsd")
    url = f"sqlite:///{tmp / 'rw.db'}"
    populate(Database(url), tmp / "scenes")
    return url


def _export(db_url: str, fmt: str, out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["--db", db_url, "export-labels", "--scene", SCENE, "--format", fmt,
               "--out", str(out), "--chip", "512", "--json"])  # fmt: skip
    assert rc == 0
    capsys.readouterr()


def test_yolo_obb_from_export_labels_keeps_the_exported_gsd(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src, train_set = tmp_path / "exported", tmp_path / "imported"
    _export(db_url, "yolo-obb", src, capsys)
    rc = main(["import-labels", str(src), "--format", "yolo-obb", "--out", str(train_set),
               "--json"])  # fmt: skip
    assert rc == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["without_gsd"] == []
    assert "no ground sample distance" not in out.err
    manifest = json.loads((train_set / "railwatch_labels.json").read_text())
    assert manifest["images"] and {i["gsd"] for i in manifest["images"]} == {0.5}
    labelled = load_labelled_dir(train_set)  # was refused: no ground sample distance
    assert {i.native_gsd for i in labelled.images} == {0.5}


def test_a_gsd_option_against_the_export_is_refused_with_both_values(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "exported"
    _export(db_url, "yolo-obb", src, capsys)
    with pytest.raises(
        InputError, match=r"railwatch_export.json .*gives gsd 0.5 m, --gsd gives 0.3 m"
    ):
        import_labels(src, "yolo-obb", tmp_path / "a", gsd=0.3)
    assert not (tmp_path / "a").exists()
    assert import_labels(src, "yolo-obb", tmp_path / "b", gsd=0.5).without_gsd == ()
    rc = main(["import-labels", str(src), "--format", "yolo-obb", "--gsd", "0.3",
               "--out", str(tmp_path / "c")])  # fmt: skip
    err = " ".join(capsys.readouterr().err.split())
    assert rc == 2 and "gives gsd 0.5 m, --gsd gives 0.3 m" in err
    assert "Traceback" not in err and not (tmp_path / "c").exists()


def test_a_chip_the_export_does_not_list_takes_the_gsd_option(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "exported"
    _export(db_url, "yolo-obb", src, capsys)
    Image.fromarray(np.full((64, 64, 3), 90, np.uint8)).save(src / "images" / "extra.png")
    (src / "labels" / "extra.txt").write_text("")  # an image without cars, added by hand
    summary = import_labels(src, "yolo-obb", tmp_path / "a")
    assert summary.without_gsd == ("extra",)
    assert import_labels(src, "yolo-obb", tmp_path / "b", gsd=0.5).without_gsd == ()
    images = json.loads((tmp_path / "b" / "railwatch_labels.json").read_text())["images"]
    assert "extra" in {i["name"] for i in images} and {i["gsd"] for i in images} == {0.5}


def test_dota_whose_tool_dropped_the_gsd_line_takes_the_exported_gsd(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "exported"
    _export(db_url, "dota", src, capsys)
    for path in (src / "labelTxt").glob("*.txt"):  # a labelling tool writes no header
        lines = [ln for ln in path.read_text().splitlines() if not ln.startswith("gsd:")]
        path.write_text("".join(ln + "\n" for ln in lines))
    summary = import_labels(src, "dota", tmp_path / "a")
    assert summary.without_gsd == () and summary.images > 0


def test_an_exported_gsd_that_is_no_number_is_refused(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "exported"
    _export(db_url, "yolo-obb", src, capsys)
    path = src / "railwatch_export.json"
    doc = json.loads(path.read_text())
    doc["scenes"][0]["gsd"] = "half a metre"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=r"scene entry 0 gives gsd 'half a metre'"):
        import_labels(src, "yolo-obb", tmp_path / "a", gsd=0.5)
    assert not (tmp_path / "a").exists()


def test_a_site_export_of_several_gsds_gives_each_chip_its_own(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The test yard has 0.5 m images and one of 1 m: --gsd 0.5 was taken for every chip,
    the 1 m scene's too (a wrong scale for train --labels, unsaid); now each chip has its
    scene's, and --gsd 0.5 is refused for the 1 m chips."""
    src = tmp_path / "exported"
    rc = main(["--db", db_url, "export-labels", "testyard", "--format", "yolo-obb",
               "--out", str(src), "--chip", "512", "--json"])  # fmt: skip
    assert rc == 0
    capsys.readouterr()
    scenes = json.loads((src / "railwatch_export.json").read_text())["scenes"]
    expected = {chip: e["gsd"] for e in scenes for chip in e["chips"]}
    assert set(expected.values()) == {0.5, 1.0}
    import_labels(src, "yolo-obb", tmp_path / "a")
    images = json.loads((tmp_path / "a" / "railwatch_labels.json").read_text())["images"]
    assert {i["name"]: i["gsd"] for i in images} == expected
    with pytest.raises(InputError, match=r"gives gsd 1 m, --gsd gives 0.5 m"):
        import_labels(src, "yolo-obb", tmp_path / "b", gsd=0.5)
