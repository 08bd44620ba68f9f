"""``railwatch export-labels`` chips of a STAC scene whose bands' scales and offsets only
its item declares (``raster:bands``, kept by ``ingest-stac`` in the scene's metadata
since fc1377c): each band is mapped from the values it stands for, as ``process``
counted the scene, where the file declares none. Before, the chips read the file's own
scales only: bands stored with different scales came out out of balance (a linear
scene's too: each band stretched alone, but a negative scale read as its negative)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from railwatch.imagery.read import ITEM_SCALING_KEY
from railwatch.storage import Database, repo
from test_label_chips_scaling_s30 import OFFSETS, SCALES, _chip, _rewrite, _site, _stored


def _declare(db: Database, scales: list[float], offsets: list[float]) -> None:
    """Scene 1's item declares ``scales``/``offsets``, as ``ingest-stac`` records them."""
    with db.session() as s:
        scene = repo.get_scene(s, 1)
        scene.meta = {**(scene.meta or {}), ITEM_SCALING_KEY: {"scale": scales, "offset": offsets}}


@pytest.mark.parametrize("radiometry", ["display", None])
def test_chips_are_read_with_the_items_scaling_where_the_file_declares_none(
    tmp_path: Path, radiometry: str | None
) -> None:
    db, path, eight = _site(tmp_path, radiometry)
    stored = _stored(eight)
    # the file declaring its scales: what the chip must be
    _rewrite(path, stored, SCALES, OFFSETS)
    truth = _chip(db, tmp_path / "own")
    # the same pixels, the file declaring none, the scene's item declaring them
    _rewrite(path, stored, [1.0] * 3, [0.0] * 3)
    bare = _chip(db, tmp_path / "bare")
    _declare(db, SCALES, OFFSETS)
    got = _chip(db, tmp_path / "item")
    assert np.array_equal(got, truth)
    if radiometry == "display":  # without them: out of balance (one stored range)
        assert np.abs(bare - truth).max() > 20
    db.dispose()


def test_a_negative_scale_the_item_declares_reads_the_right_way_round(tmp_path: Path) -> None:
    db, path, eight = _site(tmp_path, "linear")
    values = eight.astype(np.float64) / 510.0
    stored = ((values - 1.0) / -0.0001).round()  # 1 - reflectance
    _rewrite(path, stored, [-0.0001] * 3, [1.0] * 3)
    truth = _chip(db, tmp_path / "own")
    _rewrite(path, stored, [1.0] * 3, [0.0] * 3)
    _declare(db, [-0.0001] * 3, [1.0] * 3)
    assert np.array_equal(_chip(db, tmp_path / "item"), truth)
    db.dispose()


def test_the_files_own_scaling_wins(tmp_path: Path) -> None:
    db, path, eight = _site(tmp_path, "display")
    _rewrite(path, _stored(eight), SCALES, OFFSETS)
    truth = _chip(db, tmp_path / "own")
    _declare(db, [1e-4] * 3, [0.0] * 3)
    assert np.array_equal(_chip(db, tmp_path / "item"), truth)
    db.dispose()
