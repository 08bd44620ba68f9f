"""Errors of the core that name an option say it for both callers (session 37).

The core's messages named only the CLI flag (``pass --gsd METRES``, ``drop --wgs84``,
``the --db URL``, ``--detector onnx:PATH``...), which means nothing to a notebook that
called :func:`railwatch.detect_file`. The pattern now: say what to give, then both
spellings, "(gsd=METRES in Python, --gsd METRES on the command line)". Each message is
checked from the Python API and, where the CLI reaches it, from ``railwatch``, whose
wording must still name the flag. The CLI runs through :func:`railwatch.cli.main.main`
(the console script), not typer's CliRunner on ``build_app()``: the app itself lets an
error propagate, and ``main`` is what says it as "error: ..." with status 1 or 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import railwatch
from railwatch.cli.main import main
from railwatch.detect.geojson import to_feature_collection
from railwatch.errors import DetectionError, GeometryError, InputError, StorageError
from railwatch.imagery.size import ImageTooSmallError

BOTH_GSD = "(gsd=METRES in Python, --gsd METRES on the command line)"


def _png(path: Path, size: int) -> Path:
    Image.fromarray(np.full((size, size, 3), 90, np.uint8)).save(path)
    return path


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, " ".join(capsys.readouterr().err.split())


def test_a_picture_without_a_crs_says_how_to_give_its_gsd_in_python_and_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = _png(tmp_path / "photo.png", 256)
    with pytest.raises(InputError) as info:
        railwatch.detect_file(png)
    message = str(info.value)
    assert message.startswith("photo.png is not georeferenced: give its ground sample distance")
    assert BOTH_GSD in message
    code, said = _cli(capsys, "detect", str(png), "--no-scale-check")
    assert code == 2
    assert BOTH_GSD in said


def test_a_gsd_out_of_range_says_both_spellings_and_the_cli_keeps_its_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = _png(tmp_path / "photo.png", 64)
    with pytest.raises(InputError) as info:
        railwatch.detect_file(png, gsd=5000)
    message = str(info.value)
    assert message.startswith("ground sample distance 5000 m per pixel is not the scale")
    assert "(e.g. gsd=0.5 in Python, --gsd 0.5 on the command line)" in message
    assert "--gsd 5000" not in message  # a notebook passed gsd=5000, not a flag
    code, said = _cli(capsys, "detect", str(png), "--gsd", "5000")
    assert code == 2
    assert "--gsd 5000 m per pixel is not the scale" in said and "e.g. --gsd 0.5" in said


def test_a_crop_too_small_for_its_given_gsd_names_the_gsd_for_both_callers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = _png(tmp_path / "crop.png", 30)
    want = "(check the ground sample distance given, 0.5 m: gsd in Python, --gsd on the"
    with pytest.raises(ImageTooSmallError) as info:
        railwatch.detect_file(png, gsd=0.5)
    assert want in str(info.value)
    assert "(check --gsd)" not in str(info.value)
    code, said = _cli(capsys, "detect", str(png), "--gsd", "0.5")
    assert code == 1
    assert want + " command line)" in said


def test_reprojecting_pixel_coordinates_names_to_crs_and_wgs84() -> None:
    with pytest.raises(InputError) as info:
        to_feature_collection([], crs=None, to_crs="EPSG:4326")
    message = str(info.value)
    assert "leave out the reprojection (to_crs in Python, --wgs84 on the command line)" in message
    assert "(drop --wgs84)" not in message


def test_the_cli_still_refuses_wgs84_for_a_picture_by_its_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = _png(tmp_path / "photo.png", 64)
    code, said = _cli(capsys, "detect", str(png), "--gsd", "0.5", "--wgs84")
    assert code == 2
    assert "photo.png is not georeferenced: --wgs84 needs a georeferenced image" in said


def test_a_database_in_a_missing_folder_names_database_url_and_db(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'nowhere' / 'rw.db'}"
    want = "give another database URL (Database(url) in Python, --db URL on the command line)"
    with pytest.raises(StorageError) as info:
        railwatch.Database(url)
    assert want in str(info.value)
    code, said = _cli(capsys, "--db", url, "site", "add", "yard", "--bbox", "10,50,10.01,50.01")
    assert code != 0
    assert want in said
    assert not (tmp_path / "nowhere").exists()  # nothing made on the way


def test_database_lock_and_connect_advice_name_both_spellings() -> None:
    from sqlalchemy.exc import OperationalError

    from railwatch.storage.db import explain_db_error

    both = "Database(url) in Python, --db URL on the command line)"
    locked = OperationalError("INSERT", {}, Exception("database is locked"))
    said = explain_db_error(locked, "sqlite:///rw.db", "database write")
    assert "use PostgreSQL for concurrent runs (a postgresql+psycopg://... URL: " + both in said
    unreachable = OperationalError("connect", {}, Exception("could not connect to server"))
    said = explain_db_error(unreachable, "postgresql+psycopg://h/rw", "migrating")
    assert "and the database URL (host, port, user, database name; " + both in said
    assert "--db URL (host" not in said


def test_a_line_given_as_a_site_points_to_tracks_in_both_spellings() -> None:
    line = {"type": "LineString", "coordinates": [[10.0, 50.0], [10.01, 50.0]]}
    with pytest.raises(GeometryError) as info:
        railwatch.site_from_geojson("yard", line)
    assert "(tracks= in Python, --tracks FILE on the command line)" in str(info.value)
    point = {"type": "Point", "coordinates": [10.0, 50.0]}
    with pytest.raises(GeometryError) as info:
        railwatch.site_from_geojson("yard", point)
    assert "(site_from_bbox in Python, --bbox W,S,E,N on the command line)" in str(info.value)


def test_a_scene_name_with_a_slash_says_output_folder_not_out(tmp_path: Path) -> None:
    scene = railwatch.render_scene(
        railwatch.SceneParams(seed=1, gsd=0.5, size_px=(64, 64), n_cars=0)
    )
    with pytest.raises(InputError) as info:
        railwatch.write_scene(scene, tmp_path, "a/b")
    assert "(the files are written into the output folder)" in str(info.value)
    assert "--out" not in str(info.value)


def test_a_missing_default_module_names_the_detector_spec_for_both_callers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "railwatch.detect.default", None)  # ImportError
    want = "(detector='onnx:PATH' in Python, --detector onnx:PATH on the command line)"
    with pytest.raises(DetectionError) as info:
        railwatch.get_detector("default")
    assert want in str(info.value)


def test_the_default_weights_given_as_onnx_say_default_in_both_spellings() -> None:
    from railwatch.detect.default import default_weights

    weights = default_weights()
    with pytest.raises(DetectionError) as info:
        railwatch.get_detector(f"onnx:{weights}")
    message = str(info.value)
    assert f"(detector='default:{weights}' in Python, --detector default:{weights} on" in message


def test_a_yolo_model_given_to_calibrate_says_how_to_run_it_for_both_callers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.detect.calibration import check_detector_weights
    from test_byom_onnx_s35 import spot_model

    model = spot_model(tmp_path / "yolo.onnx")
    want = "(detector='onnx:PATH' in Python, --detector onnx:PATH on the command line)"
    with pytest.raises(InputError) as info:
        check_detector_weights(model, "railwatch calibrate")
    assert want in str(info.value)
    code, said = _cli(capsys, "calibrate", str(model))
    assert code == 2
    assert want in said


def test_a_stale_int8_copy_names_the_fp32_spec_for_both_callers(tmp_path: Path) -> None:
    import shutil

    from railwatch.detect.default import DefaultDetector, default_weights

    shipped = default_weights()
    w = tmp_path / shipped.name
    for name in (shipped.name, shipped.with_suffix(".json").name, "railwatch_default.int8.onnx"):
        shutil.copy(shipped.with_name(name), tmp_path / name)
    want = (
        "(precision fp32: detector='default-fp32:PATH' in Python, --detector "
        "default-fp32:PATH on the command line)"
    )
    int8 = tmp_path / "railwatch_default.int8.onnx"
    int8.write_bytes(int8.read_bytes() + b"\0")  # not the INT8 file the card records
    with pytest.raises(DetectionError, match="is not the INT8 file the card") as info:
        DefaultDetector(w)
    assert want in " ".join(str(info.value).split())
    w.write_bytes(w.read_bytes() + b"\0")  # the fp32 file changed after quantising
    with pytest.raises(DetectionError, match="quantised from other weights") as info:
        DefaultDetector(w)
    assert want in " ".join(str(info.value).split())


def test_a_file_without_a_date_says_date_in_both_spellings(tmp_path: Path) -> None:
    from railwatch.imagery.inspect import MissingDateError, inspect_scene
    from test_imagery_inspect import small

    with pytest.raises(MissingDateError) as info:
        inspect_scene(small(tmp_path, name="scene.tif"))
    message = str(info.value)
    assert "(date=YYYY-MM-DD in Python, --date YYYY-MM-DD on the command line)" in message
    assert "pass --date" not in message


def test_forcing_no_date_names_force_date_and_date_in_both_spellings(tmp_path: Path) -> None:
    from railwatch.ingest import ingest_paths

    db = railwatch.Database(f"sqlite:///{tmp_path / 'rw.db'}")
    with pytest.raises(InputError) as info:
        ingest_paths(db, "yard", [tmp_path], force_date=True)
    message = str(info.value)
    assert "(force_date=True needs date= in Python, --force-date needs --date on the" in message
