"""``railwatch detect --radiometry`` and ``detect_file(radiometry=)``: a display-encoded
16-bit file (a visual product x257) was always read as linear data, stretched per band
and gamma-encoded a second time, so the detector saw a washed-out image; declared
``display`` it sees the 8-bit image, and the GeoJSON records how it was read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from imagery_helpers import write_geotiff
from railwatch.cli.main import main
from railwatch.detect import registry
from railwatch.detect.api import detect_file
from railwatch.errors import InputError


class Recorder:
    """A detector that finds nothing and keeps every tile it is given."""

    name = "recorder"
    version = "1"

    def __init__(self) -> None:
        self.tiles: list[np.ndarray] = []

    def detect(self, image: Any, gsd: float, valid: Any = None) -> list[Any]:
        self.tiles.append(np.array(image))
        return []


def eight_bit() -> np.ndarray:
    """(3, 80, 80) uint8 with a colour cast (red brighter than blue) spanning 0..255."""
    rng = np.random.default_rng(5)
    data = np.stack(
        [
            rng.integers(20, 221, (80, 80)),
            rng.integers(20, 171, (80, 80)),
            rng.integers(20, 121, (80, 80)),
        ]
    ).astype(np.uint8)
    data[0, :2, :10] = 0  # enough pixels at each end for the 0.01-99.99 % range
    data[0, 2:4, :10] = 255
    return data


def seen(path: Path, **kw: Any) -> tuple[np.ndarray, Any]:
    det = Recorder()
    result = detect_file(path, detector=det, workers=1, **kw)
    assert len(det.tiles) == 1  # the 80 px image is one tile
    return det.tiles[0], result


def test_detect_file_display_reads_the_16_bit_file_as_the_8_bit_one(tmp_path: Path) -> None:
    v = eight_bit()
    path = write_geotiff(tmp_path / "visual16.tif", v.astype(np.uint16) * 257)
    expected = np.moveaxis(v, 0, -1).astype(int)

    img, result = seen(path, radiometry="display")
    assert np.abs(img.astype(int) - expected).max() <= 1
    assert result.radiometry == "display"

    # the default (linear) stretches each band and brightens it: the cast is lost
    img, result = seen(path)
    assert result.radiometry == "linear"
    assert img.astype(float).mean() > expected.mean() + 25


def test_an_8_bit_file_is_read_as_it_is_whatever_is_given(tmp_path: Path) -> None:
    v = eight_bit()
    path = write_geotiff(tmp_path / "eight.tif", v)
    img, result = seen(path, radiometry="display")
    assert np.array_equal(img, np.moveaxis(v, 0, -1))
    assert result.radiometry is None


def test_detect_file_refuses_an_unknown_radiometry(tmp_path: Path) -> None:
    path = write_geotiff(tmp_path / "eight.tif", eight_bit())
    with pytest.raises(InputError, match=r"give 'linear'.*or 'display'"):
        detect_file(path, detector=Recorder(), radiometry="gamma")


def test_cli_detect_radiometry_reaches_the_detector_and_the_geojson(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    det = Recorder()
    monkeypatch.setattr(registry, "get_detector", lambda name="default": det)
    v = eight_bit()
    path = write_geotiff(tmp_path / "visual16.tif", v.astype(np.uint16) * 257)
    out = tmp_path / "out.geojson"

    assert main(["detect", str(path), "-o", str(out), "--radiometry", "display", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["radiometry"] == "display"
    assert json.loads(out.read_text())["radiometry"] == "display"
    assert np.abs(det.tiles[-1].astype(int) - np.moveaxis(v, 0, -1).astype(int)).max() <= 1

    assert main(["detect", str(path), "-o", str(out)]) == 0
    assert json.loads(out.read_text())["radiometry"] == "linear"

    # an 8-bit image: read as it is, said so, nothing recorded
    eight = write_geotiff(tmp_path / "eight.tif", v)
    assert main(["detect", str(eight), "-o", str(out), "--radiometry", "display"]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "eight.tif is an 8-bit image, read as it is" in err
    assert "radiometry" not in json.loads(out.read_text())


def test_cli_detect_refuses_a_bad_radiometry_before_reading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_geotiff(tmp_path / "eight.tif", eight_bit())
    assert main(["detect", str(path), "--radiometry", "srgb"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "--radiometry 'srgb': give 'linear'" in err
    assert not (tmp_path / "eight.detections.geojson").exists()


def test_cli_eval_detector_reads_images_with_the_radiometry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``railwatch eval --detector`` read held-out 16-bit display images as linear."""
    det = Recorder()
    monkeypatch.setattr(registry, "get_detector", lambda name="default": det)
    v = eight_bit()
    write_geotiff(tmp_path / "visual16.tif", v.astype(np.uint16) * 257)
    empty: dict[str, Any] = {"type": "FeatureCollection", "features": [], "crs": None}
    (tmp_path / "visual16.truth.geojson").write_text(json.dumps(empty))
    argv = ["eval", "--truth", str(tmp_path), "--detector", "x", "--json"]
    assert main([*argv, "--radiometry", "display"]) == 0
    assert np.abs(det.tiles[-1].astype(int) - np.moveaxis(v, 0, -1).astype(int)).max() <= 1
    assert main(argv) == 0  # linear by default: stretched and brightened
    assert det.tiles[-1].astype(float).mean() > np.moveaxis(v, 0, -1).mean() + 25
    capsys.readouterr()
    assert main(["eval", "--truth", str(tmp_path), "--pred", str(tmp_path), "--radiometry",
                 "display"]) != 0  # fmt: skip
    assert "--radiometry says how --detector reads the images" in capsys.readouterr().err
