"""A 4th band that GDAL labels alpha but that holds near-infrared is read as data
(2026-12-07, session 46).

Four 8- or 16-bit bands written as RGB with an extra sample (``ALPHA=YES``, ExtraSamples
alpha) have their 4th band labelled alpha. Where it is NIR, every pixel where the NIR is
0 (water, shadow) was read as no data: a file with NIR 0 over half its area was "49 %
covered". Such a band (its description names a spectral band, or its values are no
mask) is now data, everywhere the product reads the file; a true alpha band (0 and
255, a transparent border) stays transparency.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.enums import ColorInterp

from imagery_helpers import image_box_wgs84, write_geotiff, yard_scene
from railwatch.imagery import read_site_window, site_grid
from railwatch.imagery.inspect import (
    ALPHA_AS_DATA_KEY,
    alpha_as_data,
    alpha_band,
    data_mask,
    inspect_scene,
    read_masked,
    site_data_coverage,
)
from railwatch.imagery.read import rgb_bands, stretch_ranges

SIZE = 240
CUT = SIZE // 2  # columns 0-119: NIR 0 (water), or transparent in the true RGBA
SITE = image_box_wgs84(10, 10, SIZE - 10, SIZE - 10)


def _rgb(dtype: str = "uint8") -> np.ndarray:
    rgb = yard_scene(SIZE, SIZE).astype("uint16")
    rgb = np.clip(rgb, 1, 255)  # no pixel 0 in every band (no black fill)
    return rgb.astype(dtype) * (257 if dtype == "uint16" else 1)


def _nir(dtype: str = "uint8") -> np.ndarray:
    """A NIR band: a full range of intensities, 0 over the left half (water)."""
    top = 65535 if dtype == "uint16" else 255
    rng = np.random.default_rng(3)
    nir = rng.integers(top // 10, top - top // 10, (SIZE, SIZE)).astype(dtype)
    nir[:, :CUT] = 0
    return nir


def _rgbn(tmp_path: Path, *, dtype: str = "uint8", name: str | None = "nir", **kw: object) -> Path:
    """RGB and NIR written as RGB with an extra sample: GDAL labels band 4 alpha."""
    path = write_geotiff(
        tmp_path / f"rgbn_{dtype}_{name}.tif",
        np.concatenate([_rgb(dtype), _nir(dtype)[None]]),
        alpha=True,
        **kw,  # type: ignore[arg-type]
    )
    if name is not None:
        with rasterio.open(path, "r+") as ds:
            ds.set_band_description(4, name)
    with rasterio.open(path) as ds:
        assert ds.colorinterp[3].name == "alpha"  # as GDAL labels it
    return path


def _rgb_only(tmp_path: Path, dtype: str = "uint8") -> Path:
    return write_geotiff(tmp_path / f"rgb_{dtype}.tif", _rgb(dtype), photometric="RGB")


def _true_rgba(tmp_path: Path, **kw: object) -> Path:
    alpha = np.full((1, SIZE, SIZE), 255, "uint8")
    alpha[:, :, :CUT] = 0
    return write_geotiff(
        tmp_path / "rgba.tif",
        np.concatenate([_rgb(), alpha]),
        alpha=True,
        **kw,  # type: ignore[arg-type]
    )


def test_a_band_labelled_alpha_described_nir_is_data(tmp_path: Path) -> None:
    for name in ("nir", "NIR", "near-infrared", "Near Infrared (B8)"):
        (tmp_path / name).mkdir()
        with rasterio.open(_rgbn(tmp_path / name, name=name)) as ds:
            found = alpha_as_data(ds)
            assert found is not None and found[0] == 4, name
            assert name in found[1]
            assert alpha_band(ds) is None


def test_a_band_labelled_alpha_with_a_full_range_of_values_is_data(tmp_path: Path) -> None:
    for dtype in ("uint8", "uint16"):
        with rasterio.open(_rgbn(tmp_path, dtype=dtype, name=None)) as ds:
            found = alpha_as_data(ds)
            assert found is not None and found[0] == 4
            assert "not a mask" in found[1]


def test_a_true_alpha_band_stays_transparency(tmp_path: Path) -> None:
    # 0 and 255, also with overviews averaged at its edge (a few values between)
    for kw in ({}, {"overviews": (2, 4)}):
        (sub := tmp_path / str(len(kw))).mkdir()
        with rasterio.open(_true_rgba(sub, **kw)) as ds:
            assert alpha_as_data(ds) is None and alpha_band(ds) == 4
            assert (data_mask(ds) > 0).mean() == pytest.approx(0.5)
    # a band described as a mask is transparency, whatever its values
    with rasterio.open(_rgbn(tmp_path, name="alpha mask")) as ds:
        assert alpha_as_data(ds) is None and alpha_band(ds) == 4


def test_gdal_masks_are_not_taken_from_a_nir_band(tmp_path: Path) -> None:
    path = _rgbn(tmp_path)
    with rasterio.open(path) as ds:
        assert (ds.dataset_mask() > 0).mean() == pytest.approx(0.5)  # GDAL's own
        assert (data_mask(ds) > 0).all()
        assert (data_mask(ds, out_shape=(60, 60)) > 0).all()
        win = rasterio.windows.Window(0, 0, 50, 40)
        assert data_mask(ds, window=win).shape == (40, 50)
        masked = read_masked(ds, [1, 2, 3])
        assert not np.ma.getmaskarray(masked).any()
        assert rgb_bands(ds) == [1, 2, 3]


@pytest.mark.parametrize("dtype", ["uint8", "uint16"])
def test_pipeline_read_of_rgb_and_nir_is_that_of_rgb_alone(tmp_path: Path, dtype: str) -> None:
    grid = site_grid(SITE, 0.5)
    plain = read_site_window(str(_rgb_only(tmp_path, dtype)), grid, site_geom=SITE)
    nir = read_site_window(str(_rgbn(tmp_path, dtype=dtype)), grid, site_geom=SITE)
    assert plain.valid[plain.inside].all()
    assert nir.valid[nir.inside].all()  # was 50 %: NIR 0 read as transparent
    assert np.array_equal(nir.image, plain.image)
    assert nir.exposure == plain.exposure
    if dtype != "uint8":
        return
    with read_site_window(str(_rgbn(tmp_path)), grid, site_geom=SITE, lazy=True) as window:
        assert window.valid[window.inside].all()
        assert np.array_equal(window.image[:, :], plain.image)


def test_overview_reads_take_the_band_as_data(tmp_path: Path) -> None:
    # overviews built before band 4 is labelled alpha: GDAL builds those of a file
    # whose band 4 it takes as alpha with its colour bands 0 where that band is 0
    path = write_geotiff(
        tmp_path / "ovr.tif",
        np.concatenate([_rgb(), _nir()[None]]),
        photometric="RGB",
        overviews=(2, 4),
        tiled=True,
    )
    with rasterio.open(path, "r+") as ds:
        ds.colorinterp = [*ds.colorinterp[:3], ColorInterp.alpha]
    grid = site_grid(SITE, 2.0)
    with read_site_window(str(path), grid, site_geom=SITE, lazy=True, overviews=True) as w:
        assert w.valid[w.inside].all()


def test_a_true_alpha_is_still_no_data_in_the_pipeline(tmp_path: Path) -> None:
    grid = site_grid(SITE, 0.5)
    raster = read_site_window(str(_true_rgba(tmp_path)), grid, site_geom=SITE)
    share = raster.valid[raster.inside].mean()
    assert 0.4 < share < 0.6


def test_ingest_footprint_and_coverage_of_rgb_and_nir(tmp_path: Path) -> None:
    plain = inspect_scene(_rgb_only(tmp_path), date=date(2024, 6, 17))
    nir = inspect_scene(_rgbn(tmp_path), date=date(2024, 6, 17))
    assert nir.footprint.area == pytest.approx(plain.footprint.area, rel=1e-6)
    assert nir.metadata[ALPHA_AS_DATA_KEY]["band"] == 4
    assert ALPHA_AS_DATA_KEY not in plain.metadata
    assert site_data_coverage(str(_rgbn(tmp_path)), SITE) == pytest.approx(
        site_data_coverage(str(_rgb_only(tmp_path)), SITE)
    )
    rgba = inspect_scene(_true_rgba(tmp_path), date=date(2024, 6, 17))
    assert rgba.footprint.area == pytest.approx(plain.footprint.area / 2, rel=0.05)


def test_sixteen_bit_stretch_is_that_of_rgb_alone(tmp_path: Path) -> None:
    with rasterio.open(_rgbn(tmp_path, dtype="uint16")) as ds:
        got = stretch_ranges(ds, [1, 2, 3])
    with rasterio.open(_rgb_only(tmp_path, "uint16")) as ds:
        want = stretch_ranges(ds, [1, 2, 3])
    assert got is not None and want is not None
    assert np.allclose(got[0], want[0]) and np.allclose(got[1], want[1])


def test_it_is_said_once_with_how_to_override(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _rgbn(tmp_path, name="nir_said_once")
    with caplog.at_level(logging.WARNING, logger="railwatch.imagery.inspect"):
        for _ in range(3):
            with rasterio.open(path) as ds:
                alpha_as_data(ds)
    said = [r.getMessage() for r in caplog.records if path.name in r.getMessage()]
    assert len(said) == 1
    assert "band 4 is labelled alpha" in said[0] and "-mask 4" in said[0]
