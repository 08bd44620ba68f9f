"""``railwatch export-labels`` chips of a scene whose bands declare a scale and offset
(GDAL metadata: value = stored x scale + offset): each band is mapped from the values it
stands for, as the pipeline reads the scene (``imagery.read.read_site_window``). Until
session 30 a ``--radiometry display`` scene's chips took band 1's stored range for all
three bands, so bands stored with different scales came out unbalanced (grey ground
red). 8-bit files and files without a scale give the same chips as before."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import rasterio
from PIL import Image

from railwatch.export.label_chips import export_labels
from railwatch.imagery import to_rgb8
from railwatch.imagery.read import stretch_ranges
from railwatch.storage import Database, repo
from report_db import populate

SCALES = [0.0001, 0.0002, 0.0004]
OFFSETS = [-0.1, -0.1, -0.1]


def _chip(db: Database, out: Path) -> np.ndarray:
    return _chip_at(db, out)[0]


def _chip_at(db: Database, out: Path) -> tuple[np.ndarray, tuple[slice, slice]]:
    """Scene 1's one chip, and where it lies in the file (rows, columns)."""
    result = export_labels(db, out, "coco", scene_id=1, chip=1024)
    assert result.chips == 1
    (png,) = (out / "images").glob("*.png")
    pixels = np.asarray(Image.open(png)).astype(int)
    found = re.search(r"_r(\d+)_c(\d+)$", png.stem)
    assert found is not None, png.name
    r, c = int(found[1]), int(found[2])
    h, w = pixels.shape[:2]
    return pixels, (slice(r, r + h), slice(c, c + w))


def _site(tmp_path: Path, radiometry: str | None) -> tuple[Database, Path, np.ndarray]:
    """The report database (scene 1 an 8-bit file), its scene 1's path and pixels."""
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    populate(db, tmp_path / "scenes")
    with db.session() as s:
        scene = repo.get_scene(s, 1)
        path = Path(scene.uri)
        if radiometry is not None:
            scene.meta = {**(scene.meta or {}), "radiometry": radiometry}
    with rasterio.open(path) as ds:
        eight = ds.read()
    return db, path, eight


def _rewrite(path: Path, stored: np.ndarray, scales: list[float], offsets: list[float]) -> None:
    """Replace the scene's file by ``stored`` (uint16) declaring these scales, offsets."""
    with rasterio.open(path) as ds:
        profile = ds.profile
    profile.update(dtype="uint16")
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(stored.astype(np.uint16))
        dst.scales = scales
        dst.offsets = offsets


def _one_scale(eight: np.ndarray) -> np.ndarray:
    """The same reflectance as :func:`_stored`, every band with band 1's scale."""
    values = eight.astype(np.float64) / 510.0
    return ((values - OFFSETS[0]) / SCALES[0]).round()


def _stored(eight: np.ndarray) -> np.ndarray:
    """The 8-bit pixels as reflectance (0.0 to 0.5) stored band by band with
    :data:`SCALES` and :data:`OFFSETS`: band 1's numbers twice band 2's, four times
    band 3's for the same reflectance."""
    values = eight.astype(np.float64) / 510.0
    return np.stack([(values[b] - OFFSETS[b]) / SCALES[b] for b in range(3)]).round()


@pytest.mark.parametrize("radiometry", ["display", None])
def test_bands_stored_with_different_scales_keep_their_balance(
    tmp_path: Path, radiometry: str | None
) -> None:
    db, path, eight = _site(tmp_path, radiometry)
    # the same reflectance stored with one scale for every band: what the chip must be
    _rewrite(path, _one_scale(eight), [SCALES[0]] * 3, [OFFSETS[0]] * 3)
    same = _chip(db, tmp_path / "same")
    _rewrite(path, _stored(eight), SCALES, OFFSETS)
    got = _chip(db, tmp_path / "scaled")
    # per band as with one scale (the stored numbers' rounding aside): red, green and
    # blue as balanced as the 8-bit file's. Band 1's stored range applied to all three
    # bands made green about half and blue about a quarter as bright.
    assert np.abs(got - same).max() <= 2
    means = got.reshape(-1, 3).mean(axis=0)
    want = same.reshape(-1, 3).mean(axis=0)
    assert np.abs(means - want).max() < 1.0, (means, want)
    db.dispose()


def test_eight_bit_chips_are_the_files_pixels(tmp_path: Path) -> None:
    """An 8-bit scene's chip is its pixels as they are, display or not."""
    db, _, eight = _site(tmp_path, "display")
    got, (rows, cols) = _chip_at(db, tmp_path / "eight")
    assert np.array_equal(got, np.moveaxis(eight[:, rows, cols], 0, -1).astype(int))
    db.dispose()


@pytest.mark.parametrize("radiometry", ["display", "linear"])
def test_unscaled_sixteen_bit_chips_are_as_before(tmp_path: Path, radiometry: str) -> None:
    """A 16-bit file without a scale: the chip is exactly what the stored numbers gave
    before (``to_rgb8`` of them, a display scene by the file's one stored range)."""
    db, path, eight = _site(tmp_path, radiometry)
    with rasterio.open(path) as ds:
        profile = ds.profile
    profile.update(dtype="uint16")
    stored = eight.astype(np.uint16) * np.array([257, 200, 150], dtype=np.uint16)[:, None, None]
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(stored)
    with rasterio.open(path) as ds:
        ranges = stretch_ranges(ds, [1, 2, 3], radiometry="display")
        valid = ds.dataset_mask() > 0
    assert ranges is not None
    display_range = (float(ranges[0][0]), float(ranges[1][0])) if radiometry == "display" else None
    got, (rows, cols) = _chip_at(db, tmp_path / "sixteen")
    valid = valid[rows, cols]
    want = to_rgb8(stored[:, rows, cols], valid, radiometry=radiometry,  # type: ignore[arg-type]
                   display_range=display_range)  # fmt: skip
    want[~valid] = 0
    assert got.shape == want.shape and np.array_equal(got, want.astype(int))
    db.dispose()


@pytest.mark.parametrize("radiometry", ["display", "linear"])
def test_a_negative_scale_reads_the_right_way_round(tmp_path: Path, radiometry: str) -> None:
    """Bands stored as 1 - reflectance (scale -0.0001, offset 1): bright ground is bright
    in the chip, as the pipeline reads it (a linear scene's chip was the negative)."""
    db, path, eight = _site(tmp_path, radiometry)
    _rewrite(path, _one_scale(eight), [SCALES[0]] * 3, [OFFSETS[0]] * 3)
    same = _chip(db, tmp_path / "same")
    values = eight.astype(np.float64) / 510.0
    _rewrite(path, ((values - 1.0) / -0.0001).round(), [-0.0001] * 3, [1.0] * 3)
    got = _chip(db, tmp_path / "negative")
    assert np.abs(got - same).max() <= 2
    db.dispose()
