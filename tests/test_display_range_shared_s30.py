"""One display range of a ``--radiometry display`` scene, ``imagery.read.display_range``,
for the pipeline's read and the label chips (session 30 follow-up): before, each had its own
near-copy (``imagery.read._display_range`` and ``export.label_chips._display_range``,
the chips' measured in stored values and scaled back). The range is of the values the
pixels stand for, over the whole file; the chips are the file's pixels mapped by it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio

from railwatch.imagery import to_rgb8
from railwatch.imagery.read import display_range, scene_scaling, stretch_range
from test_label_chips_scaling_s30 import OFFSETS, SCALES, _chip_at, _rewrite, _site, _stored


def test_the_range_is_of_the_values_over_the_whole_file(tmp_path: Path) -> None:
    db, path, eight = _site(tmp_path, "display")
    _rewrite(path, _stored(eight), SCALES, OFFSETS)
    with rasterio.open(path) as ds:
        found = display_range(ds, [1, 2, 3])
        stored = ds.read().astype(np.float64)
    assert found is not None
    values = stored * np.array(SCALES)[:, None, None] + np.array(OFFSETS)[:, None, None]
    lo, hi = stretch_range(values.ravel())
    # the file is under 1024 px: read whole, as here
    assert found == (lo, hi)
    assert -0.1 <= found[0] < found[1] <= 0.5 + 1e-9  # reflectance, not stored numbers
    db.dispose()


def test_eight_bit_files_have_none(tmp_path: Path) -> None:
    db, path, _ = _site(tmp_path, "display")
    with rasterio.open(path) as ds:
        assert ds.dtypes[0] == "uint8"
        assert display_range(ds, [1, 2, 3]) is None
    db.dispose()


def test_the_chips_are_the_pixels_mapped_by_it(tmp_path: Path) -> None:
    db, path, eight = _site(tmp_path, "display")
    stored = _stored(eight).astype(np.uint16)
    _rewrite(path, stored, SCALES, OFFSETS)
    with rasterio.open(path) as ds:
        whole = display_range(ds, [1, 2, 3])
        scaling = scene_scaling(ds, [1, 2, 3])
        valid = ds.dataset_mask() > 0
    got, (rows, cols) = _chip_at(db, tmp_path / "chips")
    want = to_rgb8(
        stored[:, rows, cols], valid[rows, cols], radiometry="display",
        display_range=whole, scaling=scaling,
    )  # fmt: skip
    want[~valid[rows, cols]] = 0
    assert np.array_equal(got, want.astype(int))
    db.dispose()
