"""Label reading reads an image's pixels as ``railwatch detect`` sees them (session 31):

* a palette (colour-table) image is read as its colours, not its indexes as grey
  (detect's rule, ``detect.api.file_reading``);
* the stretch range of a 16-bit image is measured with the image's gsd, so a black
  border of an image without georeference is left out of it as ``detect --gsd`` leaves
  it out;
* ``eval`` reads a truth's gsd from the JSON beside it only where that is a STAC item,
  by the one sidecar rule (``imagery.inspect.sidecar_json``).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
from PIL import Image
from rasterio.errors import NotGeoreferencedWarning

from railwatch.detect.base import Detection
from railwatch.detect.labels import _read_pixels, load_labelled_dir
from railwatch.errors import InputError

RING = [[50.0, 90.0], [78.0, 90.0], [78.0, 96.4], [50.0, 96.4], [50.0, 90.0]]


def _truth(folder: Path, name: str, gsd: float | None = 0.5) -> None:
    fc: dict[str, object] = {
        "type": "FeatureCollection",
        "crs": None,
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [RING]},
                "properties": {"class": "tank"},
            }
        ],
    }
    if gsd is not None:
        fc["gsd"] = gsd
    (folder / f"{name}.truth.geojson").write_text(json.dumps(fc), encoding="utf-8")


class _Recorder:
    """A detector that keeps the tiles detect hands it (and finds nothing)."""

    name = "recorder"
    version = "1"
    tile_px = 4096  # one window for the whole image

    def __init__(self) -> None:
        self.tiles: list[np.ndarray] = []

    def detect(
        self, image: np.ndarray, gsd: float, valid: np.ndarray | None = None
    ) -> list[Detection]:
        self.tiles.append(np.array(image))
        return []


def _detect_pixels(path: Path, gsd: float | None) -> np.ndarray:
    from railwatch.detect.api import detect_file

    rec = _Recorder()
    detect_file(path, gsd=gsd, detector=rec, workers=1)
    (tile,) = rec.tiles
    return tile


def _palette_png(path: Path) -> np.ndarray:
    """A 200 x 200 palette PNG whose index is not its brightness; its RGB pixels."""
    rng = np.random.default_rng(3)
    index = rng.integers(0, 4, size=(200, 200), dtype=np.uint8)
    colours = np.array([[200, 10, 10], [10, 200, 10], [10, 10, 200], [250, 250, 0]], np.uint8)
    im = Image.fromarray(index, mode="P")
    im.putpalette(colours.ravel().tolist() + [0] * (768 - colours.size))
    im.save(path)
    return colours[index]


def test_a_palette_image_is_read_as_its_colours(tmp_path: Path) -> None:
    rgb = _palette_png(tmp_path / "a.png")
    _truth(tmp_path, "a")
    (item,) = load_labelled_dir(tmp_path).images
    assert item.image.shape == (200, 200, 3)
    # before: the indexes 0..3 as grey
    assert np.array_equal(item.image, rgb)
    assert np.array_equal(item.image, _detect_pixels(tmp_path / "a.png", 0.5))


def test_a_palette_image_read_smaller_is_its_colours_averaged(tmp_path: Path) -> None:
    rgb = _palette_png(tmp_path / "a.png")
    got = _read_pixels(tmp_path / "a.png", 100, 100)
    want = rgb.reshape(100, 2, 100, 2, 3).astype(np.float64).mean(axis=(1, 3))
    assert got.shape == (100, 100, 3)
    assert np.abs(got.astype(np.float64) - want).max() <= 1.0


def test_a_16bit_palette_tiff_is_read_as_its_colours(tmp_path: Path) -> None:
    """A colour table's colours are 8-bit whatever its indexes' type: not stretched."""
    path = tmp_path / "p.tif"
    index = np.tile(np.arange(4, dtype=np.uint16).repeat(50), (200, 1))
    cmap = {0: (0, 0, 0, 255), 1: (255, 0, 0, 255), 2: (0, 255, 0, 255), 3: (0, 0, 255, 255)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(
            path, "w", driver="GTiff", width=200, height=200, count=1, dtype="uint16"
        ) as ds:
            ds.write(index, 1)
            ds.write_colormap(1, cmap)
        with rasterio.open(path) as ds:
            palette = ds.colorinterp[0].name == "palette"
    if not palette:
        pytest.skip("GDAL keeps no colour table on a 16-bit TIFF here")
    want = np.array([cmap[i][:3] for i in range(4)], np.uint8)[index]
    assert np.array_equal(_read_pixels(path, 200, 200), want)


def _bordered_16bit(path: Path) -> None:
    """A 16-bit grey TIFF without georeference: a wide black border around data whose
    values are far from 0 (its stretch range moves when the border is counted)."""
    rng = np.random.default_rng(5)
    data = np.zeros((240, 240), np.uint16)
    data[60:180, 60:180] = rng.integers(3000, 4000, size=(120, 120), dtype=np.uint16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(
            path, "w", driver="GTiff", width=240, height=240, count=1, dtype="uint16"
        ) as ds:
            ds.write(data, 1)


def test_label_pixels_are_detects_for_a_16bit_image_with_a_black_border(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.tif"
    _bordered_16bit(path)
    _truth(tmp_path, "a", gsd=0.5)
    seen = _detect_pixels(path, 0.5)
    (item,) = load_labelled_dir(tmp_path).images
    assert item.image.shape == seen.shape
    # before: the border counted in the range, the data read darker than detect reads it
    assert np.array_equal(item.image, seen)
    # the data spans the whole range, as detect stretches it
    inner = item.image[60:180, 60:180, 0]
    assert inner.min() < 30 and inner.max() > 225


def test_import_labels_measures_the_stretch_with_the_image_gsd(tmp_path: Path) -> None:
    """import-labels writes the image through label reading, with the gsd it records."""
    from railwatch.export.labels import import_labels

    src = tmp_path / "dota"
    (src / "images").mkdir(parents=True)
    (src / "labelTxt").mkdir()
    _bordered_16bit(src / "images" / "a.tif")
    corners = " ".join(f"{x:g} {y:g}" for x, y in RING[:4])
    (src / "labelTxt" / "a.txt").write_text(f"gsd:0.5\n{corners} tank 0\n", encoding="utf-8")
    out = tmp_path / "out"
    import_labels(src, "dota", out)
    written = np.asarray(Image.open(out / "images" / "a.png").convert("RGB"))
    seen = _detect_pixels(src / "images" / "a.tif", 0.5)
    assert np.array_equal(written, seen)


# ----------------------------------------------------------------------------- eval


def _eval_scene(tmp_path: Path, sidecar: str | None) -> float | None:
    from railwatch.detect.base import OrientedBox
    from railwatch.detect.eval import evaluate_dirs
    from railwatch.detect.geojson import to_feature_collection, write_geojson

    cars = [Detection(OrientedBox(100.0, 100.0, 14.0, 3.2, 0.0), cls="tank")]
    for folder, suffix in (("truth", ".truth.geojson"), ("pred", ".detections.geojson")):
        write_geojson(tmp_path / folder / f"s1{suffix}", to_feature_collection(cars, crs=None))
    if sidecar is not None:
        (tmp_path / "truth" / "s1.json").write_text(sidecar, encoding="utf-8")
    (scene,) = evaluate_dirs(tmp_path / "truth", pred_dir=tmp_path / "pred")
    return scene.gsd


def test_eval_reads_the_gsd_of_a_stac_item_beside_a_truth(tmp_path: Path) -> None:
    item = {"type": "Feature", "stac_version": "1.0.0", "properties": {"gsd": 0.5}}
    assert _eval_scene(tmp_path, json.dumps(item)) == 0.5


def test_eval_leaves_another_tools_json_beside_a_truth_alone(tmp_path: Path) -> None:
    """A JSON with a properties.gsd that is no STAC item (no type Feature, no
    stac_version) is another tool's, as ingest, detect and label reading read it."""
    other = {"properties": {"gsd": 0.5}, "tool": "someone else's"}
    assert _eval_scene(tmp_path, json.dumps(other)) is None


def test_eval_refuses_a_broken_stac_item_beside_a_truth(tmp_path: Path) -> None:
    broken = '{"type": "Feature", "stac_version": "1.0.0", "properties": {"gsd": 0.5,}'
    with pytest.raises(InputError, match=r"s1\.json next to .*not valid JSON.*fix or remove it"):
        _eval_scene(tmp_path, broken)


def test_eval_leaves_another_tools_broken_file_beside_a_truth_alone(tmp_path: Path) -> None:
    assert _eval_scene(tmp_path, "gsd = 0.5  # not JSON, nobody's item") is None
