"""Files still being copied into a drop folder (2026-12-07, session 50 review): a
pre-sized copy that progresses, a fresh copy under the same name, two runs sharing the
transit log, and a copy written in pieces."""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.shutil import copy as rcopy

from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo


def _drop(tmp_path: Path) -> tuple[Database, Path, bytes]:
    """A site, its drop folder and the bytes of a whole deflate COG of it."""
    from report_db import SITE_UTM, to_wgs84, write_scene

    db = Database(f"sqlite:///{tmp_path}/drop.db")
    src = write_scene(tmp_path / "src_2022-01-20.tif", 6, 0.5, seed=2)
    whole = tmp_path / "b_2022-01-20.tif"
    rcopy(src, whole, driver="COG", compress="DEFLATE")
    with db.session() as s:
        repo.add_site(s, SiteSpec(name="yard", geometry=to_wgs84(SITE_UTM)))
    drop = tmp_path / "drop"
    drop.mkdir()
    return db, drop, whole.read_bytes()


def _pre_sized(data: bytes, fraction: float) -> bytes:
    """A copy that reserved the file's full size and wrote ``fraction`` of it."""
    keep = int(len(data) * fraction)
    return data[:keep] + b"\0" * (len(data) - keep)


def _write_in_place(path: Path, data: bytes) -> None:
    """Write ``data`` over the file (the same inode, as a copy in progress does)."""
    with path.open("r+b" if path.exists() else "wb") as fh:
        fh.write(data)
        fh.truncate(len(data))


def _age_log(log: Path, seconds: float) -> None:
    entries = json.loads(log.read_text())
    for entry in entries.values():
        for key in ("first", "since", "progress"):
            if key in entry:
                entry[key] -= seconds
    log.write_text(json.dumps(entries))


# ------------------------------------------------------ 1. a pre-sized copy progressing


def test_a_pre_sized_copy_that_progresses_is_left_longer(tmp_path: Path) -> None:
    from railwatch.ingest import IN_TRANSIT_MAX_SECONDS, ingest_paths

    db, drop, data = _drop(tmp_path)
    part = drop / "b_2022-01-20.tif"
    log = tmp_path / "log.json"
    _write_in_place(part, _pre_sized(data, 0.3))
    assert ingest_paths(db, "yard", [drop], transit_log=log).in_transit
    # an hour and more later, the copier wrote more of it: the size is the same
    _age_log(log, IN_TRANSIT_MAX_SECONDS + 60)
    _write_in_place(part, _pre_sized(data, 0.6))
    later = ingest_paths(db, "yard", [drop], transit_log=log)
    assert later.in_transit and not later.failed, later.failed
    # then nothing more for an hour: rewritten as it was, it fails as before
    _age_log(log, IN_TRANSIT_MAX_SECONDS + 60)
    _write_in_place(part, _pre_sized(data, 0.6))
    stuck = ingest_paths(db, "yard", [drop], transit_log=log)
    assert not stuck.in_transit and "not a copy that will finish" in stuck.failed[0]["reason"]


def test_a_copy_is_failed_an_hour_after_it_last_progressed(tmp_path: Path) -> None:
    """Not at the first run without progress an hour after it was first left: a copy
    that grew a minute ago may pause between two runs."""
    from railwatch.ingest import IN_TRANSIT_MAX_SECONDS, ingest_paths

    db, drop, data = _drop(tmp_path)
    part = drop / "b_2022-01-20.tif"
    log = tmp_path / "log.json"
    _write_in_place(part, data[: len(data) // 3])
    assert ingest_paths(db, "yard", [drop], transit_log=log).in_transit
    _age_log(log, IN_TRANSIT_MAX_SECONDS + 60)
    _write_in_place(part, data[: len(data) // 2])  # it grew
    assert ingest_paths(db, "yard", [drop], transit_log=log).in_transit
    _write_in_place(part, data[: len(data) // 2])  # a few minutes later: the same
    paused = ingest_paths(db, "yard", [drop], transit_log=log)
    assert paused.in_transit and not paused.failed, paused.failed


def test_written_probes_count_what_is_written() -> None:
    from railwatch.ingest import written_probes

    assert written_probes(Path("/nonexistent/x.tif"), 1000) == 0


def test_written_probes_grow_with_a_pre_sized_copy(tmp_path: Path) -> None:
    from railwatch.ingest import written_probes

    data = np.random.default_rng(0).integers(1, 255, 1_000_000, dtype=np.uint8).tobytes()
    path = tmp_path / "x.tif"
    counts = []
    for fraction in (0.1, 0.4, 0.41, 1.0):
        _write_in_place(path, _pre_sized(data, fraction))
        counts.append(written_probes(path, len(data)))
    assert counts == sorted(counts) and len(set(counts)) == 4 and counts[-1] == 256
    # a copy in pieces: its end written first
    _write_in_place(path, data[:100_000] + b"\0" * 800_000 + data[900_000:])
    pieces = written_probes(path, len(data))
    _write_in_place(path, data[:500_000] + b"\0" * 400_000 + data[900_000:])
    assert written_probes(path, len(data)) > pieces


# ---------------------------------------------------- 2. a fresh copy under the name


def test_a_fresh_copy_under_the_name_starts_its_clock_again(tmp_path: Path) -> None:
    from railwatch.ingest import IN_TRANSIT_GROWING_SECONDS, IN_TRANSIT_MAX_SECONDS, ingest_paths

    db, drop, data = _drop(tmp_path)
    part = drop / "b_2022-01-20.tif"
    log = tmp_path / "log.json"
    _write_in_place(part, _pre_sized(data, 0.3))
    assert ingest_paths(db, "yard", [drop], transit_log=log).in_transit
    # an hour later the operator deleted it and a new download began: a new file (another
    # inode), as large, less of it written
    _age_log(log, IN_TRANSIT_MAX_SECONDS + 60)
    fresh = drop / ".b_2022-01-20.tif.part"
    fresh.write_bytes(_pre_sized(data, 0.1))
    os.replace(fresh, part)
    again = ingest_paths(db, "yard", [drop], transit_log=log)
    assert again.in_transit and not again.failed, again.failed
    (entry,) = json.loads(log.read_text()).values()
    assert entry["restarts"] == 1 and entry["since"] < entry["first"]
    # an hour later again: deleted, and copied again without reserving the size (shorter)
    _age_log(log, IN_TRANSIT_MAX_SECONDS + 60)
    part.unlink()
    part.write_bytes(data[: len(data) // 10])
    third = ingest_paths(db, "yard", [drop], transit_log=log)
    assert third.in_transit and not third.failed, third.failed
    # a name whose copies start over for a day fails all the same, and says so
    _age_log(log, IN_TRANSIT_GROWING_SECONDS)
    with part.open("ab") as fh:
        fh.write(b"\1" * 1000)
    day = ingest_paths(db, "yard", [drop], transit_log=log)
    assert not day.in_transit
    reason = " ".join(day.failed[0]["reason"].split())
    assert "a new copy of it started 2 times since" in reason
    assert "not a copy that will finish" in reason
    # told so, the operator deleted it and a new download began (shorter than the copy
    # failed: an inode is often reused, so only that tells it from the same file grown;
    # session 50 second review): it starts afresh
    part.unlink()
    part.write_bytes(data[: len(data) // 20])
    fresh_start = ingest_paths(db, "yard", [drop], transit_log=log)
    assert fresh_start.in_transit and not fresh_start.failed, fresh_start.failed
    (entry,) = json.loads(log.read_text()).values()
    assert "since" not in entry and "restarts" not in entry


# ----------------------------------------------------- 3. two runs sharing the log


def _stat_of(path: Path) -> os.stat_result:
    path.write_bytes(b"II*\0" + b"\1" * 100)
    return path.stat()


def test_two_runs_sharing_the_log_keep_each_others_entries(tmp_path: Path) -> None:
    from railwatch.ingest import TransitLog

    log = tmp_path / "cache" / "ingest-in-transit.json"
    one, two = tmp_path / "one.tif", tmp_path / "two.tif"
    now = time.time()
    a, b = TransitLog(log), TransitLog(log)  # both read the log before either writes
    a.seen(one, now, _stat_of(one), 1)
    b.seen(two, now, _stat_of(two), 1)
    a.save(now)
    b.save(now)
    assert set(json.loads(log.read_text())) == {TransitLog.key(one), TransitLog.key(two)}
    # a later run that read ``one`` whole forgets it alone
    c = TransitLog(log)
    c.forget(one)
    c.save(now)
    assert set(json.loads(log.read_text())) == {TransitLog.key(two)}


def test_saving_the_log_waits_for_another_runs_lock(tmp_path: Path) -> None:
    import fcntl

    from railwatch.ingest import TransitLog

    log = tmp_path / "ingest-in-transit.json"
    one = tmp_path / "one.tif"
    run = TransitLog(log)
    run.seen(one, time.time(), _stat_of(one), 1)
    fd = os.open(tmp_path / "ingest-in-transit.json.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    saver = threading.Thread(target=run.save, args=(time.time(),))
    saver.start()
    try:
        saver.join(0.5)
        assert saver.is_alive() and not log.exists()  # waiting for the lock
    finally:
        os.close(fd)
    saver.join(30)
    assert not saver.is_alive() and TransitLog.key(one) in json.loads(log.read_text())


def test_a_lock_held_too_long_is_passed_over(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import fcntl

    from railwatch.ingest import TransitLog

    log = tmp_path / "ingest-in-transit.json"
    one = tmp_path / "one.tif"
    run = TransitLog(log)
    run.seen(one, time.time(), _stat_of(one), 1)
    fd = os.open(tmp_path / "ingest-in-transit.json.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        run.save(time.time(), timeout=0.1)  # a cache: written without the lock
    finally:
        os.close(fd)
    assert TransitLog.key(one) in json.loads(log.read_text())
    assert "held by another run" in caplog.text


# --------------------------------------------------------- 4. a copy written in pieces


def _holed(whole: Path, start: float, end: float) -> Path:
    """``whole`` with the bytes from ``start`` to ``end`` (fractions of it) zeros."""
    data = whole.read_bytes()
    a, b = int(len(data) * start), int(len(data) * end)
    partial = whole.with_name("partial.tif")
    partial.write_bytes(data[:a] + b"\0" * (b - a) + data[b:])
    return partial


@pytest.mark.parametrize(("start", "end"), [(0.4, 0.85), (0.5, 0.6), (0.7, 0.9)])
def test_a_copy_written_in_pieces_is_not_ingested_as_whole(
    tmp_path: Path, start: float, end: float
) -> None:
    """A download in several pieces at once (aria2 -x4) leaves zeros in the middle of
    the file, its end written: its header and overviews read well, and the zero tail
    check passed it as whole."""
    from railwatch.imagery import inspect_scene
    from railwatch.imagery.inspect import CorruptImageError
    from railwatch.ingest import in_transit_reason
    from report_db import write_scene

    src = write_scene(tmp_path / "src.tif", 6, 0.5, seed=2)
    whole = tmp_path / "whole.tif"
    rcopy(src, whole, driver="COG", compress="DEFLATE", blocksize=128)
    when = datetime(2024, 1, 1, tzinfo=UTC)
    inspect_scene(whole, date=when)  # the whole file is fine
    with pytest.raises(CorruptImageError) as caught:
        inspect_scene(_holed(whole, start, end), date=when)
    text = str(caught.value)
    assert "image blocks checked start or end in zeros" in text
    assert "a copy written in pieces that has not finished" in text
    assert text.endswith("re-download or re-export it")
    reason = in_transit_reason(tmp_path / "partial.tif", caught.value)
    assert reason is not None and "left for the next run" in reason


def test_a_band_interleaved_copy_in_pieces_is_refused(tmp_path: Path) -> None:
    """Each band's blocks apart: the last band's are checked too."""
    from railwatch.imagery import inspect_scene
    from railwatch.imagery.inspect import CorruptImageError
    from report_db import write_scene

    src = write_scene(tmp_path / "src.tif", 6, 0.5, seed=2)
    whole = tmp_path / "whole.tif"
    rcopy(src, whole, driver="GTiff", compress="DEFLATE", tiled=True, blockxsize=128,
          blockysize=128, interleave="band")  # fmt: skip
    with rasterio.open(whole, "r+") as ds:
        ds.build_overviews([2, 4, 8])
    with rasterio.open(whole) as ds:  # the hole lies in the last band's blocks
        third = int(ds.get_tag_item("BLOCK_OFFSET_0_0", "TIFF", bidx=3))
    assert third < 0.55 * whole.stat().st_size
    when = datetime(2024, 1, 1, tzinfo=UTC)
    inspect_scene(whole, date=when)
    with pytest.raises(CorruptImageError, match="written in pieces"):
        inspect_scene(_holed(whole, 0.55, 0.6), date=when)
