"""A path on the command line that is not there, or a folder given to `detect`, is a
mistake of the command line: status 2, as README's exit-status table says ("2 the
command line or an input file is wrong (... a missing file ...)"). `railwatch ingest
SITE nothere.tif` ended "nothing ingested" with status 1, as for an unreadable image,
and `railwatch detect somefolder/` with status 1. Batches where something else failed
or something was done keep their status.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import make_geotiff
from railwatch.cli.main import main
from railwatch.detect import registry
from test_detect_fakes import BrightBlobDetector

BBOX = "130.6072,42.4208,130.6090,42.4220"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, " ".join(out.split()), " ".join(err.split())


@pytest.fixture
def db(tmp_db_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    code, _, err = run(capsys, "--db", tmp_db_url, "site", "add", "yard", "--bbox", BBOX)
    assert code == 0, err
    return tmp_db_url


def test_ingest_of_paths_that_are_not_there_is_status_2(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nothere.tif"
    code, out, err = run(capsys, "--db", db, "ingest", "yard", str(missing))
    assert code == 2, err
    assert f"{missing}: no such file or folder" in out  # the summary, as before
    assert err == (
        "error: nothing ingested into site yard: the path named is not there (listed "
        "above): check the path and the folder you run railwatch from"
    )
    pattern = tmp_path / "*2024*.tif"  # a pattern that matched nothing, passed as it is
    code, out, err = run(capsys, "--db", db, "ingest", "yard", str(missing), str(pattern), "--json")
    assert code == 2, err
    assert [d["file"] for d in json.loads(out)["failed"]] == [str(missing), str(pattern)]
    assert "none of the 2 paths named is there" in err


def test_ingest_with_an_unreadable_file_keeps_status_1(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not an image\n")
    code, _, err = run(
        capsys, "--db", db, "ingest", "yard", str(tmp_path / "nothere.tif"), str(text)
    )
    assert code == 1, err
    assert "nothing ingested into site yard: all 2 files were refused" in err
    code, _, err = run(capsys, "--db", db, "ingest", "yard", str(text))
    assert code == 1 and "the file was refused" in err


def test_detect_of_a_folder_is_status_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "images"
    folder.mkdir()
    code, out, err = run(capsys, "detect", str(folder), "--gsd", "0.5")
    assert code == 2, err
    assert err == (
        f"error: cannot read image {folder}: it is a folder: give an image file (GeoTIFF, "
        f"PNG or JPEG), or name the images in it, e.g. {folder / '*.tif'}"
    )
    assert out == ""
    other = tmp_path / "more"
    other.mkdir()
    code, _, err = run(capsys, "detect", str(folder), str(other), "--gsd", "0.5")
    assert code == 2 and f"cannot read image {folder}: it is a folder" in err


def test_detect_batch_with_a_folder_keeps_status_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "get_detector", lambda name="default": BrightBlobDetector())
    folder = tmp_path / "images"
    folder.mkdir()
    image = make_geotiff(tmp_path / "yard.tif", crs="EPSG:32652", gsd=0.5, width=64, height=64)
    code, _, err = run(capsys, "detect", str(image), str(folder), "--out-dir", str(tmp_path / "o"))
    assert code == 1, err
    assert "1 of 2 images could not be detected (images: see above)" in err
    assert (tmp_path / "o").is_dir()  # the image was detected
