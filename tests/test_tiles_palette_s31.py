"""Map tiles read a colour table by the one rule of every reader (session 31).

A palette index the table has no entry for is no data (``imagery.read.palette_colours``,
as GDAL expands it), transparent in a tile. Tiles built their own lookup of at least 256
rows and clamped the index into it: an 8-bit index past a 4-entry table was drawn
opaque black, a 16-bit one past 255 the colour of the lookup's last row.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("rio_tiler")

from PIL import Image
from pyproj import Transformer
from rio_tiler.io import Reader

from imagery_helpers import ORIGIN_X, ORIGIN_Y, UTM52, write_geotiff
from railwatch.web.routes import tiles

TO_WGS = Transformer.from_crs(UTM52, "EPSG:4326", always_xy=True)
SIZE = 600  # 300 m at 0.5 m: wide enough for a decimated tile at zoom 12
CUT = 300  # columns 0-299 hold an index past the table
COLOURS = [(200, 10, 10), (10, 200, 10), (10, 10, 200), (250, 250, 0)]


def _short_palette(folder: Path, past: int) -> Path:
    """A palette VRT (a GeoTIFF's table always has 2**bits entries) whose 4-entry table
    has no entry for ``past``, the index of columns 0-299; entries 0-3 elsewhere."""
    dtype = "uint16" if past > 255 else "uint8"
    index = (np.arange(SIZE * SIZE).reshape(SIZE, SIZE) % 4).astype(dtype)
    index[:, :CUT] = past
    write_geotiff(folder / "index.tif", index)
    entries = "".join(f'<Entry c1="{r}" c2="{g}" c3="{b}" c4="255"/>' for r, g, b in COLOURS)
    path = folder / "short_2024-05-01.vrt"
    path.write_text(
        f'<VRTDataset rasterXSize="{SIZE}" rasterYSize="{SIZE}"><SRS>{UTM52}</SRS>'
        f"<GeoTransform>{ORIGIN_X}, 0.5, 0, {ORIGIN_Y}, 0, -0.5</GeoTransform>"
        f'<VRTRasterBand dataType="{"UInt16" if past > 255 else "Byte"}" band="1">'
        f"<ColorInterp>Palette</ColorInterp><ColorTable>{entries}</ColorTable>"
        '<SimpleSource><SourceFilename relativeToVRT="1">index.tif</SourceFilename>'
        "<SourceBand>1</SourceBand></SimpleSource></VRTRasterBand></VRTDataset>\n",
        encoding="utf-8",
    )
    return path


def _tile_at(col: float, row: float, z: int) -> tuple[int, int, int, int, int]:
    """Tile z/x/y over pixel (col, row) of the image, and that pixel's place in it."""
    lon, lat = TO_WGS.transform(ORIGIN_X + col * 0.5, ORIGIN_Y - row * 0.5)
    fx = (lon + 180) / 360 * 2**z
    fy = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z
    x, y = int(fx), int(fy)
    return z, x, y, int((fx - x) * 256), int((fy - y) * 256)


def _pixel(path: Path, col: float, row: float, z: int) -> tuple[int, ...]:
    """RGBA of the tile pixel over image pixel (col, row)."""
    tz, x, y, px, py = _tile_at(col, row, z)
    png = tiles.render_tile(str(path), tz, x, y)
    assert png is not None
    rgba = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))
    return tuple(int(v) for v in rgba[py, px])


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    tiles._render_params.cache_clear()
    yield
    tiles._render_params.cache_clear()


@pytest.mark.parametrize("past", [9, 300])  # 8-bit past 4 entries; 16-bit past 255
@pytest.mark.parametrize(("z", "kind"), [(19, "full"), (12, "coarse")])
def test_an_index_the_table_has_no_entry_for_is_transparent(
    tmp_path: Path, past: int, z: int, kind: str
) -> None:
    path = _short_palette(tmp_path, past)
    tz, x, y, _, _ = _tile_at(CUT / 2, SIZE / 2, z)
    with Reader(str(path)) as src:
        assert tiles.tile_plan(src, x, y, tz).kind == kind
    assert _pixel(path, CUT / 2, SIZE / 2, z)[3] == 0  # was opaque black: ground
    shown = _pixel(path, CUT * 1.5, SIZE / 2, z)  # entries 0-3: their colours, opaque
    assert shown[3] == 255 and tuple(shown[:3]) in COLOURS


def test_the_table_shown_has_one_row_per_entry(tmp_path: Path) -> None:
    """The colours tiles draw are ``imagery.read.colour_table``'s (was padded to 256)."""
    params = tiles._render_params(str(_short_palette(tmp_path, 300)))
    assert params.palette == tuple(COLOURS)
    assert tiles.RENDERER_VERSION >= 3  # the tiles' pixels changed: new ETags
