"""Review r2 of e49257f (session 38): the site coverage ingest-stac measures
(imagery.inspect.site_data_coverage) of a 4-band (or 2-band) 8/16-bit file with no
nodata or mask and an undefined last band first asked whether that band is an alpha
band the file does not declare (undeclared_alpha), which reads the whole image down to
1024 px: twice the bytes of the site's read for a 4-band 16-bit COG. The answer is now
looked for only where it changes the site's valid pixels (a 0 in that band over the
site, or the item's nodata in the bands before it); the coverage is the same."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from imagery_helpers import image_box_wgs84, write_geotiff, yard_scene
from railwatch.imagery import inspect as imagery_inspect
from railwatch.imagery.inspect import site_data_coverage

SIZE = 200
CUT = 80  # columns before this one: transparent (alpha 0), or a NIR band's zeros
#: the site: columns and rows 10 to 190 (70 of its 180 columns before CUT)
SITE = image_box_wgs84(10, 10, SIZE - 10, SIZE - 10)
LEFT = (CUT - 10) / (SIZE - 20)


def _write(path: Path, dtype: str = "uint8", *, last: str, fill: int | None = None) -> str:
    """A PHOTOMETRIC=RGB 4-band file (no ExtraSamples: the last band undefined): its
    last band an alpha band 0 before CUT (``last="alpha"``), a NIR band without zeros
    (``"nir"``) or with zeros before CUT (``"nir0"``); with ``fill``, the colour bands
    that value before CUT."""
    rgb = yard_scene(SIZE, SIZE).astype(dtype)
    if dtype == "uint16":
        rgb = rgb * 257
    top = 65535 if dtype == "uint16" else 255
    if fill is not None:
        rgb[:, :, :CUT] = fill
    if last == "alpha":
        band = np.full((1, SIZE, SIZE), top, dtype)
        band[:, :, :CUT] = 0
    else:
        band = (rgb[:1] // 2 + 30).astype(dtype)
        if last == "nir0":
            band[:, :, :CUT] = 0
    write_geotiff(path, np.concatenate([rgb, band]), photometric="RGB")
    return str(path)


@pytest.fixture
def samples(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The whole-image samples undeclared_alpha reads."""
    calls: list[Any] = []
    real = imagery_inspect._alpha_sample

    def counted(ds: Any, band: int) -> np.ndarray:
        calls.append(band)
        return real(ds, band)

    monkeypatch.setattr(imagery_inspect, "_alpha_sample", counted)
    return calls


@pytest.mark.parametrize("dtype", ["uint8", "uint16"])
@pytest.mark.parametrize("item_nodata", [None, 3.0])
def test_a_data_band_without_zeros_over_the_site_reads_only_the_site(
    tmp_path: Path, samples: list[Any], dtype: str, item_nodata: float | None
) -> None:
    path = _write(tmp_path / "a.tif", dtype, last="nir")
    assert site_data_coverage(path, SITE, item_nodata=item_nodata) == pytest.approx(1.0)
    assert samples == []


@pytest.mark.parametrize("dtype", ["uint8", "uint16"])
def test_an_undeclared_alpha_band_still_masks_the_transparent_area(
    tmp_path: Path, samples: list[Any], dtype: str
) -> None:
    path = _write(tmp_path / "a.tif", dtype, last="alpha")
    assert site_data_coverage(path, SITE) == pytest.approx(1 - LEFT, abs=0.02)
    # a site all in the transparent area: no data (its alpha band is 0 all over it)
    dark = image_box_wgs84(10, 10, CUT - 10, SIZE - 10)
    assert site_data_coverage(path, dark) == 0.0
    assert samples  # the whole image told it is alpha


def test_a_data_band_with_zeros_over_the_site_is_data(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.tif", last="nir0")
    assert site_data_coverage(path, SITE) == pytest.approx(1.0)


def test_the_items_nodata_applies_to_a_file_with_a_data_band_only(tmp_path: Path) -> None:
    nir = _write(tmp_path / "n.tif", last="nir", fill=3)
    assert site_data_coverage(nir, SITE, item_nodata=3.0) == pytest.approx(1 - LEFT, abs=0.02)
    alpha = _write(tmp_path / "a.tif", last="alpha", fill=3)
    # the alpha band says which pixels hold data; the item's value is not applied
    assert site_data_coverage(alpha, SITE, item_nodata=3.0) == pytest.approx(1 - LEFT, abs=0.02)
