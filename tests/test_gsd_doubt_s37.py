"""A hand-given gsd in the Python API is checked against the rails (session 37).

``railwatch detect IMG.png --gsd G`` has said since session 11 when G disagrees with the
rails or could not be checked against them; ``railwatch.detect_file(png, gsd=G)`` said
nothing, while a scale 10-20 % off changes the count by tens of per cent
(benchmarks/bench_gsd_sensitivity.py). Now the result carries the check
(``scale_check``), :func:`railwatch.count_cars` passes it on, and a
:class:`railwatch.errors.ScaleWarning` is warned; the CLI keeps its own words only.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest

from railwatch.detect.api import DetectionResult, detect_file
from railwatch.errors import RailwatchWarning, ScaleWarning
from railwatch.imagery.scale import RAIL_CENTRES_M
from test_detect_fakes import BrightBlobDetector
from test_rail_scale import no_track_image, rails_image


def _png(path: Path, rgb: np.ndarray) -> Path:
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


def _detect(path: Path, **kwargs: object) -> tuple[DetectionResult, list[ScaleWarning]]:
    """detect_file with every warning recorded; the ScaleWarnings among them."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = detect_file(path, detector=BrightBlobDetector(), **kwargs)  # type: ignore[arg-type]
    return result, [w.message for w in seen if isinstance(w.message, ScaleWarning)]


def test_scale_warning_is_a_railwatch_user_warning() -> None:
    assert issubclass(ScaleWarning, RailwatchWarning)
    assert issubclass(ScaleWarning, UserWarning)


def test_gsd_that_disagrees_with_the_rails_warns_and_is_carried(tmp_path: Path) -> None:
    """Rails 7.5 px apart: about 0.20 m per pixel; gsd=0.6 is three times that."""
    png = _png(tmp_path / "rails.png", rails_image(7.5, 149.0, size=192, seed=12))
    result, said = _detect(png, gsd=0.6)
    check = result.scale_check
    assert check is not None and check.given == 0.6
    assert check.scale.measured and check.disagrees
    assert check.scale.gsd == pytest.approx(RAIL_CENTRES_M / 7.5, rel=0.05)
    assert result.gsd == 0.6  # detected at the gsd given, as the CLI does
    assert len(said) == 1
    text = str(said[0])
    assert "rails.png" in text and "gsd 0.6 m disagrees" in text
    assert f"gsd={check.scale.gsd:.3f}" in text and "±10 %" in text


def test_gsd_that_agrees_with_the_rails_is_carried_without_a_warning(tmp_path: Path) -> None:
    png = _png(tmp_path / "rails.png", rails_image(7.5, 149.0, size=192, seed=12))
    result, said = _detect(png, gsd=0.2)
    assert said == []
    check = result.scale_check
    assert check is not None and check.scale.measured and not check.disagrees
    assert check.to_dict()["agrees"] is True


def test_gsd_that_cannot_be_checked_warns_with_the_reason(tmp_path: Path) -> None:
    png = _png(tmp_path / "fields.png", no_track_image(seed=4))
    result, said = _detect(png, gsd=0.5)
    check = result.scale_check
    assert check is not None and not check.scale.measured and check.scale.reason
    assert len(said) == 1
    text = str(said[0])
    assert "gsd 0.5 m not checked against the rails" in text
    assert check.scale.reason in text and "±10 %" in text


def test_check_scale_false_neither_measures_nor_warns(tmp_path: Path) -> None:
    png = _png(tmp_path / "rails.png", rails_image(7.5, 0.0, size=192, seed=13))
    result, said = _detect(png, gsd=0.6, check_scale=False)
    assert result.scale_check is None and said == []


def test_georeferenced_image_is_not_checked(tmp_path: Path) -> None:
    import rasterio
    from rasterio.transform import from_origin

    rgb = rails_image(7.5, 30.0, size=192, seed=14)
    tif = tmp_path / "rails.tif"
    profile = {
        "driver": "GTiff",
        "width": 192,
        "height": 192,
        "count": 3,
        "dtype": "uint8",
        "crs": "EPSG:32652",
        "transform": from_origin(500000.0, 4700000.0, 0.6, 0.6),
    }
    with rasterio.open(tif, "w", **profile) as ds:
        ds.write(np.moveaxis(rgb, -1, 0))
    result, said = _detect(tif, gsd=0.6)
    assert result.scale_check is None and said == []


def test_count_cars_carries_the_check(tmp_path: Path) -> None:
    from railwatch.api import count_cars

    png = _png(tmp_path / "rails.png", rails_image(7.5, 149.0, size=192, seed=12))
    detector = BrightBlobDetector()
    with pytest.warns(ScaleWarning, match="disagrees"):
        result = detect_file(png, gsd=0.6, detector=detector)
    count = count_cars(result, detector=detector)
    assert count.scale_check is result.scale_check
    assert count.scale_check is not None and count.scale_check.disagrees


def test_count_cars_carries_the_check_of_a_coarse_image(tmp_path: Path) -> None:
    """At 2 m the length method counts: its count carries the check too (here the rails
    could not be measured: a 2 m image shows none)."""
    from dataclasses import replace

    from railwatch.api import count_cars
    from railwatch.detect.coarse import CoarseEstimate

    png = _png(tmp_path / "fields.png", no_track_image(size=256, seed=4))
    result, said = _detect(png, gsd=2.0)
    assert result.method == "length" and len(said) == 1
    check = result.scale_check
    assert check is not None and not check.scale.measured
    # the drawing has no track, so its own estimate reads none: give it a read one
    read = CoarseEstimate(6.0, 4.0, 8.0, 84.0, "length", False, track_m=300.0)
    count = count_cars(replace(result, coarse=read))
    assert count.method == "length" and count.total == 6.0
    assert count.scale_check is check


def test_cli_prints_its_note_once_and_warns_nothing_from_python(tmp_path: Path) -> None:
    """The CLI checks the scale itself and says it in its own words; detect_file must not
    add a Python warning (stderr would say it twice)."""
    from typer.testing import CliRunner

    from railwatch.cli.main import build_app

    png = _png(tmp_path / "rails.png", rails_image(7.5, 149.0, size=192, seed=12))
    out = tmp_path / "out.geojson"
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = CliRunner().invoke(
            build_app(), ["detect", str(png), "--gsd", "0.6", "-o", str(out)]
        )
    assert result.exit_code == 0, result.stdout + result.stderr
    assert not [w for w in seen if isinstance(w.message, ScaleWarning)]
    text = " ".join(result.stderr.split())
    assert text.count("disagrees with the scale its rails show") == 1
    assert "--gsd 0.6 m disagrees" in text and "--no-scale-check" in text
    assert json.loads(out.read_text())["scale_check"]["agrees"] is False


def test_cli_note_for_an_unchecked_gsd_says_the_scale_must_be_right(tmp_path: Path) -> None:
    """No track: the CLI's note says why, and (since session 37) how right the scale must
    be; no Python warning besides it."""
    from typer.testing import CliRunner

    from railwatch.cli.main import build_app

    png = _png(tmp_path / "fields.png", no_track_image(seed=4))
    out = tmp_path / "out.geojson"
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = CliRunner().invoke(
            build_app(), ["detect", str(png), "--gsd", "0.5", "-o", str(out)]
        )
    assert result.exit_code == 0, result.stdout + result.stderr
    assert not [w for w in seen if isinstance(w.message, ScaleWarning)]
    text = " ".join(result.stderr.split())
    assert text.count("--gsd 0.5 not checked against the rails: no rail pairs found") == 1
    assert "needs the scale to about ±10 %" in text


def test_the_python_page_example_prints_what_it_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/python.md, "The scale of a PNG or JPEG": its example, on the page's scene,
    prints the reason and the warning class the page shows, and the finer guess counts
    fewer cars (the counts themselves hang on the detector's version)."""
    import re

    import railwatch

    page = (Path(__file__).resolve().parents[1] / "docs" / "python.md").read_text()
    section = page.split("## The scale of a PNG or JPEG", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"^```python\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    assert found is not None, "the section lost its example"
    code = found.group(1)
    shown = [line[2:] for line in code.splitlines() if line.startswith("# ")]
    monkeypatch.chdir(tmp_path)
    params = railwatch.SceneParams(seed=7, gsd=0.5, size_px=(800, 600), n_cars=30)
    ns: dict[str, object] = {"railwatch": railwatch, "scene": railwatch.render_scene(params)}
    exec(compile(code, "docs/python.md", "exec"), ns)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == shown[1]
    assert lines[0].split(" ", 2)[2] == shown[0].split(" ", 2)[2] == "no rail pairs found"
    png_count, fine = ns["png_count"], ns["fine"]
    assert isinstance(png_count, railwatch.SceneCount) and isinstance(fine, railwatch.SceneCount)
    assert fine.total < png_count.total


def test_eval_with_a_detector_warns_nothing_about_the_labels_scale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`railwatch eval --detector` detects each labelled PNG chip at the labels' gsd; it
    did not check that gsd before session 37 and does not now (no ScaleWarning per chip,
    no second measurement)."""
    from railwatch.cli.main import main
    from railwatch.storage import Database
    from report_db import populate
    from test_evaltruth_qa24_labels import _imported

    url = f"sqlite:///{tmp_path / 'rw.db'}"
    populate(Database(url), tmp_path / "scenes")
    labels = _imported(url, tmp_path, capsys)
    assert sorted((labels / "images").glob("*.png"))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        rc = main(["eval", "--truth", str(labels), "--detector", "default", "--json"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert json.loads(out.out)["truth"]["images"] > 0
    assert not [w for w in seen if isinstance(w.message, ScaleWarning)]
