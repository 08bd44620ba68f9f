"""``railwatch detect`` on several images: a bad one never stops the batch, and two
images that would write the same GeoJSON file are refused before any detection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from imagery_helpers import write_geotiff
from railwatch.cli.main import main


def rgb(h: int, w: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, (3, h, w), dtype=np.uint8)


def test_a_bad_image_does_not_stop_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = write_geotiff(tmp_path / "first.tif", rgb(64, 64))
    tiny = write_geotiff(tmp_path / "tiny.tif", rgb(1, 1))
    last = write_geotiff(tmp_path / "last.tif", rgb(64, 64))
    out = tmp_path / "out"
    assert main(["detect", str(first), str(tiny), str(last), "--out-dir", str(out)]) == 1
    captured = capsys.readouterr()
    err = " ".join(captured.err.split())
    assert "error: tiny.tif: the image is 1 × 1 px" in err
    assert "1 of 3 images could not be detected (tiny.tif: see above); the other 2 were" in err
    assert sorted(p.name for p in out.iterdir()) == [
        "first.detections.geojson",
        "last.detections.geojson",
    ]
    # the table, then where the files went (whitespace left out: the console wraps)
    assert "Railcarsdetected" in "".join(captured.out.split())
    assert f"wrote2GeoJSONfilesto{out}" in "".join(captured.out.split())

    # --json: one row per image, the failed one with its reason
    assert main(["detect", str(tiny), str(first), "--out-dir", str(out), "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert [Path(r["image"]).name for r in rows] == ["first.tif", "tiny.tif"]
    assert "total" in rows[0] and "error" not in rows[0]
    assert "smaller than one railcar" in rows[1]["error"] or "too few" in rows[1]["error"]

    # every image bad: nothing written, and the command says so
    assert main(["detect", str(tiny), str(tiny), "--out-dir", str(tmp_path / "none")]) == 2
    # one image given twice is said so (it was "tiny.tif and tiny.tif would both be
    # written" until session 39: tests/test_detect_cli_s39.py)
    assert f"{tiny} is given twice: give it once" in capsys.readouterr().err
    other = write_geotiff(tmp_path / "other.tif", rgb(1, 2))
    assert main(["detect", str(tiny), str(other), "--out-dir", str(tmp_path / "none")]) == 1
    assert "nothing was written" in " ".join(capsys.readouterr().err.split())
    assert not (tmp_path / "none").exists() or not any((tmp_path / "none").iterdir())


def test_one_bad_image_alone_is_an_error_as_before(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tiny = write_geotiff(tmp_path / "tiny.tif", rgb(1, 1))
    assert main(["detect", str(tiny)]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert err.startswith("error: tiny.tif: the image is 1 × 1 px")
    assert "could not be detected" not in err


@pytest.mark.parametrize("names", [("a/scene.tif", "b/scene.tif"), ("scene.tif", "scene.png")])
def test_images_that_would_write_one_file_are_refused_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], names: tuple[str, str]
) -> None:
    paths = []
    for name in names:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        paths.append(write_geotiff(path, rgb(64, 64)))
    out = tmp_path / "out"
    assert main(["detect", *map(str, paths), "--out-dir", str(out)]) == 2
    err = "".join(capsys.readouterr().err.split())  # the console wraps long paths
    assert f"{paths[0]}and{paths[1]}wouldbothbewrittento" in err
    assert "scene.detections.geojson" in err
    assert not out.exists()  # refused before any detection


def test_a_lost_crs_is_named_with_its_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A GeoTIFF with a geotransform but no CRS: not just "not georeferenced", but how
    to give it its CRS back."""
    path = write_geotiff(tmp_path / "nocrs.tif", rgb(64, 64), crs=None)
    assert main(["detect", str(path), "--no-scale-check"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "nocrs.tif is not georeferenced: give its ground sample distance" in err
    assert "--gsd METRES on the command line" in err
    assert "has a geotransform but no CRS: set one with `gdal_edit.py -a_srs EPSG:CODE" in err


def test_wgs84_without_georeferencing_fails_before_detecting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import Image

    import railwatch.detect.api as api

    png = tmp_path / "shot.png"
    Image.fromarray(rgb(64, 64).transpose(1, 2, 0)).save(png)

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("detection ran")

    monkeypatch.setattr(api, "detect_file", never)
    assert main(["detect", str(png), "--gsd", "0.5", "--wgs84"]) == 2
    assert "--wgs84 needs a georeferenced image" in capsys.readouterr().err


def test_presence_only_images_give_no_count_in_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_geotiff(tmp_path / "s2.tif", rgb(64, 64), res=12.0)
    assert main(["detect", str(path), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    # no --tracks: at 10 m the long-train flag is read along given centrelines only
    assert row["method"] == "presence" and row["present"] is None
    assert row["tracks"] == "found"
    assert row["total"] is None and row["low"] is None and row["high"] is None


def _stac_item(image: Path, elevation: float) -> None:
    """A STAC Item beside ``image`` that gives the sun's position."""
    item: dict[str, Any] = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": image.stem,
        "geometry": None,
        "properties": {
            "datetime": "2024-01-10T02:00:00Z",
            "view:sun_azimuth": 160.0,
            "view:sun_elevation": elevation,
        },
        "links": [],
        "assets": {"visual": {"href": image.name}},
    }
    image.with_suffix(".json").write_text(json.dumps(item))


def test_a_low_sun_says_shadows_may_be_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With the sun below 30 degrees (the image's metadata) detect notes that long shadows
    may be counted as cars; with a higher sun, or at 3 m (no boxes), it says nothing."""
    from railwatch.detect.api import detect_file

    low = write_geotiff(tmp_path / "low.tif", rgb(64, 64))
    _stac_item(low, 22.4)
    high = write_geotiff(tmp_path / "high.tif", rgb(64, 64))
    _stac_item(high, 52.0)
    coarse = write_geotiff(tmp_path / "coarse.tif", rgb(64, 64), res=3.0)
    _stac_item(coarse, 22.4)
    assert detect_file(low).sun_elevation == 22.4
    out = tmp_path / "out"
    assert main(["detect", str(low), str(high), str(coarse), "--out-dir", str(out)]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "low.tif: the sun was 22° high: cars cast long shadows" in err
    assert "high.tif: the sun" not in err and "coarse.tif: the sun" not in err
