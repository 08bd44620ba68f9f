"""A scene that fails when processed again keeps its earlier result: a moved folder
met by ``--reprocess`` (or a new detector version) marked every scene failed and deleted
its counts, emptying the site's series. Only a file changed since ingest removes it."""

from __future__ import annotations

from pathlib import Path

from railwatch.pipeline import process_site
from railwatch.storage import Database, repo
from test_detect_fakes import BrightBlobDetector
from test_pipeline import site_db  # noqa: F401  (the fixture)


def _counts(db: Database) -> list[float | None]:
    with db.session() as s:
        return [p.count for p in repo.count_series(s, "yard")]


def test_a_moved_folder_keeps_the_earlier_counts(site_db: tuple[Database, Path]) -> None:  # noqa: F811
    db, imgs = site_db
    det = BrightBlobDetector()
    det.name, det.version = "fake", "1"
    process_site(db, "yard", detector=det)
    before = _counts(db)
    assert any(c is not None for c in before)
    moved = imgs.with_name("moved")
    imgs.rename(moved)
    again = process_site(db, "yard", detector=det, reprocess=True)
    assert len(again.failed) == 3
    assert _counts(db) == before  # the series is kept
    with db.session() as s:
        scenes = repo.list_scenes(s, "yard")
        assert {sc.status for sc in scenes} == {"processed", "unusable"}
        assert all("processing again failed" in (sc.error or "") for sc in scenes)
        assert all("the earlier result, by 1" in (sc.error or "") for sc in scenes)
    moved.rename(imgs)
    process_site(db, "yard", detector=det, reprocess=True)
    with db.session() as s:
        assert all(sc.error is None for sc in repo.list_scenes(s, "yard"))
    assert _counts(db) == before


def test_a_file_changed_since_ingest_still_removes_its_result(
    site_db: tuple[Database, Path],  # noqa: F811
) -> None:
    db, imgs = site_db
    det = BrightBlobDetector()
    det.name, det.version = "fake", "1"
    process_site(db, "yard", detector=det)
    fine = imgs / "fine.tif"
    data = bytearray(fine.read_bytes())
    data[-100] ^= 0xFF  # the same name and size, other content
    fine.write_bytes(bytes(data))
    again = process_site(db, "yard", detector=det, reprocess=True)
    assert len(again.failed) == 1
    with db.session() as s:
        (sc,) = [x for x in repo.list_scenes(s, "yard") if x.uri.endswith("fine.tif")]
        assert sc.status == "failed" and "changed since" in (sc.error or "")
        assert not sc.counts
