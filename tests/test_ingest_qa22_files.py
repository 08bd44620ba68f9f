"""``railwatch ingest`` as analysts call it: a shell glob over a folder of images and
their sidecars, a glob that matched nothing, a folder that holds no image."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from helpers import make_geotiff
from railwatch.storage import Database, repo
from test_ingest_qa22_dates import ORIGIN, UTM, db, image, run  # noqa: F401  (db: the fixture)


def sim_folder(folder: Path) -> list[Path]:
    """An image with its quality mask, STAC item and truth, as `railwatch simulate`
    writes them; the files as a shell's `folder/*` names them (sorted)."""
    image(folder / "yard_20231005.tif", 1)
    mask = np.zeros((1, 200, 200), dtype=np.uint8)
    mask[0, :50] = 1  # cloud
    make_geotiff(
        folder / "yard_20231005.mask.tif",
        crs=UTM,
        origin=ORIGIN,
        gsd=1.0,
        width=200,
        height=200,
        bands=1,
        data=mask,
    )
    (folder / "yard_20231005.json").write_text("{}")
    (folder / "yard_20231005.truth.geojson").write_text('{"type": "FeatureCollection"}')
    return sorted(folder.iterdir())


def test_a_shell_glob_over_a_folder_leaves_the_sidecars_out(
    tmp_path: Path,
    db: str,  # noqa: F811  (the fixture imported above)
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`ingest SITE folder/*` named the quality mask, STAC item and truth file too: each
    was a 'bad file' ('not georeferenced' for a JSON), and with --date the quality mask
    was ingested as a scene of its own (then counted as an image of the site)."""
    files = sim_folder(tmp_path / "sim")
    code, out, err = run(
        capsys, "--db", db, "ingest", "tum", *map(str, files), "--date", "2023-10-05", "--json"
    )
    assert code == 0, err
    summary = json.loads(out)
    assert [Path(e["file"]).name for e in summary["ingested"]] == ["yard_20231005.tif"]
    assert summary["failed"] == []
    left = {Path(e["file"]).name: e["reason"] for e in summary["sidecars"]}
    assert set(left) == {
        "yard_20231005.json",
        "yard_20231005.mask.tif",
        "yard_20231005.truth.geojson",
    }
    assert left["yard_20231005.mask.tif"].startswith("a quality mask, read with the image")
    with Database(db).session() as s:
        (scene,) = repo.list_scenes(s, "tum")
        assert scene.mask_uri is not None and scene.mask_uri.endswith("yard_20231005.mask.tif")
    code, out, err = run(capsys, "--db", db, "ingest", "tum", *map(str, files))
    text = " ".join(out.split())
    assert code == 0, err
    assert "0 bad files" in text and "Left out 3 sidecars" in text


def test_only_a_sidecar_named_is_refused_with_its_reason(
    tmp_path: Path,
    db: str,  # noqa: F811  (the fixture imported above)
    capsys: pytest.CaptureFixture[str],
) -> None:
    sim_folder(tmp_path / "sim")
    mask = tmp_path / "sim" / "yard_20231005.mask.tif"
    code, out, err = run(capsys, "--db", db, "ingest", "tum", str(mask), "--date", "2023-10-05")
    assert code == 1
    assert "Left out 1 sidecar" in " ".join(out.split()) and "yard_20231005.mask.tif" in out
    assert "nothing ingested into site tum: the file was refused" in err
    with Database(db).session() as s:
        assert repo.list_scenes(s, "tum") == []


def test_a_glob_that_matched_nothing_and_an_empty_folder_are_named(
    tmp_path: Path,
    db: str,  # noqa: F811  (the fixture imported above)
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A pattern the shell passed on unexpanded read 'no such file or folder', and a
    folder without images among other paths was not mentioned at all."""
    good = image(tmp_path / "imgs" / "yard_20231005.tif", 1)
    (tmp_path / "empty").mkdir()
    pattern = str(tmp_path / "imgs" / "*.TIF")
    code, out, err = run(
        capsys, "--db", db, "ingest", "tum", str(good), pattern, str(tmp_path / "empty"), "--json"
    )
    assert code == 1, err  # the pattern failed; the good file is kept
    summary = json.loads(out)
    (missing,) = summary["failed"]
    assert missing["file"] == pattern and "a pattern that matched no file" in missing["reason"]
    assert summary["empty_folders"] == [str(tmp_path / "empty")]
    code, out, err = run(
        capsys, "--db", db, "ingest", "tum", str(tmp_path / "imgs"), str(tmp_path / "empty")
    )
    assert code == 0, err
    assert f"No image files in {tmp_path / 'empty'}" in "".join(out.split("\n"))
    # a plain missing name says only that
    code, out, _ = run(capsys, "--db", db, "ingest", "tum", str(tmp_path / "nope.tif"), "--json")
    assert code == 2  # a mistake of the command line, as README's exit statuses say
    assert json.loads(out)["failed"][0]["reason"] == "no such file or folder"
