"""Faults found walking through railwatch as a new analyst on a site of one's own
(session 41, helper G): each test failed before its fix."""

from __future__ import annotations

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


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_a_picture_keeps_its_screenshot_advice(tmp_path: Path, suffix: str) -> None:
    from PIL import Image

    path = tmp_path / f"screenshot_2023-10-05{suffix}"
    Image.fromarray(np.moveaxis(yard_scene(64, 64), 0, -1)).save(path)
    with pytest.raises(NotGeoreferencedError, match="use `railwatch detect --gsd` for"):
        inspect_scene(path)
