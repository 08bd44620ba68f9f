"""``railwatch eval --detector`` reads each image as its own files say (session 26): a
truth or label file's top-level ``radiometry`` (what ``railwatch detect --radiometry``
writes), else the image's sidecar ``NAME.json``, as ``train --labels`` reads it. Before,
one global ``--radiometry`` (default linear) read every image, so a display-encoded
16-bit image a label file called ``display`` was trained on one way and scored another.
``--radiometry`` is now the default for images that say nothing; where a file says
otherwise, the file wins and a note names the image."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from imagery_helpers import write_geotiff
from railwatch.cli.main import main
from railwatch.detect.eval import Prediction, evaluate_dirs
from railwatch.detect.geojson import FeatureSet
from railwatch.errors import InputError

GSD = 0.5


def _yard(folder: Path, name: str = "yard", *, bits: int = 16, **top: Any) -> Path:
    """A non-georeferenced image (16-bit: an 8-bit picture x257) with one car and its
    truth file in pixels; ``top``: extra top-level members of the truth file."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(3)
    data = rng.integers(60, 200, (3, 96, 96)).astype(np.uint8)
    data[:, 45:52, 30:62] = 30
    data[0, :2, :20], data[0, 2:4, :20] = 0, 255
    pixels = data.astype(np.uint16) * 257 if bits == 16 else data
    write_geotiff(folder / f"{name}.tif", pixels, res=GSD, crs=None)
    ring = [[30, 45], [62, 45], [62, 52], [30, 52], [30, 45]]
    fc = {"type": "FeatureCollection", "crs": None, "gsd": GSD, **top,
          "features": [{"type": "Feature", "properties": {"class": "tank"},
                        "geometry": {"type": "Polygon", "coordinates": [ring]}}]}  # fmt: skip
    (folder / f"{name}.truth.geojson").write_text(json.dumps(fc))
    return folder


def _recorder(seen: dict[str, str]) -> Any:
    def predict(image: Path, gsd: float | None, truth: FeatureSet, radiometry: str) -> Prediction:
        seen[image.stem] = radiometry
        return Prediction(FeatureSet((), None, gsd), radiometry=radiometry)

    return predict


def test_each_image_is_read_as_its_files_say(tmp_path: Path) -> None:
    folder = _yard(tmp_path / "t", "own", radiometry="display")
    _yard(folder, "side")
    (folder / "side.json").write_text(
        json.dumps({"type": "Feature", "properties": {"radiometry": "display"}})
    )
    _yard(folder, "silent")
    seen: dict[str, str] = {}
    scenes = {s.name: s for s in evaluate_dirs(folder, predict=_recorder(seen))}
    # was: every image read as linear (the one global --radiometry's default)
    assert seen == {"own": "display", "side": "display", "silent": "linear"}
    assert (scenes["own"].radiometry, scenes["own"].radiometry_from) == ("display", "image")
    assert scenes["side"].radiometry_from == "image"
    assert scenes["silent"].radiometry_from == "default"
    # the caller's radiometry is the default of the images that say nothing
    seen.clear()
    scenes = {
        s.name: s for s in evaluate_dirs(folder, predict=_recorder(seen), radiometry="linear")
    }
    assert seen == {"own": "display", "side": "display", "silent": "linear"}
    assert scenes["silent"].radiometry_from == "--radiometry"
    seen.clear()
    evaluate_dirs(folder, predict=_recorder(seen), radiometry="display")
    assert seen["silent"] == "display"


def test_a_labels_folders_radiometry_reaches_the_detector(tmp_path: Path) -> None:
    """A GeoJSON label file in a training-labels folder (read by train's loader)."""
    folder = _yard(tmp_path / "lab", radiometry="display")
    (folder / "railwatch_labels.json").write_text(json.dumps({"images": []}))
    seen: dict[str, str] = {}
    (scene,) = evaluate_dirs(folder, predict=_recorder(seen), radiometry="linear")
    assert seen == {"yard": "display"} and scene.radiometry_from == "image"


def test_a_bad_radiometry_stops_everything_with_its_file(tmp_path: Path) -> None:
    folder = _yard(tmp_path / "t", "a")
    _yard(folder, "b", radiometry="srgb")
    seen: dict[str, str] = {}
    with pytest.raises(InputError, match=r"b\.truth\.geojson: its top-level 'radiometry' 'srgb'"):
        evaluate_dirs(folder, predict=_recorder(seen))
    assert seen == {}  # no detector ran
    (folder / "b.truth.geojson").unlink()
    (folder / "b.tif").unlink()
    (folder / "a.json").write_text(json.dumps({"radiometry": 2}))
    with pytest.raises(InputError, match=r"a\.json: its 'radiometry' '2'"):
        evaluate_dirs(folder, predict=_recorder(seen))


def _eval(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, Any], str]:
    rc = main(["eval", *args, "--json"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    return json.loads(out.out), " ".join(out.err.split())


def test_cli_the_files_word_wins_over_radiometry_and_is_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _yard(tmp_path / "t", "own", radiometry="display")
    _yard(folder, "silent")
    _yard(folder, "byte", bits=8)
    args = ["--truth", str(folder), "--detector", "default"]
    report, err = _eval([*args, "--radiometry", "linear"], capsys)
    rows = {r["name"]: r for r in report["scenes"]}
    assert (rows["own"]["radiometry"], rows["own"]["radiometry_from"]) == ("display", "image")
    assert (rows["silent"]["radiometry"], rows["silent"]["radiometry_from"]) == (
        "linear",
        "--radiometry",
    )
    assert "radiometry" not in rows["byte"]  # 8-bit: read as it is
    assert "1 image says how to read it" in err and "wins over --radiometry linear: own" in err
    report, err = _eval(args, capsys)
    rows = {r["name"]: r for r in report["scenes"]}
    assert rows["own"]["radiometry"] == "display"
    assert rows["silent"]["radiometry_from"] == "default"
    assert "wins over" not in err  # nothing given, nothing overruled
    report, err = _eval([*args, "--radiometry", "display"], capsys)
    rows = {r["name"]: r for r in report["scenes"]}
    assert rows["silent"]["radiometry"] == "display" and "wins over" not in err
