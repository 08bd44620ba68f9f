"""A reference whose file stamp (``railwatch:file``) is missing from its scene does not
count the scenes that read it again on every plain `railwatch process` (session 31
review). A coarse scene's result records the references it was read with, each with
the file stamp it had (935efc9, b0afac3); a scene ingested before file stamps were kept,
or one whose stamp was taken off, has none. The recorded stamp and the scene's are
compared by the sidecars' digests (:func:`railwatch.ingest.sidecars_changed`), which
can tell nothing when one side has no stamp: no change, as for the check made while a
scene is processed (``_file_described_anew``, ``_reference_changed_meanwhile``: one
rule). Were it taken for every sidecar gone, the readers would be counted again on
every run and never settle."""

from __future__ import annotations

from pathlib import Path

import pytest
from shapely.geometry import box

from railwatch.imagery import inspect_scene
from railwatch.ingest import FILE_STAMP_KEY, SIDECARS_KEY, ingest_paths, sidecars_changed
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from railwatch.storage.repo import REFERENCES_KEY
from test_imagery_register import _site_tracks
from test_reference_recount_s31 import BASE, _all_five, _ids, _process, _render

#: A sidecar that tells GDAL something (a dataset metadata item), so each image's file
#: stamp holds a sidecar digest: with none, "every sidecar gone" would be no sidecar.
AUX = '<PAMDataset><Metadata><MDI key="SOURCE">railwatch test</MDI></Metadata></PAMDataset>'


def _with_sidecar(image: Path) -> Path:
    Path(f"{image}.aux.xml").write_text(AUX)
    return image


@pytest.fixture
def site(tmp_path: Path) -> tuple[Database, Path]:
    """The site of tests/test_reference_recount_s31.py, each image with a ``.aux.xml``."""
    first = _with_sidecar(_render(tmp_path / "imgs", 0))
    for i in (1, 2, 3):
        _with_sidecar(_render(tmp_path / "imgs", i))
    _with_sidecar(_render(tmp_path / "later", 4))
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    aoi = box(*inspect_scene(first).footprint.buffer(-0.001).bounds)
    with db.session() as s:
        repo.add_site(s, SiteSpec(name="yard", geometry=aoi, tracks=_site_tracks(BASE)))
    assert len(ingest_paths(db, "yard", [tmp_path / "imgs"]).ingested) == 4
    with db.session(readonly=True) as s:  # the stamps hold the sidecar's digest
        for scene in repo.list_scenes(s, "yard"):
            (side,) = scene.meta[FILE_STAMP_KEY][SIDECARS_KEY].values()
            assert side["sha256"]
    return db, tmp_path / "later"


def _unstamp(db: Database, scene_id: int | None = None) -> None:
    """Take the file stamp off one scene (all of them when ``scene_id`` is None)."""
    with db.session() as s:
        for scene in repo.list_scenes(s, "yard"):
            if scene_id is None or scene.id == scene_id:
                scene.meta = {k: v for k, v in scene.meta.items() if k != FILE_STAMP_KEY}


def _stamp_of(db: Database, scene_id: int) -> object:
    with db.session(readonly=True) as s:
        return (repo.get_scene(s, scene_id).meta or {}).get(FILE_STAMP_KEY)


def test_a_missing_stamp_tells_nothing_either_way() -> None:
    stamp = {"size": 1, "sidecars": {"v0.tif.aux.xml": {"sha256": "ab"}}}
    assert not sidecars_changed(stamp, None)
    assert not sidecars_changed(None, stamp)


def test_a_reference_whose_stamp_was_taken_off_counts_none_again(
    site: tuple[Database, Path],
) -> None:
    db, ids = _all_five(site)
    ref = ids["v0"]
    with db.session(readonly=True) as s:  # its readers recorded it with its stamp
        v1 = repo.get_scene(s, ids["v1"]).meta[REFERENCES_KEY]
        assert any(r["scene_id"] == ref and r[FILE_STAMP_KEY] for r in v1)
    _unstamp(db, ref)
    for _ in range(2):
        again = _process(db)
        assert again.recounted == [] and again.processed == [] and again.skipped == 5


def test_scenes_ingested_unstamped_settle_after_their_first_count(
    site: tuple[Database, Path],
) -> None:
    """All ingested before file stamps were kept: the first run counts them all (their
    references read unstamped, hashed by their check), the next ones count none."""
    db, later = site
    assert len(ingest_paths(db, "yard", [later]).ingested) == 1
    _unstamp(db)
    first = _process(db)
    assert len(first.processed) == 5 and first.recounted == []
    for _ in range(2):
        again = _process(db)
        assert again.recounted == [] and again.processed == [] and again.skipped == 5
    # a reference unstamped again after that (its readers recorded its stamp): no change
    ids = _ids(db)
    assert _stamp_of(db, ids["v0"]) is not None
    _unstamp(db, ids["v0"])
    for _ in range(2):
        again = _process(db)
        assert again.recounted == [] and again.processed == [] and again.skipped == 5
