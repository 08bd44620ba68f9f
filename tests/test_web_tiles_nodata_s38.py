"""Map tiles of a STAC scene whose item declares a nodata value the file does not
(``stac_nodata``, kept by ``ingest-stac`` since session 38): the fill is transparent, as
``process`` reads it, and the tile's ETag holds the value, so a scene that takes it at a
later ``ingest-stac`` is drawn anew (not answered ``304`` with the old tile)."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("rio_tiler")

from PIL import Image

from imagery_helpers import image_box_wgs84, write_geotiff
from railwatch.web.routes import tiles

SIZE = 256
FILL = 7


def _centre_tile(z: int) -> tuple[int, int, int]:
    c = image_box_wgs84(0, 0, SIZE, SIZE).centroid
    x = int((c.x + 180) / 360 * 2**z)
    y = int((1 - math.asinh(math.tan(math.radians(c.y))) / math.pi) / 2 * 2**z)
    return z, x, y


def _alpha(png: bytes | None) -> np.ndarray:
    assert png is not None
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))[..., 3].astype(int)


@pytest.mark.parametrize("zoom", [18, 12])  # rio-tiler's full read; the decimated one
def test_the_items_nodata_is_transparent_in_the_tiles(tmp_path: Path, zoom: int) -> None:
    tiles._render_params.cache_clear()
    rng = np.random.default_rng(3)
    data = rng.integers(60, 200, size=(3, SIZE, SIZE), dtype=np.uint8)
    data[:, :, : SIZE // 2] = FILL  # the west half: the fill
    path = str(write_geotiff(tmp_path / "a.tif", data))
    z, x, y = _centre_tile(zoom)
    plain = _alpha(tiles.render_tile(path, z, x, y))
    got = _alpha(tiles.render_tile(path, z, x, y, item_nodata=FILL))
    shown = plain > 0
    assert shown.any()
    # about the west half of the image is transparent now, the rest as it was
    assert 0.3 < ((got == 0) & shown).sum() / shown.sum() < 0.7
    assert not (got > plain).any()


def test_the_tiles_etag_holds_the_items_nodata() -> None:
    args = (1, "a.tif", "h", None, None, "linear", (18, 1, 2), None)
    assert tiles.tile_etag(*args) == tiles.tile_etag(*args, None)  # as before session 38
    assert tiles.tile_etag(*args, 7.0) != tiles.tile_etag(*args)
