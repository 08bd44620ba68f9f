"""`railwatch detect FILE` reads a file's undeclared black fill as no data, as the
pipeline does (session 24, second follow-up).

A file that declares neither a nodata value nor an alpha band has its black fill (0 in
every band over at least 400 m²: the corners of a rotated scene, a blanked area) read as
no data by ``imagery.read.read_site_window`` (``undeclared_fill``), so ``process`` never
reads it as empty ground; ``detect_file`` gave it to the detector as valid image: an
image all black was "0 railcars" for ``detect`` and unusable for ``process``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from imagery_helpers import image_box_wgs84, write_geotiff, yard_scene
from railwatch.detect.api import detect_file
from railwatch.imagery import inspect_scene, read_site_window, site_grid
from railwatch.imagery.inspect import EmptyImageError
from test_followup_qa24_detect_masks import Spy

SIZE = 400  # 200 m at 0.5 m
CUT = 120  # columns 0-119 black: 60 m x 200 m, far above 400 m²


def _filled(path: Path, *, nodata: float | None = None) -> Path:
    data = yard_scene(SIZE, SIZE, seed=5)
    data[:, :, :CUT] = 0
    data[:, 300:320, 300:320] = 0  # a black patch of 10 m x 10 m: 100 m², real ground
    return write_geotiff(path, data, nodata=nodata)


def _spy(path: Path, **kwargs: object) -> np.ndarray:
    spy = Spy()
    detect_file(path, detector=spy, workers=1, **kwargs)  # type: ignore[arg-type]
    masks = [v if v is not None else np.ones(img.shape[:2], bool) for img, v in spy.seen]
    assert len(masks) == 1
    return masks[0]


def test_black_fill_of_a_file_without_nodata_is_no_data(tmp_path: Path) -> None:
    path = _filled(tmp_path / "fill_2024-05-01.tif")
    valid = _spy(path)
    assert not valid[:, :CUT].any()  # was all valid: black read as empty ground
    assert valid[:, CUT:].all()  # the small black patch is ground, as for the pipeline
    # the pipeline's site window says the same
    site = image_box_wgs84(10, 10, SIZE - 10, SIZE - 10)
    info = inspect_scene(path)
    raster = read_site_window(info.uri, site_grid(site, info.gsd), site_geom=site)
    cols = raster.valid.shape[1]
    edge = round(cols * (CUT - 10) / (SIZE - 20))
    assert not raster.valid[:, : edge - 2].any() and raster.valid[:, edge + 2 :].all()


def test_a_declared_nodata_keeps_its_own_meaning(tmp_path: Path) -> None:
    """A file that declares a nodata value (here 255): its black is image, as the
    pipeline reads it."""
    path = _filled(tmp_path / "declared.tif", nodata=255)
    assert _spy(path).all()


def test_a_fill_cut_by_a_window_edge_is_still_fill(tmp_path: Path) -> None:
    """A black strip 3 m wide down the whole image (600 m²: fill for the pipeline) is
    cut by 256 px tiles into parts of 384 m² each; it is measured with what lies around
    the tile, so it stays fill in every tile."""
    data = yard_scene(SIZE, SIZE, seed=5)
    data[:, :, 100:106] = 0
    path = write_geotiff(tmp_path / "strip.tif", data)
    spy = Spy()
    detect_file(path, detector=spy, workers=1, tile_px=256)
    heights = {img.shape[0] for img, _ in spy.seen}
    assert len(spy.seen) > 1 and max(heights) * 0.5 * 3 < 400  # each part under 400 m²
    over = [(img, valid) for img, valid in spy.seen if (img[:, 100:106] == 0).all()]
    assert len(over) >= 2  # the tiles of the first column, one above the other
    for img, valid in over:
        black = (img == 0).all(axis=2)
        assert valid is not None and not (valid & black).any()


def test_an_all_black_image_has_no_valid_pixels(tmp_path: Path) -> None:
    """``process`` reads it as no data (unusable); ``detect`` said 0 railcars."""
    path = write_geotiff(tmp_path / "black.tif", np.zeros((3, SIZE, SIZE), np.uint8))
    with pytest.raises(EmptyImageError, match="no valid pixels"):
        detect_file(path, workers=1)
