"""`railwatch detect FILE` (``detect_file``) reads the no data of a file as the pipeline
does (session 24 follow-up).

Session 24 taught ingest and the site window (``imagery.read``) two kinds of no data
GDAL does not report (its mask flags say ``all_valid``): the last band of an RGBA TIFF
without ExtraSamples (``inspect.undeclared_alpha``) and the transparent entries of a
colour table (``inspect.transparent_entries``). ``detect_file`` read its own mask from
GDAL, so it detected cars in the transparent area of such an RGBA file; a colour-table image was
detected on its indexes read as grey levels, not on its colours.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from imagery_helpers import ORIGIN_X, write_geotiff, yard_scene
from railwatch.detect.api import detect_file
from railwatch.detect.base import Detection
from test_imagery_qa24_palette import _palette_vrt

SIZE = 200
CUT = 80  # columns 0-79 are transparent


class Spy:
    """A detector that keeps the tiles and masks it is given and finds nothing."""

    name = "spy"
    version = "1"

    def __init__(self) -> None:
        self.seen: list[tuple[np.ndarray, np.ndarray | None]] = []

    def detect(self, image: np.ndarray, gsd: float, valid: np.ndarray | None = None) -> list[Any]:
        self.seen.append((image.copy(), None if valid is None else valid.copy()))
        return []


def _rgba(path: Path, *, size: int = SIZE, cut: int = CUT, nir: bool = False) -> Path:
    rgb = yard_scene(size, size, seed=3)
    rgb[:, :, :cut] = 240  # the transparent area's fill: white, as many tools write it
    last = np.full((1, size, size), 255, "uint8")
    last[:, :, :cut] = 0
    if nir:
        last = (rgb[:1] // 2 + 30).astype("uint8")  # a near-infrared band, no alpha
    return write_geotiff(path, np.concatenate([rgb, last]), photometric="RGB")


def _spy(path: Path) -> tuple[Any, list[tuple[np.ndarray, np.ndarray | None]]]:
    spy = Spy()
    result = detect_file(path, detector=spy, workers=1)
    return result, spy.seen


def test_the_transparent_area_of_an_rgba_without_extrasamples_is_no_data(
    tmp_path: Path,
) -> None:
    result, seen = _spy(_rgba(tmp_path / "rgba.tif"))
    assert result.bands == (1, 2, 3)  # the alpha band is not read as colour
    ((_, valid),) = seen
    assert valid is not None  # was None: every pixel valid
    assert not valid[:, :CUT].any() and valid[:, CUT:].all()


def test_no_car_is_detected_in_the_transparent_area(tmp_path: Path) -> None:
    """The shipped detector, on cars drawn under the transparent area: none found there
    (there were about as many as in the rest of the image)."""
    path = _rgba(tmp_path / "cars.tif", size=2 * SIZE, cut=0)
    everywhere = detect_file(path, workers=1).detections
    assert any(_column(d) < 2 * CUT for d in everywhere)  # the detector sees cars there
    data = yard_scene(2 * SIZE, 2 * SIZE, seed=3)
    alpha = np.full((1, 2 * SIZE, 2 * SIZE), 255, "uint8")
    alpha[:, :, : 2 * CUT] = 0
    cut = write_geotiff(tmp_path / "cut.tif", np.concatenate([data, alpha]), photometric="RGB")
    found = detect_file(cut, workers=1).detections
    assert found and all(_column(d) >= 2 * CUT for d in found)


def _column(d: Detection) -> float:
    return (d.box.cx - ORIGIN_X) / 0.5


def test_a_near_infrared_fourth_band_is_no_alpha(tmp_path: Path) -> None:
    _, seen = _spy(_rgba(tmp_path / "rgbn.tif", nir=True))
    assert all(valid is None for _, valid in seen)


def test_a_colour_table_is_read_as_its_colours_its_transparent_entries_no_data(
    tmp_path: Path,
) -> None:
    path = _palette_vrt(tmp_path, {0: 0, 1: 0})  # columns 0-159 hold entries 0 and 1
    _, seen = _spy(path)
    ((image, valid),) = seen
    i = 206  # the image's index at row 5, column 200; entry i is (i, 255 - i, 7 i mod 256)
    assert tuple(image[5, 200]) == (i, 255 - i, (i * 7) % 256)  # was (206, 206, 206)
    assert valid is not None and not valid[:, :160].any() and valid[:, 160:].all()


def test_a_colour_table_without_transparent_entries_masks_nothing(tmp_path: Path) -> None:
    _, seen = _spy(_palette_vrt(tmp_path, {}))
    assert all(valid is None for _, valid in seen)
