"""Second review of the drop-folder ingest (2026-12-07, session 50): the zero checks on
JPEG COGs, a clean run that touches nothing, a file told stuck and written to in place,
a full disk while the transit log is saved, and an unusable scene's causes in
``scene show`` and ``scene list``."""

from __future__ import annotations

import errno
import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import rasterio
from rasterio.shutil import copy as rcopy

from test_transit_fix_s50 import _age_log, _drop, _holed, _pre_sized, _write_in_place

WHEN = datetime(2024, 1, 1, tzinfo=UTC)

# ----------------------------------------------------------------- 1. JPEG COGs


def _jpeg(tmp_path: Path, name: str, **kwargs: Any) -> Path:
    from report_db import write_scene

    src = write_scene(tmp_path / "src.tif", 6, 0.5, seed=2)
    out = tmp_path / name
    rcopy(src, out, compress="JPEG", **kwargs)
    return out


def test_a_jpeg_cog_written_in_pieces_is_refused(tmp_path: Path) -> None:
    """GDAL reports a 3-band JPEG COG's compression as "YCbCr JPEG" (the COG driver
    always writes YCbCr): both zero checks passed it by, and a JPEG COG with its middle
    zeros was ingested."""
    from railwatch.imagery import inspect_scene
    from railwatch.imagery.inspect import CorruptImageError

    cog = _jpeg(tmp_path, "whole.tif", driver="COG", blocksize=128)
    with rasterio.open(cog) as ds:
        assert ds.tags(ns="IMAGE_STRUCTURE")["COMPRESSION"] == "YCbCr JPEG"
    inspect_scene(cog, date=WHEN)  # whole: fine
    with pytest.raises(CorruptImageError, match="written in pieces") as caught:
        inspect_scene(_holed(cog, 0.5, 0.55), date=WHEN)
    assert "jpeg-compressed image data never does" in " ".join(str(caught.value).split())


def test_a_pre_sized_jpeg_cog_is_refused(tmp_path: Path) -> None:
    from railwatch.imagery import inspect_scene
    from railwatch.imagery.inspect import CorruptImageError

    cog = _jpeg(tmp_path, "whole.tif", driver="COG", blocksize=128)
    part = tmp_path / "part.tif"
    part.write_bytes(_pre_sized(cog.read_bytes(), 0.7))
    with pytest.raises(CorruptImageError, match="corrupt or truncated"):
        inspect_scene(part, date=WHEN)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"driver": "COG"},
        {"driver": "COG", "blocksize": 128},
        {"driver": "GTiff", "photometric": "RGB", "tiled": True},
        {"driver": "GTiff", "photometric": "YCBCR", "tiled": True},
        {"driver": "GTiff", "photometric": "YCBCR"},  # strips
    ],
)
def test_whole_jpeg_tiffs_are_no_false_alarm(tmp_path: Path, kwargs: dict[str, Any]) -> None:
    from railwatch.imagery import inspect_scene

    inspect_scene(_jpeg(tmp_path, "whole.tif", **kwargs), date=WHEN)


def test_a_holed_jpeg_cog_is_left_in_the_drop_folder(tmp_path: Path) -> None:
    from railwatch.ingest import ingest_paths

    db, drop, _ = _drop(tmp_path)
    cog = _jpeg(tmp_path, "c_2022-01-20.tif", driver="COG", blocksize=128)
    _holed(cog, 0.5, 0.55).rename(drop / cog.name)
    got = ingest_paths(db, "yard", [drop], transit_log=tmp_path / "log.json")
    assert not got.ingested and got.in_transit, got


# -------------------------------------------------- 2. a clean run touches nothing


def test_a_clean_run_creates_no_cache_folder(tmp_path: Path) -> None:
    from railwatch.ingest import ingest_paths

    db, drop, data = _drop(tmp_path)
    (drop / "b_2022-01-20.tif").write_bytes(data)
    cache = tmp_path / "cache"
    got = ingest_paths(db, "yard", [drop], transit_log=cache / "ingest-in-transit.json")
    assert len(got.ingested) == 1
    assert not cache.exists()
    again = ingest_paths(db, "yard", [drop], transit_log=cache / "ingest-in-transit.json")
    assert again.duplicates and not cache.exists()


def test_a_read_only_cache_folder_gives_no_warning_on_a_clean_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Every clean run locked the log (to write nothing): where the cache folder is
    read-only, each warned it could not."""
    import railwatch.ingest as ingest

    @contextmanager
    def read_only(lock: Path, timeout: float) -> Iterator[bool]:
        raise OSError(errno.EROFS, "Read-only file system", str(lock))
        yield False  # pragma: no cover

    monkeypatch.setattr(ingest, "_held", read_only)
    db, drop, data = _drop(tmp_path)
    (drop / "b_2022-01-20.tif").write_bytes(data)
    with caplog.at_level(logging.WARNING, logger="railwatch"):
        got = ingest.ingest_paths(db, "yard", [drop], transit_log=tmp_path / "c" / "log.json")
    assert len(got.ingested) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


def test_a_file_kept_before_is_still_forgotten_once_read(tmp_path: Path) -> None:
    from railwatch.ingest import ingest_paths

    db, drop, data = _drop(tmp_path)
    part = drop / "b_2022-01-20.tif"
    log = tmp_path / "cache" / "log.json"
    _write_in_place(part, data[: len(data) // 3])
    assert ingest_paths(db, "yard", [drop], transit_log=log).in_transit
    assert len(json.loads(log.read_text())) == 1
    _write_in_place(part, data)
    assert len(ingest_paths(db, "yard", [drop], transit_log=log).ingested) == 1
    assert json.loads(log.read_text()) == {}


def test_a_loop_of_links_in_the_drop_folder_is_no_internal_error(tmp_path: Path) -> None:
    """``Path.resolve`` raises RuntimeError on a loop of links (Python 3.11): the
    transit log's key of such a file ended the ingest as an internal error."""
    from railwatch.ingest import TransitLog, ingest_paths

    db, drop, _ = _drop(tmp_path)
    (drop / "a.tif").symlink_to("b.tif")
    (drop / "b.tif").symlink_to("a.tif")
    assert TransitLog.key(drop / "a.tif") == str(drop / "a.tif")
    got = ingest_paths(db, "yard", [drop], transit_log=tmp_path / "log.json")
    assert len(got.failed) == 2, got


# ------------------------------------------- 3. told stuck, then written in place


def _told_stuck(tmp_path: Path) -> tuple[Any, Path, Path, bytes]:
    """A drop folder whose file has been left a day, failed as stuck."""
    from railwatch.ingest import IN_TRANSIT_GROWING_SECONDS, ingest_paths

    db, drop, data = _drop(tmp_path)
    part = drop / "b_2022-01-20.tif"
    log = tmp_path / "log.json"
    _write_in_place(part, data[: len(data) // 4])
    assert ingest_paths(db, "yard", [drop], transit_log=log).in_transit
    _age_log(log, IN_TRANSIT_GROWING_SECONDS + 60)
    _write_in_place(part, data[: len(data) // 3])
    stuck = ingest_paths(db, "yard", [drop], transit_log=log)
    assert "not a copy that will finish" in stuck.failed[0]["reason"], stuck
    return db, part, log, data


def test_a_file_told_stuck_and_written_in_place_stays_failed(tmp_path: Path) -> None:
    """After the failure, the sync that keeps writing restarted both clocks with its
    next write, and went back to "still being copied" (status 75) for up to a day."""
    from railwatch.ingest import IN_TRANSIT_GROWING_SECONDS, ingest_paths

    db, part, log, data = _told_stuck(tmp_path)
    drop = part.parent
    for frac in (2, 1.5):  # it goes on growing, in place
        _write_in_place(part, data[: int(len(data) / frac)])
        again = ingest_paths(db, "yard", [drop], transit_log=log)
        assert not again.in_transit, again.in_transit
        assert "not a copy that will finish" in again.failed[0]["reason"]
    (entry,) = json.loads(log.read_text()).values()  # its day goes on
    assert time.time() - entry.get("since", entry["first"]) > IN_TRANSIT_GROWING_SECONDS


def test_a_new_file_after_the_failure_starts_afresh(tmp_path: Path) -> None:
    from railwatch.ingest import ingest_paths

    db, part, log, data = _told_stuck(tmp_path)
    fresh = part.with_name(".part")  # another inode: both exist at once
    fresh.write_bytes(data[: len(data) // 2])
    os.replace(fresh, part)
    again = ingest_paths(db, "yard", [part.parent], transit_log=log)
    assert again.in_transit and not again.failed, again.failed


def test_a_pre_sized_copy_started_over_after_the_failure_starts_afresh(tmp_path: Path) -> None:
    """The same inode and size, less of it written: a new download in place."""
    from railwatch.ingest import IN_TRANSIT_GROWING_SECONDS, ingest_paths

    db, drop, data = _drop(tmp_path)
    part = drop / "b_2022-01-20.tif"
    log = tmp_path / "log.json"
    _write_in_place(part, _pre_sized(data, 0.5))
    assert ingest_paths(db, "yard", [drop], transit_log=log).in_transit
    _age_log(log, IN_TRANSIT_GROWING_SECONDS + 60)
    stuck = ingest_paths(db, "yard", [drop], transit_log=log)
    assert stuck.failed and not stuck.in_transit
    _write_in_place(part, _pre_sized(data, 0.1))
    again = ingest_paths(db, "yard", [drop], transit_log=log)
    assert again.in_transit and not again.failed, again.failed


# ----------------------------------------------------- 4. a full disk on save


def test_a_failed_write_of_the_log_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from railwatch.ingest import TransitLog

    real = Path.write_text

    def full(self: Path, text: str, *args: Any, **kwargs: Any) -> int:
        if self.name.endswith(".tmp"):
            real(self, text[:3], *args, **kwargs)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, text, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full)
    cache = tmp_path / "cache"
    log = cache / "ingest-in-transit.json"
    one = tmp_path / "one.tif"
    one.write_bytes(b"II*\0" + b"\1" * 100)
    transits = TransitLog(log)
    transits.seen(one, time.time(), one.stat(), 1)
    with caplog.at_level(logging.WARNING, logger="railwatch"):
        transits.save(time.time())
    assert "No space left on device" in caplog.text
    assert sorted(p.name for p in cache.iterdir()) == ["ingest-in-transit.json.lock"]


# ------------------------------------------- 5. scene show and list: causes, notes


def test_scene_show_and_list_give_causes_apart_from_the_resolution_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.cli.main import main
    from railwatch.sites import SiteSpec
    from railwatch.storage import Database, repo
    from report_db import SITE_UTM, FakeQuality, add_ingested_scene, to_wgs84

    note = "resolution 3.0 m: cars are not separable, counts come from occupied track length"
    url = f"sqlite:///{tmp_path}/c.db"
    db = Database(url)
    with db.session() as s:
        repo.add_site(s, SiteSpec(name="yard", geometry=to_wgs84(SITE_UTM)))
        scene = add_ingested_scene(s, "yard", datetime(2024, 6, 28, 2, tzinfo=UTC), 3.0, 1)
        # the note first: `scene list` took the first reason
        quality = FakeQuality(0.1, usable=False, reasons=(note, "cloud covers 90 % of the site"))
        repo.record_scene_result(s, scene.id, quality, [], None, "test", "1")
        scene_id = int(scene.id)
    db.dispose()
    capsys.readouterr()
    assert main(["--db", url, "scene", "show", str(scene_id)]) == 0
    out = capsys.readouterr().out
    assert "- cloud covers 90 % of the site" in out, out
    assert "- resolution" not in out, out
    assert f"  note        {note}" in out, out
    assert main(["--db", url, "scene", "list", "yard"]) == 0
    listed = " ".join(capsys.readouterr().out.split())
    assert "unusable" in listed and "cloud" in listed, listed
    assert "separable" not in listed, listed
