"""Faults found walking through railwatch as a new analyst on a site of one's own
(session 41, helper G): each test failed before its fix."""

from __future__ import annotations

import json
import warnings
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.errors import NotGeoreferencedWarning

from imagery_helpers import yard_scene
from railwatch.imagery import NotGeoreferencedError, inspect_scene


def _tiff_without_grid(path: Path) -> Path:
    """A TIFF as an export without georeferencing writes it: pixels, no geotransform,
    no CRS."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(
            path, "w", driver="GTiff", width=64, height=64, count=3, dtype="uint8"
        ) as ds:
            ds.write(yard_scene(64, 64))
    return path


def test_a_tiff_without_georeferencing_is_told_how_to_georeference_it(tmp_path: Path) -> None:
    # It was told "not georeferenced: use `railwatch detect --gsd` for screenshots; ingest
    # needs a GeoTIFF/COG": the file is a TIFF, and the message named neither what it
    # lacks nor how to give it (a world file and its CRS, or gdal_translate).
    tif = _tiff_without_grid(tmp_path / "yard_20240820.tif")
    with pytest.raises(NotGeoreferencedError) as err:
        inspect_scene(tif, default_date=date(2024, 8, 20))
    said = str(err.value)
    assert "ingest needs a GeoTIFF/COG" not in said
    assert "for screenshots" not in said
    assert "no geotransform" in said
    assert "yard_20240820.tfw" in said and "yard_20240820.tif.aux.xml" in said
    assert "gdal_translate -a_srs EPSG:CODE -a_ullr" in said
    assert "railwatch detect yard_20240820.tif --gsd" in said
    # and what it says works: a world file and the CRS in the .aux.xml make it ingestible
    (tmp_path / "yard_20240820.tfw").write_text("0.5\n0\n0\n-0.5\n673317.75\n5768708.25\n")
    (tmp_path / "yard_20240820.tif.aux.xml").write_text(
        "<PAMDataset><SRS>EPSG:32634</SRS></PAMDataset>\n"
    )
    info = inspect_scene(tif, default_date=date(2024, 8, 20))
    assert info.crs == "EPSG:32634"
    assert np.isclose(info.gsd, 0.5)


@pytest.mark.parametrize(("suffix", "world"), [(".png", ".pgw"), (".jpg", ".jgw")])
def test_a_picture_named_to_ingest_is_told_how_to_georeference_it(
    tmp_path: Path, suffix: str, world: str
) -> None:
    # Named directly, it was told "use `railwatch detect --gsd` for screenshots; ingest
    # needs a GeoTIFF/COG", while the same picture found in a folder is told to give it
    # a world file and its CRS to ingest it, and a georeferenced PNG named is ingested.
    from PIL import Image

    path = tmp_path / f"screenshot_2023-10-05{suffix}"
    Image.fromarray(np.moveaxis(yard_scene(64, 64), 0, -1)).save(path)
    with pytest.raises(NotGeoreferencedError) as err:
        inspect_scene(path)
    said = str(err.value)
    assert "ingest needs a GeoTIFF/COG" not in said
    assert f"railwatch detect {path.name} --gsd" in said  # a screenshot: counted alone
    assert f"world file screenshot_2023-10-05{world}" in said
    assert f"{path.name}.aux.xml" in said
    # and what it says works
    (tmp_path / f"screenshot_2023-10-05{world}").write_text(
        "0.5\n0\n0\n-0.5\n673317.75\n5768708.25\n"
    )
    (tmp_path / f"{path.name}.aux.xml").write_text(
        "<PAMDataset><SRS>EPSG:32634</SRS></PAMDataset>\n"
    )
    info = inspect_scene(path)
    assert info.crs == "EPSG:32634"


def test_process_says_why_scenes_processed_before_run_again(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # After an upgrade of the detector or of the occupied-length estimator, `process`
    # ran every scene again and said "counted 3 ... up to date 0" with nothing on why,
    # for a site where one new image had come: the analyst could not tell that stored
    # counts had been redone (and may have changed) from a run that counted new images.
    import sqlite3

    from railwatch.cli.main import main

    sim = tmp_path / "sim"
    for seed, day in ((3, "2024-03-01"), (4, "2024-04-01")):
        argv = ["simulate", "--scene", "--size", "200x200", "--cars", str(seed + 2)]
        assert main([*argv, "--seed", str(seed), "--date", day, "-o", str(sim)]) == 0
    db = ["--db", tmp_db_url]
    assert main([*db, "site", "add", "yard", "--bbox", "130.6075,42.4209,130.6087,42.4219"]) == 0
    assert main([*db, "ingest", "yard", str(sim)]) == 0
    assert main([*db, "process", "yard"]) == 0
    capsys.readouterr()
    assert main([*db, "process", "yard"]) == 0  # nothing to do: nothing said of it
    assert "processed again" not in capsys.readouterr().out
    # as a database processed by the version before looks to the upgraded one
    with sqlite3.connect(tmp_db_url.removeprefix("sqlite:///")) as con:
        (old,) = con.execute("SELECT detector_version FROM scenes WHERE id = 1").fetchone()
        con.execute("UPDATE scenes SET detector_version = ? WHERE id = 1", (f"{old}-old",))
    assert main([*db, "process", "yard"]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert (
        f"yard: 1 scene processed before with railwatch-default {old}-old was processed "
        f"again with railwatch-default {old}" in said
    ), said
    assert main([*db, "process", "yard", "--json"]) == 0  # up to date again
    assert json.loads(capsys.readouterr().out)[0]["processed_again"] == []
    with sqlite3.connect(tmp_db_url.removeprefix("sqlite:///")) as con:
        con.execute("UPDATE scenes SET detector_version = ? WHERE id = 2", (f"{old}-old",))
    assert main([*db, "process", "yard", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)[0]["processed_again"]
    assert again == [
        {"scene_id": 2, "before": f"railwatch-default {old}-old", "now": f"railwatch-default {old}"}
    ]
    # a scene marked to be counted again by what changed (new centrelines, a new mask) is
    # not said again: `site edit --tracks` and `ingest-stac` said so
    with sqlite3.connect(tmp_db_url.removeprefix("sqlite:///")) as con:
        con.execute("UPDATE scenes SET detector_version = ? WHERE id = 2", (f"{old}+mask-changed",))
    assert main([*db, "process", "yard", "--json"]) == 0
    run = json.loads(capsys.readouterr().out)[0]
    assert (run["processed"], run["processed_again"]) == (1, [])


def test_a_file_with_gdal_sidecars_named_by_a_relative_path_is_processed(
    tmp_path: Path, tmp_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `railwatch ingest yard imgs/` recorded no GDAL sidecar of imgs/yard.tif (rasterio
    # names them relative to the current folder, and they were looked for beside the
    # image under those names), so `process`, which opens the stored absolute path and
    # finds them, refused the scene for ever: "the files GDAL reads with it ... changed
    # since ingest (yard.tif.aux.xml appeared)", ingesting it again changing nothing. A
    # .aux.xml is what QGIS writes beside an image it opens; a world file and the CRS in
    # one are what an image exported without its grid is told to be given.
    from railwatch.cli.main import main
    from railwatch.ingest import gdal_sidecars

    monkeypatch.chdir(tmp_path)
    argv = ["simulate", "--scene", "--size", "200x200", "--cars", "4", "--name", "yard"]
    assert main([*argv, "--date", "2024-03-01", "-o", "imgs"]) == 0
    aux = Path("imgs/yard.tif.aux.xml")
    aux.write_text(  # as QGIS writes it: band statistics
        '<PAMDataset><PAMRasterBand band="1"><Metadata>'
        '<MDI key="STATISTICS_MEAN">101.5</MDI></Metadata></PAMRasterBand></PAMDataset>\n'
    )
    assert gdal_sidecars(Path("imgs/yard.tif")) == {"yard.tif.aux.xml": aux.absolute()}
    db = ["--db", tmp_db_url]
    assert main([*db, "site", "add", "yard", "--bbox", "130.6075,42.4209,130.6087,42.4219"]) == 0
    assert main([*db, "ingest", "yard", "imgs/"]) == 0
    assert main([*db, "process", "yard", "--json"]) == 0  # was 1: the scene failed
