"""The report's chips read a STAC scene's image as it was counted: with the scales and
offsets its item declares where the file declares none (fc1377c). Without them a
`--radiometry display` scene whose bands are stored with different scales was drawn
out of balance (the chip unlike the image the count was made on)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from railwatch.imagery.read import ITEM_SCALING_KEY, item_scaling_of

pytest.importorskip("pystac")

from test_stac import site_db
from test_stac_item_scaling_s30 import OFFSETS, SCALES, write_reflectance


def test_chips_read_with_the_items_scaling(tmp_path: Path, tmp_db_url: str) -> None:
    from railwatch.report.builder import _chip_pair, _SiteInfo
    from railwatch.report.model import SceneRow
    from railwatch.storage import repo

    db = site_db(tmp_db_url)
    with db.session(readonly=True) as s:
        site = repo.get_site(s, "yard")
        info = _SiteInfo(site.name, "", site.geometry, site.utm_crs)
    bare = write_reflectance(tmp_path / "bare.tif")  # the file declares no scale
    own = write_reflectance(tmp_path / "own.tif", SCALES, OFFSETS)
    meta = {ITEM_SCALING_KEY: {"scale": SCALES, "offset": OFFSETS}}
    row = SceneRow(
        scene_id=1,
        when=datetime(2024, 1, 1, tzinfo=UTC),
        sensor="s",
        gsd=3.0,
        usable=True,
        uri=str(bare),
        radiometry="display",
        item_scaling=item_scaling_of(meta),
    )

    def chip(r: SceneRow) -> np.ndarray:
        after, _, notes = _chip_pair(info, r, None, {})
        assert after is not None, notes
        return after.image

    truth = chip(dataclasses.replace(row, uri=str(own), item_scaling=None))
    assert np.array_equal(chip(row), truth)
    assert not np.array_equal(chip(dataclasses.replace(row, item_scaling=None)), truth)
