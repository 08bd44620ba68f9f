"""16-bit and float imagery to 8 bits: a wide percentile stretch, then a display gamma
(such products are radiometrically linear; the detector learned display-encoded images),
the same in the pipeline's site windows, in `detect` and in label reading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from imagery_helpers import write_geotiff
from railwatch.detect.api import _reader
from railwatch.detect.tiling import Window
from railwatch.imagery.quality import QUALITY_VERSION
from railwatch.imagery.read import (
    STRETCH_GAMMA,
    STRETCH_PERCENTILES,
    stretch_ranges,
    stretch_to_uint8,
    to_rgb8,
)

Q = f"+q{QUALITY_VERSION}"  # ends every processing version (session 43)


def test_stretch_maps_ends_linearly_and_encodes_the_middle_with_the_gamma() -> None:
    band = np.array([[100.0, 1100.0, 2100.0, 5000.0, -7.0, np.nan]], dtype=np.float32)
    out = stretch_to_uint8(band, 100.0, 2100.0)
    assert out.dtype == np.uint8
    half = round(255 * 0.5 ** (1 / STRETCH_GAMMA))  # 186: linear 0.5 is mid-grey on screen
    assert out.tolist() == [[0, half, 255, 255, 0, 0]]
    assert stretch_to_uint8(np.full((2, 2), 9.0), 9.0, 9.0).tolist() == [[0, 0], [0, 0]]


def test_to_rgb8_stretches_16_bit_between_wide_percentiles() -> None:
    """2-98 % (before 2026-12-03) clipped 2 % of each band: white roofs and shadows."""
    rng = np.random.default_rng(0)
    data = rng.integers(200, 4000, size=(3, 100, 100)).astype(np.uint16)
    valid = np.ones((100, 100), bool)
    out = to_rgb8(data, valid)
    for c in range(3):
        saturated = np.mean((out[..., c] == 0) | (out[..., c] == 255))
        assert saturated < 0.01  # 2-98 %: 4 %
    assert to_rgb8(data.astype(np.uint8), valid).dtype == np.uint8  # 8-bit as is


def test_detect_reads_16_bit_as_the_pipeline_does(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    data = rng.integers(100, 3000, size=(3, 64, 64)).astype(np.uint16)
    path = write_geotiff(tmp_path / "a.tif", data)
    with rasterio.open(path) as ds:
        scale = stretch_ranges(ds, [1, 2, 3])
        assert scale is not None
        img, _ = _reader(ds, [1, 2, 3], scale)(Window(0, 0, 64, 64))
    lo, hi = scale
    for c in range(3):
        assert lo[c] == pytest.approx(np.percentile(data[c], STRETCH_PERCENTILES[0]))
        assert hi[c] == pytest.approx(np.percentile(data[c], STRETCH_PERCENTILES[1]))
        np.testing.assert_array_equal(img[..., c], stretch_to_uint8(data[c], lo[c], hi[c]))
    # the same mapping as the site windows' (percentiles from all pixels here)
    np.testing.assert_array_equal(img, to_rgb8(data, np.ones((64, 64), bool)))


def test_new_input_mapping_counts_16_bit_scenes_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mapping of non-8-bit pixels is part of the version a scene is counted with:
    a new mapping has 16-bit scenes counted again, and not the 8-bit ones."""
    from datetime import UTC, datetime

    from shapely.geometry import box

    from railwatch import pipeline
    from railwatch.imagery import inspect_scene
    from railwatch.ingest import ingest_paths
    from railwatch.sim import SceneParams, render_scene, write_scene
    from railwatch.sites import SiteSpec
    from railwatch.storage import Database, repo
    from test_detect_fakes import BrightBlobDetector

    when = datetime(2023, 10, 5, 2, tzinfo=UTC)
    scene = render_scene(SceneParams(seed=5, size_px=(200, 200), n_cars=6, date=when))
    imgs = tmp_path / "imgs"
    eight = write_scene(scene, imgs, "eight", preview=False).image
    with rasterio.open(eight) as ds:
        profile, data = ds.profile, ds.read()
    profile.update(dtype="uint16", compress="deflate")
    with rasterio.open(imgs / "sixteen_20231006T020000.tif", "w", **profile) as dst:
        dst.write(data.astype(np.uint16) * 16)
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    with db.session() as s:
        aoi = box(*inspect_scene(eight).footprint.buffer(-0.0002).bounds)
        repo.add_site(s, SiteSpec(name="yard", geometry=aoi))
    assert len(ingest_paths(db, "yard", [imgs]).ingested) == 2
    det = BrightBlobDetector()
    det.name, det.version = "fake", "1"
    pipeline.process_site(db, "yard", detector=det)
    with db.session() as s:
        versions = {sc.dtype: sc.detector_version for sc in repo.list_scenes(s, "yard")}
    assert versions == {"uint8": f"1{Q}", "uint16": f"1+in{pipeline.INPUT_MAPPING_VERSION}{Q}"}
    monkeypatch.setattr(pipeline, "INPUT_MAPPING_VERSION", "next")
    again = pipeline.process_site(db, "yard", detector=det)
    assert again.skipped == 1 and len(again.processed) + len(again.unusable) == 1
    with db.session() as s:
        assert {sc.detector_version for sc in repo.list_scenes(s, "yard")} == {
            f"1{Q}",
            f"1+innext{Q}",
        }


def _centre_rgb(png: bytes) -> tuple[float, float, float]:
    """The colour of a 256 px PNG tile's centre pixel."""
    import io

    from PIL import Image

    pixel = Image.open(io.BytesIO(png)).convert("RGB").getpixel((128, 128))
    assert isinstance(pixel, tuple) and len(pixel) == 3, pixel
    r, g, b = pixel
    return r, g, b


def test_web_tiles_show_16_bit_bands_as_the_detector_reads_them(tmp_path: Path) -> None:
    """Tiles showed bands 1, 2, 3 with a linear 2-98 % stretch whatever the scene said."""
    import math

    from imagery_helpers import image_box_wgs84
    from railwatch.web.routes.tiles import render_tile

    data = np.full((4, 256, 256), 300, dtype=np.uint16)  # blue, green, red, NIR
    data[2, :, :128] = 3000  # the west half red, the east half blue
    data[0, :, 128:] = 3000
    data[1, :, 240:] = 3000  # a green strip, so that band has a range too
    path = write_geotiff(tmp_path / "bgrn.tif", data, photometric="MINISBLACK")
    w, s, e, n = image_box_wgs84(0, 0, 256, 256, 0.5).bounds
    lon, lat, z = w + (e - w) / 4, (s + n) / 2, 19  # in the west half
    x = int((lon + 180) / 360 * 2**z)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z)
    png = render_tile(str(path), z, x, y, (3, 2, 1))
    assert png is not None
    r, g, b = _centre_rgb(png)
    assert r > 200 and g < 100 and b < 100
    plain = render_tile(str(path), z, x, y)
    assert plain is not None
    r, g, b = _centre_rgb(plain)
    assert b > 200 and r < 100  # unlabelled: bands 1, 2, 3 (ingest warns about it)


def test_stretch_range_keeps_isolated_outliers_out() -> None:
    from railwatch.imagery.read import stretch_range

    rng = np.random.default_rng(3)
    band = rng.normal(2000.0, 300.0, 200_000)
    lo, hi = stretch_range(band)
    assert lo == pytest.approx(np.percentile(band, 0.01)) and hi == pytest.approx(
        np.percentile(band, 99.99)
    )  # a natural tail: the wide percentiles themselves
    band[:40] = 65_000.0  # a few hot pixels above 99.99 % of the band
    band[40:80] = 0.0
    lo, hi = stretch_range(band)
    p01, med, p999 = np.percentile(band, [0.1, 50, 99.9])
    assert hi == pytest.approx(2 * p999 - med) and lo == pytest.approx(2 * p01 - med)
    assert hi < 4000 and lo > 0
