"""`railwatch scale` (and the --gsd check) reads the values the bands stand for.

Rails are found as dark lines in a grey mix of the bands. ``measure_file`` mixed the
stored numbers of a 16-bit file without the scale and offset its bands declare (GDAL
scales/offsets, applied by the pipeline since 3be6682): bands stored with different
scales were mixed in other proportions, and a band stored inverted (a negative scale)
turned the dark rails bright, so track that the pipeline reads plainly was not measured.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from railwatch.errors import ImageryError
from railwatch.imagery.scale import RAIL_CENTRES_M, measure_file
from test_rail_scale import rails_image

SPACING = 8.0
#: scale and offset of each band: red 0.0001, green stored inverted, blue 0.0004 - 0.1
SCALES = (0.0001, -0.0001, 0.0004)
OFFSETS = (0.0, 1.0, -0.1)


def _grey() -> np.ndarray:
    """Rails SPACING px apart on grey ground, as values in [0, 1]."""
    return rails_image(SPACING, 30.0, seed=3)[:, :, 0].astype(np.float64) / 255.0


def _write(
    path: Path,
    bands: np.ndarray,
    scales: tuple[float, ...] | None = None,
    offsets: tuple[float, ...] | None = None,
) -> Path:
    profile = {
        "driver": "GTiff",
        "width": bands.shape[2],
        "height": bands.shape[1],
        "count": bands.shape[0],
        "dtype": bands.dtype.name,
        "crs": "EPSG:32652",
        "transform": from_origin(500_000.0, 4_700_000.0, 0.2, 0.2),
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(bands)
        if scales is not None:
            dst.scales = scales
        if offsets is not None:
            dst.offsets = offsets
    return path


def _stored(values: np.ndarray) -> np.ndarray:
    """The uint16 numbers that stand for ``values`` in every band under SCALES/OFFSETS."""
    return np.stack(
        [np.round((values - o) / s) for s, o in zip(SCALES, OFFSETS, strict=True)]
    ).astype(np.uint16)


def _spacing(path: Path) -> float:
    found = measure_file(path).scale
    assert found.measured, found.reason
    assert found.spacing_px is not None
    return found.spacing_px


def test_bands_with_their_own_scales_are_measured_from_their_values(tmp_path: Path) -> None:
    v = _grey()
    scaled = _write(tmp_path / "scaled.tif", _stored(v), SCALES, OFFSETS)
    assert _spacing(scaled) == pytest.approx(SPACING, rel=0.05)
    assert measure_file(scaled).scale.gsd == pytest.approx(RAIL_CENTRES_M / SPACING, rel=0.05)
    # the same values stored without a scale read the same
    plain = _write(tmp_path / "plain.tif", np.stack([np.round(v * 10000)] * 3).astype(np.uint16))
    assert _spacing(scaled) == pytest.approx(_spacing(plain), rel=0.01)


def test_a_band_stored_inverted_does_not_turn_the_rails_bright(tmp_path: Path) -> None:
    """One band, stored inverted (scale -0.0001, offset 1): read as stored, its rails
    are bright lines, which are not rails."""
    v = _grey()
    stored = np.round((1.0 - v) / 0.0001).astype(np.uint16)[None]
    inverted = _write(tmp_path / "inverted.tif", stored, (-0.0001,), (1.0,))
    assert _spacing(inverted) == pytest.approx(SPACING, rel=0.05)


def test_8_bit_files_are_read_as_stored_whatever_they_declare(tmp_path: Path) -> None:
    rgb = np.moveaxis(rails_image(SPACING, 30.0, seed=3), -1, 0).copy()
    declared = _write(tmp_path / "eight.tif", rgb, (2.0, 2.0, 2.0), (-255.0, 0.0, 7.0))
    plain = _write(tmp_path / "eight_plain.tif", rgb)
    assert measure_file(declared).scale == measure_file(plain).scale


def test_broken_scale_metadata_is_refused_with_the_fix(tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.tif", _stored(_grey()), (0.0001, 0.0, 0.0004), OFFSETS)
    with pytest.raises(ImageryError, match=r"gdal_edit\.py -scale"):
        measure_file(bad)
