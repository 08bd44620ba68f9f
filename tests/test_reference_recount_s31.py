"""A coarse scene is counted again when a reference it was read with changed since it
was recorded (session 31). A 3 m scene is registered against, and takes its empty track
from, the site's other images (its references). 935efc9 declined a result when one of
them changed while the scene was processed; one that changed after the scene was
recorded (a new mask ingested for it, `railwatch scene bands`, new item scales, the
reference removed) left the scene's result as it was, since nothing recorded which
references it was read with. Now each result records them (`railwatch:references`, the
fingerprint the 935efc9 check compares) and a plain `railwatch process` counts again
the scenes one of whose references changed or was removed since, saying why; what the
run itself writes on a reference (first-use mask stamps, its own result) is no change,
nor is an image added to the site."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import box

from imagery_helpers import rendered_scene
from railwatch.imagery import inspect_scene
from railwatch.ingest import (
    FILE_STAMP_KEY,
    MASK_CHANGED,
    MASK_STAMP_KEY,
    ingest_paths,
    mark_mask_changed,
    mark_to_count_again,
)
from railwatch.pipeline import ProcessSummary, process_site
from railwatch.sim import SceneParams, write_scene
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from railwatch.storage.repo import REFERENCES_KEY
from test_imagery_register import GSD, BrightBlobDetector, _site_tracks
from test_reference_changed_meanwhile_s31 import _bands, _mask, _radiometry, _scales

READ_WITH = "one of the other images its result was registered against and took its empty track"
BASE = SceneParams(seed=20, layout_seed=7, size_px=(200, 200), gsd=GSD, n_cars=20)
SHIFTS = [(0.5, -0.5), (-0.5, 0.5), (0.0, 0.5), (0.0, -0.5), (0.5, 0.0)]


def _detector() -> BrightBlobDetector:
    det = BrightBlobDetector()
    det.name, det.version = "fake", "1"
    return det


def _render(folder: Path, i: int) -> Path:
    p = BASE.with_(
        seed=20 + i,
        date=datetime(2023, 6, 1, 2, tzinfo=UTC) + timedelta(days=9 * i),
        misregistration_m=SHIFTS[i],
    )
    return write_scene(rendered_scene(p), folder, f"v{i}", preview=False).image


@pytest.fixture
def site(tmp_path: Path) -> tuple[Database, Path]:
    """Four 3 m images of one yard with its track centrelines, ingested; a fifth
    rendered in a folder of its own, to ingest later (the folder)."""
    return _site(tmp_path)


def _site(tmp_path: Path) -> tuple[Database, Path]:
    first = _render(tmp_path / "imgs", 0)
    for i in (1, 2, 3):
        _render(tmp_path / "imgs", i)
    _render(tmp_path / "later", 4)
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    aoi = box(*inspect_scene(first).footprint.buffer(-0.001).bounds)
    with db.session() as s:
        repo.add_site(s, SiteSpec(name="yard", geometry=aoi, tracks=_site_tracks(BASE)))
    assert len(ingest_paths(db, "yard", [tmp_path / "imgs"]).ingested) == 4
    return db, tmp_path / "later"


def _ids(db: Database) -> dict[str, int]:
    with db.session(readonly=True) as s:
        return {Path(sc.uri).stem: sc.id for sc in repo.list_scenes(s, "yard")}


def _recorded(db: Database) -> dict[int, set[int]]:
    """Each scene's recorded references (their scene ids)."""
    with db.session(readonly=True) as s:
        return {
            sc.id: {r["scene_id"] for r in (sc.meta or {}).get(REFERENCES_KEY, [])}
            for sc in repo.list_scenes(s, "yard")
        }


def _process(db: Database) -> ProcessSummary:
    summary = process_site(db, "yard", detector=_detector())
    assert not summary.failed
    return summary


def _all_five(site: tuple[Database, Path]) -> tuple[Database, dict[str, int]]:
    """The four processed, then the fifth ingested and processed: v0-v3 read each
    other, v4 reads v0-v3 and no one reads v4."""
    db, later = site
    _process(db)
    assert len(ingest_paths(db, "yard", [later]).ingested) == 1
    added = _process(db)
    ids = _ids(db)
    # an image added to the site counts no scene again: only the new one is counted
    assert added.processed == [ids["v4"]] and added.skipped == 4
    assert added.recounted == []
    return db, ids


@pytest.fixture(scope="module")
def _five_made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """:func:`_all_five` of :func:`site`, made once for the module (session 50: each
    test made and processed it again, 3-6 s apiece): its database file, the engine
    disposed (the WAL folded into the file), and the scene ids."""
    folder = tmp_path_factory.mktemp("five")
    db, ids = _all_five(_site(folder))
    db.dispose()
    return folder / "rw.db", ids


@pytest.fixture
def five(
    _five_made: tuple[Path, dict[str, int]], tmp_path: Path
) -> Iterator[tuple[Database, dict[str, int]]]:
    """:func:`_all_five` of :func:`site` for one test: a copy of the module's database,
    whose scenes are the module's images (which no test of ``five`` changes: what they
    change is in the database, and ``_mask_taken`` writes a new mask file beside the
    old one)."""
    made, ids = _five_made
    shutil.copyfile(made, tmp_path / "rw.db")
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    yield db, ids
    db.dispose()


def test_each_result_records_the_references_it_was_read_with(
    five: tuple[Database, dict[str, int]],
) -> None:
    db, ids = five
    recorded = _recorded(db)
    four = {ids[f"v{i}"] for i in range(4)}
    assert recorded[ids["v4"]] == four
    for i in range(4):
        assert recorded[ids[f"v{i}"]] == four - {ids[f"v{i}"]}
    again = _process(db)  # nothing changed: nothing counted again
    assert again.processed == [] and again.recounted == [] and again.skipped == 5


def _removed(db: Database, scene_id: int) -> None:
    with db.session() as s:
        s.delete(repo.get_scene(s, scene_id))


def _mask_taken(db: Database, scene_id: int) -> None:
    """`railwatch ingest-stac` taking another quality mask: the scene is marked too."""
    _mask(db, scene_id)
    with db.session() as s:
        mark_mask_changed(repo.get_scene(s, scene_id))


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (_bands, "its colour bands changed"),
        (_mask_taken, "its quality mask is "),
        (_scales, "the scale and offset its STAC item declares for its bands changed"),
        (_radiometry, "its radiometry is display now, not linear"),
        (_removed, "it was removed"),
    ],
)
def test_a_reference_changed_since_counts_again_exactly_the_scenes_that_read_it(
    five: tuple[Database, dict[str, int]],
    change: Callable[[Database, int], None],
    said: str,
) -> None:
    db, ids = five
    ref = ids["v0"]
    readers = {ids["v1"], ids["v2"], ids["v3"], ids["v4"]}
    change(db, ref)

    summary = _process(db)
    assert readers <= set(summary.processed)
    recounted = dict(summary.recounted)
    assert set(recounted) == readers
    for reason in recounted.values():
        assert reason.startswith(f"scene {ref}, {READ_WITH}")
        assert "changed since it was counted" in reason and said in reason
    # counted again, each now records the reference as it is: nothing more to do
    again = _process(db)
    assert again.processed == [] and again.recounted == []


def test_a_change_to_an_image_no_scene_read_counts_none_again(
    five: tuple[Database, dict[str, int]],
) -> None:
    db, ids = five
    _bands(db, ids["v4"])  # v4 is counted again for its own bands, and no other
    summary = _process(db)
    assert summary.processed == [ids["v4"]] and summary.recounted == []


def test_what_a_run_writes_on_its_references_counts_none_again(
    site: tuple[Database, Path],
) -> None:
    """Masks without a stamp (ingested before masks were stamped) are stamped at their
    first use by the run, files whose times moved are stamped anew: the references so
    stamped are the ones the results were read with."""
    db, later = site
    assert len(ingest_paths(db, "yard", [later]).ingested) == 1
    with db.session() as s:
        for scene in repo.list_scenes(s, "yard"):
            scene.meta = {k: v for k, v in scene.meta.items() if k != MASK_STAMP_KEY}
            os.utime(scene.uri)  # new times, same bytes: hashed again, stamped anew
    first = _process(db)
    assert len(first.processed) == 5
    with db.session(readonly=True) as s:
        for scene in repo.list_scenes(s, "yard"):
            assert "first_use" in scene.meta[MASK_STAMP_KEY]
    again = _process(db)
    assert again.processed == [] and again.recounted == [] and again.skipped == 5
    # the mask's times move and its stamp is taken anew (same bytes): no change either
    with db.session() as s:
        for scene in repo.list_scenes(s, "yard"):
            os.utime(str(scene.mask_uri))
            os.utime(scene.uri)
    third = _process(db)
    assert third.processed == [] and third.recounted == []
    # a reference counted again itself (here as a new mask version would have it) hashes
    # its file and mask anew and records their new stamps with its own new result
    ids = _ids(db)
    with db.session() as s:
        scene = repo.get_scene(s, ids["v0"])
        was = dict(scene.meta)
        mark_to_count_again(scene, MASK_CHANGED)
    own = _process(db)
    assert own.processed == [ids["v0"]] and own.recounted == []
    with db.session(readonly=True) as s:
        now = repo.get_scene(s, ids["v0"]).meta
        assert now[MASK_STAMP_KEY] != was[MASK_STAMP_KEY]  # stamped anew, same bytes
        assert now[MASK_STAMP_KEY]["sha256"] == was[MASK_STAMP_KEY]["sha256"]
        assert now[FILE_STAMP_KEY] != was[FILE_STAMP_KEY]
    last = _process(db)
    assert last.processed == [] and last.recounted == [] and last.skipped == 5


def test_scenes_recorded_before_are_checked_from_their_next_count_on(
    five: tuple[Database, dict[str, int]],
) -> None:
    """A result recorded before session 31 records no references: a reference that
    changes does not count it again (nothing says it read that one)."""
    db, ids = five
    with db.session() as s:
        for scene in repo.list_scenes(s, "yard"):
            scene.meta = {k: v for k, v in scene.meta.items() if k != REFERENCES_KEY}
    _bands(db, ids["v0"])
    summary = _process(db)
    assert summary.processed == [ids["v0"]] and summary.recounted == []
    assert _recorded(db)[ids["v0"]] == {ids[f"v{i}"] for i in (1, 2, 3, 4)}


def test_process_says_why_a_scene_is_counted_again(
    five: tuple[Database, dict[str, int]], capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    from railwatch.cli.main import main
    from railwatch.detect import registry

    db, ids = five
    _scales(db, ids["v0"])
    monkeypatch.setattr(registry, "get_detector", lambda *a, **k: _detector())
    capsys.readouterr()
    assert main(["--db", db.url, "process", "yard"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "scene" in out and "counted again" in out
    for i in (1, 2, 3, 4):
        assert f"scene {ids[f'v{i}']} counted again: scene {ids['v0']}, {READ_WITH}" in out
    assert "the scale and offset its STAC item declares for its bands changed" in out
    _scales(db, ids["v1"])
    assert main(["--db", db.url, "process", "yard", "--json"]) == 0
    import json

    [data] = json.loads(capsys.readouterr().out)
    got = {r["scene_id"] for r in data["recounted"]}
    assert got == {ids["v0"], ids["v2"], ids["v3"], ids["v4"]}


@pytest.mark.slow
def test_the_dask_path_counts_again_the_scenes_that_read_a_changed_reference(
    five: tuple[Database, dict[str, int]],
) -> None:
    pytest.importorskip("distributed")
    from distributed import Client, LocalCluster

    from railwatch.distributed import ClusterSpec, process_sites_distributed

    db, ids = five
    _bands(db, ids["v0"])
    with (
        LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        [summary] = process_sites_distributed(
            db, ["yard"], detector=_detector(), client=client, cluster=ClusterSpec()
        )
    assert not summary.failed
    readers = {ids["v1"], ids["v2"], ids["v3"], ids["v4"]}
    assert set(summary.processed) == readers | {ids["v0"]}
    assert set(dict(summary.recounted)) == readers
    assert all(READ_WITH in why for _, why in summary.recounted)
    again = _process(db)
    assert again.processed == [] and again.recounted == []
