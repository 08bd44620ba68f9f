"""Small fixes of session 50 (2026-12-07) found while reviewing the helpers' work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def test_detect_says_when_the_interval_rests_on_an_assumed_spread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`calibrate --labels` marks an assumed spread of recall in the card (session 50),
    but `railwatch detect` printed the count's interval with weights so calibrated
    without a word: it now says, once per resolution, that the interval rests on a
    guess."""
    from railwatch.cli.main import main
    from test_walk_byom_s49 import DETECT_MEMBERS, _fc, _geotiff, _weights, _write

    folder = tmp_path / "L"
    image = _geotiff(folder / "a.tif")  # one image of 6 cars: no spread can be measured
    _write(folder / "a.detections.geojson", _fc(6, source="a.tif", **DETECT_MEMBERS))
    weights = _weights(tmp_path)
    assert main(["calibrate", str(weights), "--labels", str(folder), "--json"]) == 0
    card = json.loads(weights.with_suffix(".json").read_text())
    assert card["calibration"]["recall_sd_assumed"] == [True]
    other = _geotiff(tmp_path / "b.tif")
    capsys.readouterr()
    out = tmp_path / "o"
    spec = f"default-fp32:{weights}"
    assert main(["detect", str(image), str(other), "--detector", spec, "--out-dir", str(out)]) == 0
    said = " ".join(capsys.readouterr().err.split())
    note = "the interval at 0.5 m rests on an assumed scene-to-scene spread of recall"
    assert said.count(note) == 1, said  # two images at one resolution: said once


def test_detect_with_the_shipped_weights_says_nothing_of_a_spread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.cli.main import main
    from test_walk_byom_s49 import _geotiff

    image = _geotiff(tmp_path / "a.tif")
    capsys.readouterr()
    assert main(["detect", str(image), "--out-dir", str(tmp_path / "o")]) == 0
    assert "assumed scene-to-scene spread" not in capsys.readouterr().err


def test_the_general_models_note_has_single_spaces(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The note on a general model's dropped 'car' read "'car'  is not taken as a
    railcar" (two spaces); the tests collapsed whitespace and did not see it."""
    from railwatch.cli import detect as cli_detect
    from railwatch.cli.main import main
    from test_walk_byom_s49 import _const_model, _geotiff

    model = _const_model(tmp_path / "m.onnx", [("output0", (1, 8, 84))])
    image = _geotiff(tmp_path / "a.tif", 64)
    width = cli_detect.err_console.width
    cli_detect.err_console.width = 10_000  # one line: no wrap to hide a double space
    try:
        capsys.readouterr()
        spec = f"onnx:{model}?classes=car,truck,railcar"
        assert main(["detect", str(image), "--detector", spec, "--out-dir", str(tmp_path)]) == 0
    finally:
        cli_detect.err_console.width = width
    err = capsys.readouterr().err
    assert "'car' is not taken as a railcar" in err, err


def test_a_missing_int8_file_names_the_weights_to_quantize(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Weights copied with their card under another name (w.onnx, w.json) keep the
    card's INT8 entry of the original: the error told to quantize a
    railwatch_default.onnx that is not there, not the weights given."""
    from railwatch.cli.main import main
    from test_walk_byom_s49 import _geotiff, _weights

    weights = _weights(tmp_path)
    image = _geotiff(tmp_path / "a.tif")
    capsys.readouterr()
    spec = f"default:{weights}"
    assert main(["detect", str(image), "--detector", spec, "--out-dir", str(tmp_path)]) == 1
    said = " ".join(capsys.readouterr().err.split())
    assert f"run `railwatch quantize {weights}` or use the fp32 weights" in said, said


def test_an_unusable_coarse_scenes_causes_leave_out_how_it_is_counted(tmp_path: Path) -> None:
    """The dashboard listed "resolution 3.0 m: cars are not separable, counts come from
    occupied track length" among a cloudy 3 m image's reasons for being unusable (the
    report and the export had left it out since session 48): the API's quality gives
    ``causes`` beside ``reasons``, and the page shows the causes."""
    from datetime import UTC, datetime

    from fastapi.testclient import TestClient

    from railwatch.settings import Settings
    from railwatch.sites import SiteSpec
    from railwatch.storage import Database, repo
    from railwatch.web.app import create_app
    from report_db import SITE_UTM, FakeQuality, add_ingested_scene, to_wgs84

    note = "resolution 3.0 m: cars are not separable, counts come from occupied track length"
    db = Database(f"sqlite:///{tmp_path}/c.db")
    with db.session() as s:
        repo.add_site(s, SiteSpec(name="yard", geometry=to_wgs84(SITE_UTM)))
        scene = add_ingested_scene(s, "yard", datetime(2024, 6, 28, 2, tzinfo=UTC), 3.0, 1)
        quality = FakeQuality(0.1, usable=False, reasons=("cloud covers 90 % of the site", note))
        repo.record_scene_result(s, scene.id, quality, [], None, "test", "1")
        scene_id = int(scene.id)
    client = TestClient(create_app(Settings(db=db.url, cache_dir=tmp_path / "c"), db))
    got = client.get(f"/api/scenes/{scene_id}").json()["quality"]
    assert got["reasons"] == ["cloud covers 90 % of the site", note]
    assert got["causes"] == ["cloud covers 90 % of the site"]
    assert client.get(f"/api/scenes/{scene_id}/quality").json()["causes"] == got["causes"]
    db.dispose()
    js = Path(__file__).parents[1] / "src/railwatch/web/static/js/site.js"
    assert "quality.reasons" not in js.read_text() and "q.reasons" not in js.read_text()


def test_a_general_models_container_or_tanker_is_no_railcar_without_a_rail_class() -> None:
    """A road or port model's "container", "tanker" or "tank" mapped to railwatch's
    container and tank classes and its boxes were counted as railcars, and a "passenger
    car" counted as rail evidence beside a "container" (review of session 50)."""
    from railwatch.detect.onnx_backend import class_map_of, general_words

    port = ["car", "truck", "bus", "container", "tanker", "passenger car"]
    assert class_map_of(port) == (None,) * 6
    assert general_words(port, port) == ["car", "container", "tanker", "passenger car"]
    xview = ["Small Car", "Truck", "Railway Vehicle", "Passenger Car", "Cargo Car", "Tank car"]
    assert class_map_of([*xview, "Shipping container", "container"]) == (
        None,
        None,
        "railcar",
        "railcar",
        "railcar",
        "tank",
        None,
        "container",  # beside clearly rail classes, a container is a railcar's
    )
    # a railcar model (no road vehicles or people) keeps its bare names
    assert class_map_of(["container", "tank", "hopper", "flat"]) == (
        "container",
        "tank",
        "hopper",
        "flat",
    )


def test_a_ship_aircraft_or_animal_model_is_general_too() -> None:
    """Only road vehicles and people made a model general: a port model's bare
    "container", a military model's "tank" and a farm model's "wagon" were railcars
    (second review of session 50)."""
    from railwatch.detect.onnx_backend import class_map_of

    assert class_map_of(["ship", "container", "crane"]) == (None, None, None)
    assert class_map_of(["boat", "container", "tanker"]) == (None, None, None)
    assert class_map_of(["aircraft", "tank"]) == (None, None)
    assert class_map_of(["horse", "wagon", "cart"]) == (None, None, None)
    # beside a clearly rail class they are a railcar model's
    assert class_map_of(["ship", "container", "locomotive"]) == (None, "container", "locomotive")


def test_a_freight_wagon_is_a_railcar() -> None:
    """ "freight wagon" and "freight car" named no railcar, though "goods wagon" and
    "cargo car" did (found re-running the suite, session 50)."""
    from railwatch.detect.onnx_backend import class_map_of, railwatch_class

    assert railwatch_class("freight wagon") == railwatch_class("Freight_Car") == "railcar"
    assert railwatch_class("freight") is None
    assert class_map_of(["plane", "freight wagon"]) == (None, "railcar")
