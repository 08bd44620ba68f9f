"""Palette, sidecar and no-data follow-ups of label reading (session 31):

1. a palette index the colour table has no entry for is no data, black, as GDAL expands
   it (``gdal_translate -expand rgba``: colour 0, alpha 0), by one rule
   (``imagery.read.palette_colours``) in ingest's read, detect's windows and label
   reading; detect raised IndexError on it (a 16-bit index past a short table), the
   others clamped it to the last entry's colour;
2. import-labels writes a palette image through label reading's reader (a 16-bit
   palette TIFF, which PIL's ``convert("RGB")`` could not read right), its no data
   transparent;
3. label reading's sidecar ``NAME.json`` gives a top-level ``gsd``/``radiometry``, and
   ``properties.*`` only where it is a STAC item;
4. label reading keeps an image's no data (:attr:`LabelledImage.valid`) and training
   crops that are mostly no data are drawn again.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from PIL import Image
from rasterio.errors import NotGeoreferencedWarning
from rasterio.transform import from_origin

from railwatch.detect.base import Detection
from railwatch.detect.labels import (
    LabelledCar,
    LabelledImage,
    _sidecar_gsd,
    labelled_crops,
    load_labelled_dir,
)
from railwatch.errors import InputError
from railwatch.export.labels import import_labels
from railwatch.imagery.read import SiteGrid, read_site_window

SIZE = 64
PAST = 300  # an index past the 4-entry table
COLOURS = [(200, 10, 10), (10, 200, 10), (10, 10, 200), (250, 250, 0)]
X0, Y0, GSD = 500000.0, 4000000.0, 0.5


def _indexes(past: int = PAST) -> np.ndarray:
    index = np.arange(SIZE * SIZE, dtype=np.uint16).reshape(SIZE, SIZE) % 4
    index[8:24, 8:24] = past
    return index


def _short_palette(folder: Path, past: int = PAST) -> Path:
    """A palette image (a VRT: a GeoTIFF's table always has 2**bits entries, and
    libpng refuses to write an index past a PNG's) whose 4-entry colour table has no
    entry for the 16 x 16 block of ``past`` (16-bit above 255); georeferenced at 0.5 m."""
    dtype = "uint16" if past > 255 else "uint8"
    raw = folder / "index.tif"
    with rasterio.open(
        raw,
        "w",
        driver="GTiff",
        width=SIZE,
        height=SIZE,
        count=1,
        dtype=dtype,
        crs="EPSG:32633",
        transform=from_origin(X0, Y0, GSD, GSD),
    ) as dst:
        dst.write(_indexes(past).astype(dtype)[None])
    entries = "".join(f'<Entry c1="{r}" c2="{g}" c3="{b}" c4="255"/>' for r, g, b in COLOURS)
    vrt = folder / "yard.vrt"
    vrt.write_text(
        f'<VRTDataset rasterXSize="{SIZE}" rasterYSize="{SIZE}">'
        "<SRS>EPSG:32633</SRS>"
        f"<GeoTransform>{X0}, {GSD}, 0, {Y0}, 0, {-GSD}</GeoTransform>"
        f'<VRTRasterBand dataType="{"UInt16" if past > 255 else "Byte"}" band="1">'
        "<ColorInterp>Palette</ColorInterp>"
        f"<ColorTable>{entries}</ColorTable>"
        '<SimpleSource><SourceFilename relativeToVRT="1">index.tif</SourceFilename>'
        "<SourceBand>1</SourceBand></SimpleSource></VRTRasterBand></VRTDataset>",
        encoding="utf-8",
    )
    return vrt


def _expected_rgb() -> np.ndarray:
    index = _indexes()
    out = np.asarray(COLOURS, np.uint8)[np.where(index == PAST, 0, index)]
    out[index == PAST] = 0
    return out


class _Recorder:
    """A detector that keeps the tiles and valid masks detect hands it."""

    name = "recorder"
    version = "1"
    tile_px = 4096  # one window for the whole image

    def __init__(self) -> None:
        self.tiles: list[np.ndarray] = []
        self.valid: list[np.ndarray | None] = []

    def detect(
        self, image: np.ndarray, gsd: float, valid: np.ndarray | None = None
    ) -> list[Detection]:
        self.tiles.append(np.array(image))
        self.valid.append(None if valid is None else np.array(valid))
        return []


# ----------------------------------------------------- 1. an index with no table entry


def test_detect_reads_an_index_past_a_short_table_as_no_data(tmp_path: Path) -> None:
    """It raised IndexError (index 300 of a 256-row lookup)."""
    from railwatch.detect.api import detect_file

    rec = _Recorder()
    detect_file(_short_palette(tmp_path), detector=rec, workers=1)
    (tile,) = rec.tiles
    (valid,) = rec.valid
    np.testing.assert_array_equal(tile, _expected_rgb())
    assert valid is not None
    np.testing.assert_array_equal(valid, _indexes() != PAST)


def test_ingest_read_takes_an_index_past_the_table_as_no_data(tmp_path: Path) -> None:
    """The pipeline's read clamped it to the last entry's colour, as ground."""
    grid = SiteGrid("EPSG:32633", Affine(GSD, 0, X0, 0, -GSD, Y0), SIZE, SIZE, GSD)
    got = read_site_window(_short_palette(tmp_path), grid)
    np.testing.assert_array_equal(got.valid, _indexes() != PAST)
    np.testing.assert_array_equal(got.image, _expected_rgb())


def test_label_reading_takes_an_index_past_the_table_as_no_data(tmp_path: Path) -> None:
    """Label reading clamped it to the last row of a 256-row lookup: black, but ground
    (a crop of it taught "no car here")."""
    from railwatch.detect.labels import read_label_image

    pixels, valid = read_label_image(_short_palette(tmp_path), SIZE, SIZE)
    np.testing.assert_array_equal(pixels, _expected_rgb())
    assert valid is not None
    np.testing.assert_array_equal(valid, _indexes() != PAST)


def test_an_8_bit_index_past_a_short_table_is_no_data_too(tmp_path: Path) -> None:
    """Index 9 of a 4-entry 8-bit table was black ground (a 256-row lookup padded with
    black); now it is no data, for detect and label reading alike."""
    from railwatch.detect.api import detect_file
    from railwatch.detect.labels import read_label_image

    path = _short_palette(tmp_path, past=9)
    pixels, valid = read_label_image(path, SIZE, SIZE)
    assert valid is not None
    np.testing.assert_array_equal(valid, _indexes(9) != 9)
    np.testing.assert_array_equal(pixels, _expected_rgb())
    rec = _Recorder()
    detect_file(path, detector=rec, workers=1)
    assert rec.valid[0] is not None
    np.testing.assert_array_equal(rec.valid[0], valid)


# ------------------------------------------------- 2. import-labels of a palette image


def _palette16(path: Path) -> np.ndarray:
    """A 16-bit palette GeoTIFF (no georeference) using indexes above 255, 1000 its
    nodata value (a TIFF's table has no alpha); its indexes."""
    index = np.full((SIZE, SIZE), 300, np.uint16)
    index[:, SIZE // 2 :] = 40000
    index[:8, :8] = 1000
    cmap = {300: (200, 10, 10, 255), 40000: (10, 10, 200, 255), 1000: (0, 0, 0, 0)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(
            path,
            "w",
            driver="GTiff",
            width=SIZE,
            height=SIZE,
            count=1,
            dtype="uint16",
            photometric="palette",
            nodata=1000,
        ) as dst:
            dst.write(index[None])
            dst.write_colormap(1, cmap)
    return index


def test_import_labels_writes_a_16_bit_palette_tiff_by_its_colours(tmp_path: Path) -> None:
    """PIL's convert("RGB") read a 16-bit palette TIFF wrongly (or not at all); the PNG
    now holds the table's colours as detect reads them, transparent where it has no
    data."""
    src = tmp_path / "src"
    (src / "images").mkdir(parents=True)
    (src / "labelTxt").mkdir()
    index = _palette16(src / "images" / "yard.tif")
    (src / "labelTxt" / "yard.txt").write_text("gsd:0.5\n20 20 48 20 48 26 20 26 gondola 0\n")
    import_labels(src, "dota", tmp_path / "out")
    png = np.asarray(Image.open(tmp_path / "out" / "images" / "yard.png"))
    assert png.shape == (SIZE, SIZE, 4)  # no data kept as alpha
    clear = index == 1000
    np.testing.assert_array_equal(png[..., 3], np.where(clear, 0, 255))
    assert (png[:, : SIZE // 2][~clear[:, : SIZE // 2]][:, :3] == (200, 10, 10)).all()
    assert (png[:, SIZE // 2 :, :3] == (10, 10, 200)).all()


# ------------------------------------------------------------------ 3. sidecar values


def _grey_png(path: Path) -> None:
    Image.fromarray(np.full((200, 200, 3), 128, np.uint8)).save(path)


def _truth(folder: Path, name: str) -> None:
    ring = [[50.0, 90.0], [78.0, 90.0], [78.0, 96.4], [50.0, 96.4], [50.0, 90.0]]
    fc = {
        "type": "FeatureCollection",
        "crs": None,
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {"class": "tank"},
            }
        ],
    }
    (folder / f"{name}.truth.geojson").write_text(json.dumps(fc), encoding="utf-8")


@pytest.mark.parametrize(
    ("doc", "gsd"),
    [
        ({"gsd": 0.5}, 0.5),  # labels' own sidecar
        ({"type": "Feature", "properties": {"gsd": 0.5}}, 0.5),  # a STAC item
        ({"stac_version": "1.0.0", "properties": {"gsd": 0.5}}, 0.5),
        ({"properties": {"gsd": 0.5}}, None),  # another tool's JSON: was 0.5
    ],
)
def test_sidecar_properties_are_read_only_from_a_stac_item(
    tmp_path: Path, doc: dict[str, object], gsd: float | None
) -> None:
    _grey_png(tmp_path / "a.png")
    (tmp_path / "a.json").write_text(json.dumps(doc))
    assert _sidecar_gsd(tmp_path / "a.png") == gsd


def test_label_reading_refuses_a_gsd_only_another_tools_json_gives(tmp_path: Path) -> None:
    _grey_png(tmp_path / "a.png")
    _truth(tmp_path, "a")
    (tmp_path / "a.json").write_text(json.dumps({"properties": {"gsd": 0.5}}))
    with pytest.raises(InputError, match="no ground sample distance"):
        load_labelled_dir(tmp_path)
    (tmp_path / "a.json").write_text(json.dumps({"type": "Feature", "properties": {"gsd": 0.5}}))
    assert load_labelled_dir(tmp_path).images[0].native_gsd == 0.5


def test_eval_takes_a_truths_gsd_by_the_same_rule(tmp_path: Path) -> None:
    """eval's labels-folder truth (``detect.eval.read_labelled_truth``, via
    ``_sidecar_gsd``): another tool's ``properties.gsd`` leaves the image without a gsd,
    left out saying so (it was scored at that gsd); a STAC item's is read."""
    from railwatch.detect.eval import read_labelled_truth

    (tmp_path / "images").mkdir()
    (tmp_path / "labelTxt").mkdir()
    _grey_png(tmp_path / "images" / "a.png")
    (tmp_path / "labelTxt" / "a.txt").write_text("20 20 48 20 48 26 20 26 gondola 0\n")
    side = tmp_path / "images" / "a.json"
    side.write_text(json.dumps({"properties": {"gsd": 0.5}}))
    with pytest.raises(InputError, match=r"a\.png \(no ground sample distance"):
        read_labelled_truth(tmp_path)
    side.write_text(json.dumps({"type": "Feature", "properties": {"gsd": 0.5}}))
    (scene,) = read_labelled_truth(tmp_path).scenes
    assert scene.features is not None and scene.features.gsd == 0.5


# ------------------------------------------------------ 4. no data in labelled images


def _rgba_png(path: Path) -> np.ndarray:
    """A grey 200 x 200 PNG whose left 3/4 is transparent; the transparent area."""
    rgba = np.full((200, 200, 4), 128, np.uint8)
    rgba[..., 3] = 255
    rgba[:, :150, 3] = 0
    Image.fromarray(rgba).save(path)
    return rgba[..., 3] == 0


def test_label_reading_keeps_an_images_no_data(tmp_path: Path) -> None:
    """Transparent pixels were read as grey ground, training as "no car here"."""
    clear = _rgba_png(tmp_path / "a.png")
    _truth(tmp_path, "a")
    (tmp_path / "a.json").write_text(json.dumps({"gsd": 0.4}))  # stored as it is
    (item,) = load_labelled_dir(tmp_path).images
    assert item.valid is not None
    np.testing.assert_array_equal(item.valid, ~clear)
    assert (item.image[clear] == 0).all()  # black, as detect reads it


def test_mostly_no_data_crops_are_drawn_again() -> None:
    """Crops of an image half no data (its left half): random crops were about half no
    data on average, many of them mostly; now a crop more than a quarter no data is
    drawn again (until one is not, up to NODATA_REDRAWS times)."""
    from railwatch.detect.labels import MAX_NODATA_SHARE

    width, height = 1200, 400
    image = np.full((height, width, 3), 128, np.uint8)
    valid = np.ones((height, width), bool)
    valid[:, : width // 2] = False
    image[~valid] = 0
    ring = np.array([[900.0, 200.0], [928.0, 200.0], [928.0, 206.4], [900.0, 206.4]])
    item = LabelledImage(
        name="a",
        image_path=Path("a.png"),
        label_path=Path("a.truth.geojson"),
        image=image,
        gsd=0.5,
        native_gsd=0.5,
        cars=(LabelledCar(ring, "tank", False),),
        valid=valid,
    )
    rng = np.random.default_rng(5)
    crops = [c for _ in range(8) for c in labelled_crops(item, rng, (0.5, 0.5), focus=0.0)]
    assert len(crops) == 32 and all(crop.shape[2] == 3 for crop, _ in crops)
    shares = np.array([(crop.max(axis=2) < 20).mean() for crop, _ in crops])
    assert (shares > MAX_NODATA_SHARE + 0.02).mean() <= 1 / 8
    assert shares.mean() < 0.2
