"""Review r2 of e49257f (session 38), ingest-stac run again over a scene already there:

* a file with a mask of its own (or its own nodata, or an alpha band) takes no item
  nodata (imagery.inspect.takes_item_nodata, as every reader decides): a new item value
  is kept with its scene, but the scene is not marked +nodata-changed, so `process` does
  not count it again for nothing, and its coverage stands;
* when bringing such a scene up to date fails (its pixels cannot be read), the item is
  one failed line naming its scene, not both "already there" and "failed"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from railwatch.errors import ImageryError
from railwatch.imagery.read import ITEM_NODATA_KEY, item_nodata_of
from railwatch.pipeline import process_site
from railwatch.storage import repo

pytest.importorskip("pystac")

from test_scene_identity_s29 import write_items
from test_stac import site_db
from test_stac_nodata_mask_r2_s38 import masked_image
from test_stac_nodata_s38 import FILL, _detector, item, write_image


def _forget_nodata(db: Any) -> tuple[int, float, str]:
    """Process the site's scene, then drop its recorded item nodata."""
    assert process_site(db, "yard", detector=_detector()).total == 1
    with db.session() as s:  # as registered before session 38
        (scene,) = repo.list_scenes(s, "yard")
        scene.meta = {k: v for k, v in scene.meta.items() if k != ITEM_NODATA_KEY}
        return scene.id, scene.coverage, str(scene.detector_version)


def test_a_masked_files_scene_takes_the_items_nodata_without_counting_again(
    tmp_path: Path, tmp_db_url: str
) -> None:
    from railwatch.stac import NODATA_CHANGED, ingest_stac

    db = site_db(tmp_db_url)
    catalog = write_items(tmp_path / "i.json", item(masked_image(tmp_path / "m.tif"), 0))
    assert len(ingest_stac(db, "yard", catalog).ingested) == 1
    scene_id, coverage, version = _forget_nodata(db)

    summary = ingest_stac(db, "yard", catalog)
    assert not summary.failed
    [dup] = summary.duplicates
    assert dup["reason"] == f"already ingested as scene {scene_id}"
    assert "nodata_taken" not in dup
    with db.session(readonly=True) as s:
        scene = repo.get_scene(s, scene_id)
        assert item_nodata_of(scene.meta) == 0  # kept: a later run finds nothing to take
        assert not str(scene.detector_version or "").endswith(NODATA_CHANGED)
        assert str(scene.detector_version) == version
        assert scene.coverage == coverage
    assert process_site(db, "yard", detector=_detector()).skipped == 1
    [again] = ingest_stac(db, "yard", catalog).duplicates
    assert again["reason"] == f"already ingested as scene {scene_id}"


def test_a_plain_files_scene_still_takes_it_and_is_counted_again(
    tmp_path: Path, tmp_db_url: str
) -> None:
    from railwatch.stac import NODATA_CHANGED, ingest_stac

    db = site_db(tmp_db_url)
    catalog = write_items(tmp_path / "i.json", item(write_image(tmp_path / "a.tif")))
    ingest_stac(db, "yard", catalog)
    scene_id, _, _ = _forget_nodata(db)
    [dup] = ingest_stac(db, "yard", catalog).duplicates
    assert dup["nodata_taken"] == FILL and "counts it again" in dup["reason"]
    with db.session(readonly=True) as s:
        assert str(repo.get_scene(s, scene_id).detector_version).endswith(NODATA_CHANGED)
    assert process_site(db, "yard", detector=_detector()).skipped == 0


def test_a_failed_update_of_a_scene_already_there_is_one_failed_line(
    tmp_path: Path, tmp_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from railwatch import stac

    db = site_db(tmp_db_url)
    catalog = write_items(tmp_path / "i.json", item(write_image(tmp_path / "a.tif")))
    stac.ingest_stac(db, "yard", catalog)
    scene_id, _, _ = _forget_nodata(db)

    def unreadable(info: Any, filters: Any) -> float:
        raise ImageryError("cannot read the pixels of a.tif (simulated); run it again")

    monkeypatch.setattr(stac, "_data_coverage", unreadable)
    summary = stac.ingest_stac(db, "yard", catalog)
    assert summary.duplicates == []
    [failed] = summary.failed
    assert failed["file"].endswith("/a")
    assert failed["scene_id"] == scene_id
    assert failed["reason"].startswith(f"already ingested as scene {scene_id}, but ")
    assert "cannot read the pixels of a.tif (simulated); run it again" in failed["reason"]
    with db.session(readonly=True) as s:  # nothing taken
        assert item_nodata_of(repo.get_scene(s, scene_id).meta) is None
