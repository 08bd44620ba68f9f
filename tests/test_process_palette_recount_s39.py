"""`railwatch process` alone finds a colour-table STAC scene with an item nodata counted
before 82b2e7f (its fill read as ground) and counts it again, once, saying why; each
scene's file is looked at once (its metadata then carries ``stac_nodata_index``), a
scene without a colour table is not counted again (2026-12-06, session 39)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from test_scene_identity_s29 import write_items
from test_stac import site_db
from test_stac_coverage_nodata_options_s39 import _cli, _palette, _scenes
from test_stac_nodata_s38 import _detector, item, write_image

KEY = "stac_nodata_index"


def _versions(db: Any) -> list[str]:
    return [str(s.detector_version) for s in _scenes(db)]


def test_process_counts_an_old_palette_scene_again_once(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.pipeline import process_site
    from railwatch.stac import NODATA_CHANGED
    from railwatch.storage import repo

    db = site_db(tmp_db_url)
    url = write_items(tmp_path / "i.json", item(_palette(tmp_path / "p.tif"), key="nodata"))
    assert _cli(tmp_db_url, url, capsys)[0] == 0
    assert process_site(db, "yard", detector=_detector()).total == 1
    with db.session() as s:  # as a scene registered and counted before: no key, 1.0
        [scene] = repo.list_scenes(s, "yard")
        scene.meta = {k: v for k, v in scene.meta.items() if k != KEY}
        scene.quality_coverage = 1.0
    summary = process_site(db, "yard", detector=_detector())
    assert summary.total == 1 and summary.skipped == 0
    [(scene_id, why)] = summary.recounted
    assert "has a colour table, whose index 7" in why and "counts it again" in why
    [scene] = _scenes(db)
    assert scene.id == scene_id and scene.meta[KEY] is True
    assert scene.quality_coverage == pytest.approx(0.5, abs=0.03)
    assert not scene.detector_version.endswith(NODATA_CHANGED)
    counted = _versions(db)
    again = process_site(db, "yard", detector=_detector())  # once
    assert again.total == 0 and again.skipped == 1 and not again.recounted
    assert _versions(db) == counted


def test_process_does_not_count_a_scene_without_a_colour_table_again(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.pipeline import process_site

    db = site_db(tmp_db_url)
    url = write_items(tmp_path / "i.json", item(write_image(tmp_path / "a.tif"), key="nodata"))
    assert _cli(tmp_db_url, url, capsys)[0] == 0
    [scene] = _scenes(db)
    assert scene.meta["stac_nodata"] == 7 and KEY not in scene.meta
    assert process_site(db, "yard", detector=_detector()).total == 1
    counted = _versions(db)
    assert _scenes(db)[0].meta[KEY] is False  # looked at once, recorded
    again = process_site(db, "yard", detector=_detector())
    assert again.total == 0 and again.skipped == 1 and not again.recounted
    assert _versions(db) == counted and _scenes(db)[0].meta[KEY] is False
