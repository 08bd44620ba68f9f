"""A hostile but realistic user's bad input, walked through the command line
(2026-12-07, session 46). Each test here failed before its fix.

- An 8-bit image saved as float32 or float64 (a raster calculator's or numpy's output,
  values 0-255) was ingested without a word and every scene of it read "unusable: snow
  covers 70 % of the site": integer files holding 8-bit values were flagged (session
  28), float ones were not. Ingest now names ``--radiometry display`` for them too;
  reflectance (fractions) and NaN or infinite pixels do not set it off.
- A link named to ``ingest`` that leads round a loop of links was "no such file or
  folder", and in a folder each link of the loop was "a broken link (to b.tif, which
  does not exist)" of a b.tif that was there: both now say it is a loop.
- ``detect photo.png --gsd 50`` (50 cm meant) read 1,697 km of track in a 51 km image
  without asking whether centimetres were meant; a --gsd coarser than 10 m now asks.
- `ingest FILE --bands 3,2,1` of a reviewed scene set it to be processed again, and
  `scene show` said its review was out of the counts because "the scene is not usable,
  or its file changed": neither was so; it now says `railwatch process` brings it back.
- A FIFO named NAME.tif (or `<(...)`) given to `ingest` or `detect` blocked for ever,
  and a pipe on /dev/stdin was ingested as "stdin is empty (0 bytes)"; a link to
  /dev/zero was hashed for ever. Each is now refused as a pipe or a device; `ingest
  SITE -` ("no such file or folder") says that '-' is not standard input.
- A NetCDF file of several variables (subdatasets, no band of its own) was told by
  `ingest` that it was "not georeferenced", with a gdal_translate that makes no image of
  it either, and `detect` ended in "internal error: IndexError": both now name its
  subdatasets and how to make one image of them.
- `simulate --scene --gsd 50` (50 cm meant), `--season monsoon`, `--style weird` ended
  with status 1, a settings error ("gsd 50.0 m is out of range"), not 2, a bad option
  value, as README's exit-status rule says; now 2, the option named.
- `scene import-reviews` of a file with two counts of one image printed, unmarked,
  "the analysis keeps one count a day, the highest", then refused the file ("keep
  one"); the reader's warnings now come, marked "warning:", once the file is recorded.
- A 100000 × 1 px strip was said to be "5e+04 m × 0.5 m on the ground".
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio

from helpers import make_geotiff
from railwatch.cli.main import main
from railwatch.imagery.inspect import eight_bit_values

UTM = "EPSG:32652"
ORIGIN = (632_000.0, 4_683_000.0)
BBOX = "130.6020,42.2860,130.6040,42.2875"  # inside the 300 m image at ORIGIN


def _tif(path: Path, data: np.ndarray, **kw: Any) -> Path:
    return make_geotiff(
        path,
        crs=UTM,
        origin=ORIGIN,
        gsd=1.0,
        width=data.shape[2],
        height=data.shape[1],
        dtype=str(data.dtype),
        data=data,
        tags={"TIFFTAG_DATETIME": "2023:10:05 02:30:00"},
        **kw,
    )


@pytest.fixture
def db(tmp_db_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["--db", tmp_db_url, "site", "add", "yard", "--bbox", BBOX]) == 0, capsys
    capsys.readouterr()
    return tmp_db_url


def _eight(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(1, 256, size=(3, 300, 300)).astype(np.float32)


def test_eight_bit_values_saved_as_floats_are_flagged(tmp_path: Path) -> None:
    f32 = _tif(tmp_path / "f32.tif", _eight())
    holes = _eight(1).astype(np.float64)
    holes[:, :40] = np.nan
    holes[:, 40:50] = np.inf
    f64 = _tif(tmp_path / "f64.tif", holes)
    refl = _tif(tmp_path / "refl.tif", (_eight(2) / 300.0).astype(np.float32))
    radiance = _tif(tmp_path / "rad.tif", (_eight(3) * 0.73).astype(np.float32))
    for path, want in ((f32, "0-255"), (f64, "0-255"), (refl, None), (radiance, None)):
        with rasterio.open(path) as ds:
            assert eight_bit_values(ds) == want, path.name


def test_ingest_of_a_float_eight_bit_image_names_radiometry_display(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f32 = _tif(tmp_path / "f32.tif", _eight())
    code = main(["--db", db, "ingest", "yard", str(f32)])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    said = " ".join((out + err).split())
    assert "its float32 values are 8-bit ones (all between 0 and 255)" in said
    assert "stored as float32" in said and "--radiometry display" in said
    code = main(["detect", str(f32), "-o", str(tmp_path / "f32.geojson")])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 0, err
    assert "hint: f32.tif: its values are 8-bit ones (all between 0 and 255): a visual " in err
    assert "stored in 16 bits or as floats" in err


def test_a_link_loop_named_to_ingest_is_said_to_be_one(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.tif").symlink_to("b.tif")
    (tmp_path / "b.tif").symlink_to("a.tif")
    (tmp_path / "gone.tif").symlink_to(tmp_path / "nowhere.tif")
    code = main(["--db", db, "ingest", "yard", str(tmp_path / "a.tif"), str(tmp_path / "gone.tif")])
    out, err = capsys.readouterr()
    said = " ".join((out + err).split())
    assert code == 2, said
    assert "a.tif is a link that leads round a loop of links (a.tif -> b.tif -> a.tif)" in said
    assert "gone.tif is a broken link (to " in said
    assert "no such file or folder" not in said


def test_a_link_loop_in_a_folder_is_not_said_to_link_to_nothing(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "imgs"
    folder.mkdir()
    (folder / "a.tif").symlink_to("b.tif")
    (folder / "b.tif").symlink_to("a.tif")
    main(["--db", db, "ingest", "yard", str(folder), "--json"])
    failed = {
        Path(f["file"]).name: f["reason"] for f in json.loads(capsys.readouterr().out)["failed"]
    }
    assert set(failed) == {"a.tif", "b.tif"}
    for name, reason in failed.items():
        assert "which does not exist" not in reason, reason
        assert f"{name} is a link that leads round a loop of links" in reason


@pytest.mark.parametrize(("gsd", "asked"), [("50", True), ("30", True), ("10", False)])
def test_a_gsd_in_centimetres_is_asked_about(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], gsd: str, asked: bool
) -> None:
    from PIL import Image

    png = tmp_path / "photo.png"
    Image.fromarray(np.full((96, 96, 3), 90, dtype=np.uint8)).save(png)
    code = main(["detect", str(png), "--gsd", gsd, "-o", str(tmp_path / "out.geojson")])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 0, err
    hint = f"if you meant {gsd} cm, give --gsd {float(gsd) / 100:g}"
    assert (hint in err) is asked, err


def test_a_review_of_a_scene_to_be_read_again_says_process_brings_it_back(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    img = _tif(tmp_path / "img.tif", _eight(4).astype(np.uint8))
    for argv in (
        ["ingest", "yard", str(img)],
        ["process", "yard"],
        ["scene", "review", "1", "--count", "7", "--note", "by eye"],
        ["ingest", "yard", str(img), "--bands", "3,2,1"],
    ):
        code = main(["--db", db, *argv])
        out, err = capsys.readouterr()
        assert code == 0, (argv, out + err)
    assert main(["--db", db, "scene", "show", "1"]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert "status ingested" in said
    assert "the scene is not usable, or its file changed" not in said
    assert "not in the stored counts until `railwatch process` reads the scene again" in said
    main(["--db", db, "process", "yard"])
    capsys.readouterr()
    assert main(["--db", db, "scene", "show", "1"]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert "all 7;" in said and "not in the stored counts" not in said


@pytest.mark.timeout(60)
def test_a_pipe_named_to_ingest_is_refused_not_waited_on(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "yard_2024-05-01.tif"
    os.mkfifo(fifo)
    (tmp_path / "zero.tif").symlink_to("/dev/zero")
    code = main(["--db", db, "ingest", "yard", str(fifo), str(tmp_path / "zero.tif"), "--json"])
    failed = {
        Path(f["file"]).name: f["reason"] for f in json.loads(capsys.readouterr().out)["failed"]
    }
    assert code == 1
    assert failed["yard_2024-05-01.tif"].startswith("yard_2024-05-01.tif is a pipe, not an image")
    assert failed["zero.tif"].startswith("zero.tif is a device, not an image file")
    assert "save the image to a file and ingest that" in failed["zero.tif"]
    code = main(["--db", db, "ingest", "yard", "-", "--json"])
    (row,) = json.loads(capsys.readouterr().out)["failed"]
    assert code == 2
    assert row["reason"].startswith("no such file: '-' is not standard input here"), row


@pytest.mark.timeout(60)
def test_a_pipe_given_to_detect_is_refused_not_waited_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "photo.tif"
    os.mkfifo(fifo)
    code = main(["detect", str(fifo), "--gsd", "0.5"])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2
    assert err.startswith(f"error: {fifo} is a pipe or a device, not an image file"), err


def _netcdf(path: Path) -> Path:
    from scipy.io import netcdf_file

    f = netcdf_file(str(path), "w")
    f.createDimension("y", 50)
    f.createDimension("x", 50)
    f.createVariable("x", "d", ("x",))[:] = 632_000.0 + np.arange(50)
    f.createVariable("y", "d", ("y",))[:] = 4_683_000.0 - np.arange(50)
    for name in ("red", "nir"):
        f.createVariable(name, "b", ("y", "x"))[:] = np.full((50, 50), 60, dtype=np.int8)
    f.close()
    return path


def test_a_file_of_subdatasets_is_named_so_by_ingest_and_detect(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("scipy")
    nc = _netcdf(tmp_path / "yard_2024-05-01.nc")
    code = main(["--db", db, "ingest", "yard", str(nc), "--json"])
    (row,) = json.loads(capsys.readouterr().out)["failed"]
    assert code == 1
    assert row["reason"].startswith(
        "yard_2024-05-01.nc is a container of 2 subdatasets (red, nir), not one image"
    ), row
    assert "gdalbuildvrt -separate" in row["reason"]
    code = main(["detect", str(nc), "--gsd", "0.5"])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 1, err
    assert err.startswith("error: yard_2024-05-01.nc is a container of 2 subdatasets"), err


@pytest.mark.parametrize(
    ("option", "said"),
    [
        (["--gsd", "50"], "--gsd 50: the simulator renders 0.05 to 30 m per pixel (metres: 50 cm"),
        (["--gsd", "0.01"], "--gsd 0.01: the simulator renders 0.05 to 30 m per pixel, e.g."),
        (["--season", "monsoon"], "--season 'monsoon' is unknown: use one of spring, summer,"),
        (["--style", "weird"], "--style 'weird' is unknown: use one of arid,"),
        (["--paint", "x"], "--paint 'x' is unknown: use one of euro, faded, rzd"),
    ],
)
def test_simulate_options_out_of_range_are_bad_usage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: list[str], said: str
) -> None:
    code = main(["simulate", "--scene", *option, "--out", str(tmp_path / "sim")])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2, err
    assert err.startswith(f"error: {said}"), err
    assert not (tmp_path / "sim").exists()


def test_import_reviews_says_only_its_error_when_it_refuses_the_file(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    img = _tif(tmp_path / "img.tif", _eight(5).astype(np.uint8))
    assert main(["--db", db, "ingest", "yard", str(img)]) == 0
    assert main(["--db", db, "process", "yard"]) == 0
    capsys.readouterr()
    twice = tmp_path / "twice.csv"
    twice.write_text("date,count\n2023-10-05,41\n2023-10-05,42\n")
    code = main(["--db", db, "scene", "import-reviews", "yard", str(twice)])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("error: line 2 (2023-10-05) and line 3 (2023-10-05): both count"), err
    assert "keeps one count a day" not in err
    serial = tmp_path / "serial.csv"
    serial.write_text("date,count\n45204.5,41\n")  # 2023-10-05 12:00 in Excel's dates
    code = main(["--db", db, "scene", "import-reviews", "yard", str(serial)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "scene 1: all 41" in out
    assert err.startswith("warning: dates such as '45204.5' read as Excel serial numbers"), err


def test_a_long_strip_is_said_in_metres_not_in_exponents() -> None:
    from railwatch.imagery.size import image_too_small

    said = image_too_small(100_000, 1, 0.5)
    assert said is not None and "(50,000 m × 0.5 m on the ground)" in said
    said = image_too_small(1, 1, 0.5)
    assert said is not None and "(0.5 m × 0.5 m on the ground)" in said
