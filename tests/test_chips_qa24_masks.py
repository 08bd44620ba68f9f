"""Image chips of an RGBA TIFF without ExtraSamples and of a colour-table image
(session 24's chips follow-up).

Since session 24 the pipeline reads an alpha band the file does not declare
(``imagery.inspect.undeclared_alpha``) and a colour table's transparent entries
(``inspect.transparent_entries``) as no data, and a colour table as its colours. The
label export's chips (``export-labels``) read the file's own pixels with GDAL's mask,
which knows neither: a transparent area was chip pixels of ground (its fill, here
white, with a 16-bit image's stretch measured on it too) and a colour-table image was
its indexes as grey levels. Report chips (and their before/after pairs) read the site
window as the pipeline does; they are checked here too.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import pytest
from PIL import Image

from imagery_helpers import ORIGIN_X, ORIGIN_Y, image_box_wgs84, write_geotiff, yard_scene
from railwatch.export.label_chips import scene_chips
from railwatch.imagery import read_site_window, site_grid
from railwatch.report.charts import to_png
from railwatch.report.chips import chip_figure
from railwatch.report.model import ChipImage
from railwatch.storage.models import Scene

SIZE = 400
CUT = 200  # columns 0-199 are transparent
#: Transparent entries of the colour table (their colour is white: not to be drawn).
CLEAR = (200, 201)
SITE = image_box_wgs84(10, 10, SIZE - 10, SIZE - 10)


def _rgba(tmp_path: Path, dtype: str) -> Path:
    """An RGBA GeoTIFF without ExtraSamples, its left half transparent and filled white
    (as many tools fill it)."""
    top = 65535 if dtype == "uint16" else 255
    rgb = yard_scene(SIZE, SIZE).astype(dtype) * (257 if dtype == "uint16" else 1)
    rgb[:, :, :CUT] = round(top * 0.94)
    alpha = np.full((1, SIZE, SIZE), top, dtype)
    alpha[:, :, :CUT] = 0
    return write_geotiff(tmp_path / "rgba.tif", np.concatenate([rgb, alpha]), photometric="RGB")


def _colour(i: int) -> tuple[int, int, int]:
    """Entry ``i``'s colour (white for the transparent ones): no grey level."""
    return (255, 255, 255) if i in CLEAR else (i, 255 - i, (i * 7) % 256)


def _palette(tmp_path: Path, *, clear: bool = True) -> Path:
    """A colour-table VRT: columns 0-199 entries 200 and 201 (transparent when
    ``clear``), the rest entries 2-199."""
    index = np.random.default_rng(0).integers(2, 200, (SIZE, SIZE)).astype("uint8")
    index[:, : CUT // 2] = CLEAR[0]
    index[:, CUT // 2 : CUT] = CLEAR[1]
    write_geotiff(tmp_path / "index.tif", index)
    entries = "".join(
        f'<Entry c1="{r}" c2="{g}" c3="{b}" c4="{0 if clear and i in CLEAR else 255}"/>'
        for i in range(256)
        for r, g, b in [_colour(i)]
    )
    path = tmp_path / "palette.vrt"
    path.write_text(
        f'<VRTDataset rasterXSize="{SIZE}" rasterYSize="{SIZE}"><SRS>EPSG:32652</SRS>'
        f"<GeoTransform>{ORIGIN_X}, 0.5, 0, {ORIGIN_Y}, 0, -0.5</GeoTransform>"
        '<VRTRasterBand dataType="Byte" band="1"><ColorInterp>Palette</ColorInterp>'
        f"<ColorTable>{entries}</ColorTable><SimpleSource>"
        '<SourceFilename relativeToVRT="1">index.tif</SourceFilename>'
        "<SourceBand>1</SourceBand></SimpleSource></VRTRasterBand></VRTDataset>\n",
        encoding="utf-8",
    )
    return path


def _label_chip(path: Path) -> tuple[np.ndarray, int]:
    """The one label chip (RGB) of the scene at ``path`` over the site, and the column
    of the chip where the image's column :data:`CUT` is."""
    scene = SimpleNamespace(
        id=1,
        uri=str(path),
        crs="EPSG:32652",
        meta={},
        acquired_at=datetime(2024, 5, 1, tzinfo=UTC),
        gsd=0.5,
    )
    ((label, rgb),) = scene_chips(cast(Scene, scene), [], SITE, "yard", 1024)
    col_off = int(label.meta["col_off"])
    assert 5 < col_off < 15 and rgb.shape[1] > 370
    return rgb, CUT - col_off


# --- label chips -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["uint8", "uint16"])
def test_a_label_chip_leaves_out_what_an_undeclared_alpha_makes_transparent(
    tmp_path: Path, dtype: str
) -> None:
    rgb, cut = _label_chip(_rgba(tmp_path, dtype))
    clear, ground = rgb[:, :cut], rgb[:, cut:]
    # no data, as a declared alpha or nodata is in a chip (was the white fill: ground)
    assert not clear.any()
    assert ground.any(axis=2).mean() > 0.8
    if dtype == "uint16":
        # the ground keeps its contrast: the stretch is measured on the ground only
        # (with the white fill counted it was squeezed into the lower grey levels)
        assert np.percentile(ground, 99.9) > 240


def test_a_label_chip_draws_a_colour_table_in_its_colours(tmp_path: Path) -> None:
    rgb, cut = _label_chip(_palette(tmp_path))
    assert not rgb[:, :cut].any()  # transparent entries (were white, or grey 200)
    shown = rgb[:, cut:].reshape(-1, 3).astype(int)
    # entry i is (i, 255 - i, 7 i mod 256): its colour, not its index as a grey level
    assert (shown[:, 0] + shown[:, 1] == 255).all()
    assert (shown[:, 2] == shown[:, 0] * 7 % 256).all()
    # a table without transparent entries is drawn whole, white where it says white
    (tmp_path / "opaque").mkdir()
    opaque, cut = _label_chip(_palette(tmp_path / "opaque", clear=False))
    assert (opaque[:, :cut] == 255).all()


# --- report chips ------------------------------------------------------------------------


def _report_chip_pixels(path: Path) -> np.ndarray:
    """A report chip of the site window of ``path`` as drawn (RGB of its PNG), cut to the
    image area of its axes."""
    grid = site_grid(SITE, 0.5)
    raster = read_site_window(str(path), grid, site_geom=SITE)
    chip = ChipImage(
        image=raster.image,
        valid=raster.valid,
        gsd=grid.gsd,
        detections=(),
        title="Alert image",
        caption=("count 0",),
        window=(0, grid.height, 0, grid.width),
        crs=grid.crs,
        transform=grid.transform,
    )
    fig = chip_figure(chip)
    (ax,) = fig.axes
    ax.set_title("")
    ax.set_xlabel("")
    for artist in [*ax.artists, *ax.texts, *ax.patches, *ax.lines]:
        artist.remove()  # scale bar, north arrow: keep only the image
    png = to_png(fig, dpi=100)
    bbox = ax.get_window_extent()
    height = fig.get_figheight() * 100
    pixels: Any = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    # 3 px in from the axes' edges, clear of their frame's anti-aliasing (2 px until
    # 2026-12-07, session 45: the legend's "no image data" moved the frame 1 px)
    r0, r1 = int(height - bbox.y1) + 3, int(height - bbox.y0) - 3
    c0, c1 = int(bbox.x0) + 3, int(bbox.x1) - 3
    return np.asarray(pixels[r0:r1, c0:c1])


@pytest.mark.parametrize("kind", ["rgba", "palette"])
def test_a_report_chip_shows_transparent_areas_as_no_image(tmp_path: Path, kind: str) -> None:
    path = _rgba(tmp_path, "uint8") if kind == "rgba" else _palette(tmp_path)
    shown = _report_chip_pixels(path)
    width = shown.shape[1]
    clear = shown[:, : width * (CUT - 10) // 380 - 3].reshape(-1, 3)
    ground = shown[:, width * (CUT - 10) // 380 + 3 :].reshape(-1, 3).astype(int)
    # the axes' background (#d9d9d9), where no image is: not white nor black ground
    assert (np.abs(clear.astype(int) - 0xD9) <= 2).all()
    if kind == "palette":  # colours, not grey levels
        assert (np.ptp(ground, axis=1) > 40).mean() > 0.5
