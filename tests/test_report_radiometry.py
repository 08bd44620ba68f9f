"""The report's image chips of a scene ingested with ``--radiometry display`` (a visual
product stored in 16 bits): they were read as linear data (stretched per band with a
display gamma), so the evidence showed a washed-out image unlike the one counted. They
are now read with the scene's stored radiometry, as the pipeline reads it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from railwatch.imagery.read import stretch_ranges, stretch_to_uint8
from railwatch.report import build_report_data
from railwatch.report.model import ReportData
from railwatch.storage import Database, repo
from report_db import populate


def after_chip(data: ReportData) -> tuple[np.ndarray, np.ndarray, int]:
    (ev,) = data.evidence
    assert ev.after is not None and ev.after_row is not None and ev.after.valid is not None
    return ev.after.image.astype(int), ev.after.valid, ev.after_row.scene_id


def to_16_bit(path: Path) -> tuple[float, float]:
    """Rewrite ``path`` as the same image x257 (a visual product stored in 16 bits);
    the one range display data is mapped by."""
    with rasterio.open(path) as ds:
        profile, data = ds.profile, ds.read()
    profile.update(dtype="uint16")
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data.astype(np.uint16) * 257)
    with rasterio.open(path) as ds:
        ranges = stretch_ranges(ds, [1, 2, 3], radiometry="display")
    assert ranges is not None
    return float(ranges[0][0]), float(ranges[1][0])


@pytest.mark.parametrize("radiometry", ["display", None])
def test_chips_are_read_with_the_scenes_radiometry(tmp_path: Path, radiometry: str | None) -> None:
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    populate(db, tmp_path / "scenes")
    eight, valid, scene_id = after_chip(build_report_data(db, "testyard"))

    with db.session() as s:
        scene = repo.get_scene(s, scene_id)
        lo, hi = to_16_bit(Path(scene.uri))
        if radiometry is not None:
            scene.meta = {**(scene.meta or {}), "radiometry": radiometry}
    data = build_report_data(db, "testyard")
    got, _, _ = after_chip(data)
    (row,) = [r for r in data.scenes if r.scene_id == scene_id]
    assert row.radiometry == (radiometry or "linear")

    # display: the 8-bit chip mapped linearly by the file's one range
    want = stretch_to_uint8(eight * 257.0, lo, hi, radiometry="display").astype(int)
    diff = np.abs(got - want)[valid]
    if radiometry == "display":
        assert diff.max() <= 2
    else:  # linear (the default): per band with the display gamma, far from it
        assert diff.mean() > 20
    db.dispose()
