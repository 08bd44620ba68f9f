"""``railwatch export-labels`` chips of a scene ingested with ``--radiometry display`` (a
visual product stored in 16 bits): they were cut from the file read as linear data
(stretched per band with a display gamma), so the training chips did not look like what
the detector was given. They are now read with the scene's stored radiometry, mapped by
the whole file's range as the pipeline maps it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from PIL import Image

from railwatch.export.label_chips import export_labels
from railwatch.imagery.read import stretch_ranges, stretch_to_uint8
from railwatch.storage import Database, repo
from report_db import populate


def chip_pixels(db: Database, out: Path) -> np.ndarray:
    result = export_labels(db, out, "coco", scene_id=1, chip=1024)
    assert result.chips == 1
    (png,) = (out / "images").glob("*.png")
    return np.asarray(Image.open(png)).astype(int)


@pytest.mark.parametrize("radiometry", ["display", None])
def test_label_chips_are_read_with_the_scenes_radiometry(
    tmp_path: Path, radiometry: str | None
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    populate(db, tmp_path / "scenes")
    eight = chip_pixels(db, tmp_path / "eight")

    with db.session() as s:
        scene = repo.get_scene(s, 1)
        path = Path(scene.uri)
        if radiometry is not None:
            scene.meta = {**(scene.meta or {}), "radiometry": radiometry}
    with rasterio.open(path) as ds:
        profile, data = ds.profile, ds.read()
    profile.update(dtype="uint16")
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data.astype(np.uint16) * 257)
    with rasterio.open(path) as ds:
        ranges = stretch_ranges(ds, [1, 2, 3], radiometry="display")
    assert ranges is not None
    lo, hi = float(ranges[0][0]), float(ranges[1][0])

    got = chip_pixels(db, tmp_path / "sixteen")
    want = stretch_to_uint8(eight * 257.0, lo, hi, radiometry="display").astype(int)
    if radiometry == "display":  # as the pipeline maps it: the file's one range, linear
        assert np.abs(got - want).max() <= 1
    else:  # linear, the default: per band with the display gamma
        assert np.abs(got - want).mean() > 20
    db.dispose()
