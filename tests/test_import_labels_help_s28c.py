"""import-labels' --gsd help and missing-gsd warning say where a gsd comes from (session
28): since 8cd7c07 an image's gsd is its labels', else its scene's in the export's
railwatch_export.json, else --gsd. The help still said YOLO-OBB needs --gsd, and the
warning said "yolo-obb labels carry none ... import again with --gsd" also when the
export was there but did not list the images (or was missing), without saying which."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from railwatch.cli.main import main
from railwatch.storage import Database
from report_db import populate

SCENE = "1"  # the test yard's first image: 0.5 m, usable


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("s28c_import_help")
    url = f"sqlite:///{tmp / 'rw.db'}"
    populate(Database(url), tmp / "scenes")
    return url


def _export(db_url: str, out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["--db", db_url, "export-labels", "--scene", SCENE, "--format", "yolo-obb",
               "--out", str(out), "--chip", "512", "--json"])  # fmt: skip
    assert rc == 0
    capsys.readouterr()


def test_gsd_help_names_the_export_manifest(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("TERMINAL_WIDTH", raising=False)
    assert main(["import-labels", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.replace("│", " ").split())
    assert "railwatch_export.json" in text
    assert "only for images the export does not list" in text
    assert "YOLO-OBB; DOTA and COCO from export-labels carry theirs" not in text


def test_warning_says_the_export_does_not_list_the_images(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "exported"
    _export(db_url, src, capsys)
    Image.fromarray(np.full((64, 64, 3), 90, np.uint8)).save(src / "images" / "extra.png")
    (src / "labels" / "extra.txt").write_text("")  # added by hand: not in the export
    rc = main(["import-labels", str(src), "--format", "yolo-obb", "--out", str(tmp_path / "a")])
    assert rc == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "1 image has no ground sample distance (extra)" in err
    assert "railwatch_export.json in" in err and "does not list them" in err
    assert "--gsd METRES" in err and "Traceback" not in err


def test_warning_says_the_export_manifest_is_missing(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "exported"
    _export(db_url, src, capsys)
    (src / "railwatch_export.json").unlink()
    rc = main(["import-labels", str(src), "--format", "yolo-obb", "--out", str(tmp_path / "a")])
    assert rc == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "have no ground sample distance" in err
    assert "has no railwatch_export.json (export-labels writes one" in err
    assert "--gsd METRES" in err
