"""``railwatch detect`` on a GeoTIFF in a geographic CRS: its pixels are not square on
the ground; the object detector reads it resampled to square pixels (since session 29)
and the command says so, with the ``gdalwarp`` line for exact rectangles."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import make_geotiff
from railwatch.cli.main import main


def test_geographic_pixels_get_a_note_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """At 42.4 N a 5.3e-6 degree pixel is 0.44 x 0.59 m: until session 29 the detector ran
    on it as 0.51 m square pixels (F1@0.3 0.85 against 0.93 for the same scene in UTM)."""
    img = make_geotiff(
        tmp_path / "geo.tif", crs="EPSG:4326", origin=(130.60, 42.424), gsd=5.3e-6,
        width=400, height=300,
    )  # fmt: skip
    main(["detect", str(img), "-o", str(tmp_path / "geo.geojson")])
    err = " ".join(capsys.readouterr().err.split())
    assert "geo.tif (EPSG:4326) has pixels 0.44 x 0.59 m on the ground, not square" in err
    assert "gdalwarp -t_srs EPSG:32652" in err and "railwatch process" in err


def test_projected_square_pixels_get_no_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    img = make_geotiff(tmp_path / "utm.tif", width=400, height=300)
    main(["detect", str(img), "-o", str(tmp_path / "utm.geojson")])
    assert "not square" not in capsys.readouterr().err


def test_gsd_far_from_the_georeferencing_gets_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--gsd overrides a GeoTIFF's own pixel size; 3 m on a 0.5 m image made the detector
    look for cars six times too large without a word (on a real 0.5 m scene it reports
    occupied length instead of cars). Near the file's own scale, or with
    --no-scale-check, nothing is said."""
    img = make_geotiff(tmp_path / "utm.tif", width=400, height=300)  # 0.5 m pixels
    main(["detect", str(img), "--gsd", "3", "-o", str(tmp_path / "a.geojson")])
    err = " ".join(capsys.readouterr().err.split())
    assert "is georeferenced at 0.5 m per pixel on the ground, and --gsd 3 overrides" in err
    assert "Leave --gsd out" in err
    main(["detect", str(img), "--gsd", "0.55", "-o", str(tmp_path / "b.geojson")])
    assert "overrides" not in capsys.readouterr().err
    main(["detect", str(img), "--gsd", "3", "--no-scale-check", "-o", str(tmp_path / "c.geojson")])
    assert "overrides" not in capsys.readouterr().err
