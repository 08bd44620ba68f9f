"""A value ``ingest-stac --nodata`` gave is a decision its scene keeps (review r6,
2026-12-06, session 39): a later run without --nodata keeps it (does not fail an item
whose own value is invalid, does not take the item's back and count the scene again),
until --nodata is given again (another value, none, or item for the item's own); a new
item of such a run takes its own value. Colour-table scenes counted before 82b2e7f with
an item nodata are counted again by the next process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from railwatch.imagery.read import ITEM_NODATA_KEY
from test_scene_identity_s29 import write_items
from test_stac import site_db
from test_stac_coverage_nodata_options_s39 import _cli, _ground, _palette, _scenes, _write
from test_stac_nodata_s38 import _detector, item, write_image


def _state(db: Any) -> list[tuple[Any, str, str]]:
    return [
        (s.meta.get(ITEM_NODATA_KEY), str(s.status), str(s.detector_version)) for s in _scenes(db)
    ]


def test_a_run_without_nodata_keeps_the_value_given_for_an_invalid_item(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = site_db(tmp_db_url)
    url = write_items(tmp_path / "i.json", item(write_image(tmp_path / "a.tif"), 300))
    code, out = _cli(tmp_db_url, url, capsys)
    assert code == 1 and "--nodata VALUE" in out and not _scenes(db)  # a new item fails
    assert _cli(tmp_db_url, url, capsys, "--nodata", "0")[0] == 0
    for _ in range(2):  # the daily run, without --nodata
        code, out = _cli(tmp_db_url, url, capsys, "--json")
        assert code == 0, out
        summary = json.loads(out)
        assert not summary["failed"]
        [dup] = summary["duplicates"]
        assert dup["nodata_kept"] == "0.0"
        assert "--nodata gave it at an earlier run (0)" in dup["reason"]
        assert "counts it again" not in dup["reason"]
        assert [v for v, _, _ in _state(db)] == [0.0]
    # --nodata item: back to the item's own value, invalid: the item fails, scene kept
    code, out = _cli(tmp_db_url, url, capsys, "--nodata", "item")
    assert code == 1 and "outside the range of uint8" in out
    assert "its scene keeps --nodata 0, given at an earlier run" in out
    assert [v for v, _, _ in _state(db)] == [0.0]


def test_toggling_nodata_does_not_recount_a_scene_each_run(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.pipeline import process_site
    from railwatch.stac import NODATA_CHANGED

    db = site_db(tmp_db_url)
    url = write_items(tmp_path / "i.json", item(write_image(tmp_path / "a.tif")))
    assert _cli(tmp_db_url, url, capsys)[0] == 0
    process_site(db, "yard", detector=_detector())
    assert _cli(tmp_db_url, url, capsys, "--nodata", "none")[0] == 0
    assert _state(db)[0][0] is None and _state(db)[0][2].endswith(NODATA_CHANGED)
    process_site(db, "yard", detector=_detector())
    counted = _state(db)
    assert not counted[0][2].endswith(NODATA_CHANGED)
    code, out = _cli(tmp_db_url, url, capsys)  # the scheduled run
    assert code == 0, out
    assert _state(db) == counted  # not reverted to the item's value, not marked
    assert process_site(db, "yard", detector=_detector()).total == 0  # nothing to count
    # --nodata item takes the item's value back, counted again
    code, out = _cli(tmp_db_url, url, capsys, "--nodata", "item")
    assert code == 0 and "as its item declares" in out
    [(value, _, version)] = _state(db)
    assert value is not None and version.endswith(NODATA_CHANGED)
    process_site(db, "yard", detector=_detector())
    again = _state(db)
    assert _cli(tmp_db_url, url, capsys)[0] == 0
    assert _state(db) == again


def test_the_same_value_given_is_kept_without_a_recount(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--nodata of the value the scene has already: kept from then on, nothing counted
    again; the item declaring another later does not change it without --nodata."""
    from railwatch.imagery.read import item_nodata_of
    from railwatch.stac import NODATA_OPTION_KEY, NODATA_SOURCE_KEY

    db = site_db(tmp_db_url)
    image = write_image(tmp_path / "a.tif")
    url = write_items(tmp_path / "i.json", item(image))
    assert _cli(tmp_db_url, url, capsys)[0] == 0
    [before] = _scenes(db)
    assert NODATA_SOURCE_KEY not in before.meta
    value = item_nodata_of(before.meta)
    assert value is not None
    code, out = _cli(tmp_db_url, url, capsys, "--nodata", f"{value:g}")
    assert code == 0 and "nothing is counted again" in out
    [scene] = _scenes(db)
    assert scene.meta[NODATA_SOURCE_KEY] == "option"
    assert scene.meta[NODATA_OPTION_KEY] == repr(value)
    url = write_items(tmp_path / "i.json", item(image, 3))  # the provider's changes
    assert _cli(tmp_db_url, url, capsys)[0] == 0
    assert item_nodata_of(_scenes(db)[0].meta) == value


def test_a_new_item_of_a_run_without_nodata_takes_its_own(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.stac import NODATA_SOURCE_KEY

    db = site_db(tmp_db_url)
    first = item(write_image(tmp_path / "a.tif"), 300)
    url = write_items(tmp_path / "i.json", first)
    assert _cli(tmp_db_url, url, capsys, "--nodata", "0")[0] == 0
    second = item(_write(tmp_path / "b.tif", _ground(seed=11)), 5)
    second["id"] = "b"
    url = write_items(tmp_path / "j.json", first, second)
    code, out = _cli(tmp_db_url, url, capsys)
    assert code == 0, out
    by_id = {s.meta["stac_id"]: s.meta for s in _scenes(db)}
    assert by_id["a"][ITEM_NODATA_KEY] == 0.0 and by_id["a"][NODATA_SOURCE_KEY] == "option"
    assert by_id["b"][ITEM_NODATA_KEY] == 5.0 and NODATA_SOURCE_KEY not in by_id["b"]


def test_item_is_a_nodata_option() -> None:
    from railwatch.stac import parse_nodata_override

    assert parse_nodata_override(" Item ") == "item"


def test_a_palette_scene_counted_before_the_index_rule_is_counted_again(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A colour-table scene with an item nodata counted before 82b2e7f (process read the
    fill as ground): the next ingest-stac run has it counted again, once, saying why."""
    from railwatch.pipeline import process_site
    from railwatch.stac import NODATA_CHANGED
    from railwatch.storage import repo

    db = site_db(tmp_db_url)
    url = write_items(tmp_path / "i.json", item(_palette(tmp_path / "p.tif"), key="nodata"))
    assert _cli(tmp_db_url, url, capsys)[0] == 0
    assert process_site(db, "yard", detector=_detector()).total == 1
    with db.session() as s:  # as a scene registered and counted before: no key, 1.0
        [scene] = repo.list_scenes(s, "yard")
        scene.meta = {k: v for k, v in scene.meta.items() if k != "stac_nodata_index"}
        scene.quality_coverage = 1.0
    code, out = _cli(tmp_db_url, url, capsys, "--json")
    assert code == 0, out
    [dup] = json.loads(out)["duplicates"]
    assert "has a colour table, whose index 7" in dup["reason"]
    assert "counts it again" in dup["reason"]
    [(_, status, version)] = _state(db)
    assert status in ("processed", "unusable") and version.endswith(NODATA_CHANGED)
    assert process_site(db, "yard", detector=_detector()).total == 1
    [scene] = _scenes(db)
    assert scene.quality_coverage == pytest.approx(0.5, abs=0.03)
    code, out = _cli(tmp_db_url, url, capsys, "--json")  # once
    assert "colour table" not in out and not _state(db)[0][2].endswith(NODATA_CHANGED)


def test_a_palette_scene_registered_now_is_not_counted_again(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.pipeline import process_site

    db = site_db(tmp_db_url)
    url = write_items(tmp_path / "i.json", item(_palette(tmp_path / "p.tif"), key="nodata"))
    assert _cli(tmp_db_url, url, capsys)[0] == 0
    assert _scenes(db)[0].meta["stac_nodata_index"] is True
    process_site(db, "yard", detector=_detector())
    counted = _state(db)
    code, out = _cli(tmp_db_url, url, capsys)
    assert code == 0 and "colour table" not in out and _state(db) == counted


def test_a_nodata_taken_while_process_counts_the_scene_is_not_written_over(
    tmp_path: Path, tmp_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race of review r6: `ingest-stac --nodata` takes a new value (and marks the
    scene) after `process` read the scene with the old one and before it records the
    result. The result read with the old value is not recorded, the mark stays, and the
    next process counts the scene with the new value. (A guard: it held before, by
    pipeline._nodata_taken_meanwhile under the scene's row lock.)"""
    from railwatch import pipeline
    from railwatch.imagery.read import item_nodata_of
    from railwatch.stac import NODATA_CHANGED, ingest_stac

    db = site_db(tmp_db_url)
    url = write_items(tmp_path / "i.json", item(write_image(tmp_path / "a.tif")))
    assert len(ingest_stac(db, "yard", url).ingested) == 1
    assert pipeline.process_site(db, "yard", detector=_detector()).total == 1
    real = pipeline.process_scene
    read_with: list[float | None] = []

    def counted_meanwhile(job: Any, detector: Any) -> Any:
        outcome = real(job, detector)
        read_with.append(job.item_nodata)
        if len(read_with) == 1:  # the other run, between the read and the record
            [dup] = ingest_stac(db, "yard", url, nodata="3").duplicates
            assert "counts it again" in dup["reason"]
        return outcome

    monkeypatch.setattr(pipeline, "process_scene", counted_meanwhile)
    pipeline.process_site(db, "yard", detector=_detector(), reprocess=True)
    [scene] = _scenes(db)
    assert item_nodata_of(scene.meta) == 3.0
    assert str(scene.detector_version).endswith(NODATA_CHANGED)  # not written over
    assert pipeline.process_site(db, "yard", detector=_detector()).total == 1
    assert read_with == [7.0, 3.0]
    assert not str(_scenes(db)[0].detector_version).endswith(NODATA_CHANGED)
