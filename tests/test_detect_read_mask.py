"""detect_file skips the per-window dataset mask only when every pixel is valid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from rasterio.windows import Window as RioWindow

from railwatch.detect.api import _all_valid, _reader
from railwatch.detect.tiling import Window


@pytest.mark.parametrize(
    ("kind", "all_valid"), [("plain", True), ("nodata", False), ("alpha", False), ("mask", False)]
)
def test_mask_skipped_only_without_nodata_alpha_or_mask(
    tmp_path: Path, kind: str, all_valid: bool
) -> None:
    path = tmp_path / f"{kind}.tif"
    count = 4 if kind == "alpha" else 3
    profile = {
        "driver": "GTiff",
        "width": 64,
        "height": 48,
        "count": count,
        "dtype": "uint8",
        "crs": "EPSG:32652",
        "transform": from_origin(630_000.0, 4_700_000.0, 0.5, 0.5),
    }
    if kind == "nodata":
        profile["nodata"] = 0
    if kind == "alpha":
        profile.update(photometric="RGB", alpha="YES")
    data = np.full((count, 48, 64), 90, np.uint8)
    data[:, :, :10] = 0  # nodata / transparent / masked columns
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(data)
        if kind == "mask":
            m = np.full((48, 64), 255, np.uint8)
            m[:, :10] = 0
            ds.write_mask(m)
    with rasterio.open(path) as ds:
        assert _all_valid(ds) is all_valid
        img, valid = _reader(ds, [1, 2, 3], None)(Window(0, 0, 64, 48))
        expected = ds.dataset_mask(window=RioWindow(0, 0, 64, 48)) > 0
    assert img.shape == (48, 64, 3)
    if all_valid:
        assert valid is None and expected.all()
    else:
        assert valid is not None and np.array_equal(valid, expected) and not valid[:, :10].any()
