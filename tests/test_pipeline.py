"""The per-scene pipeline end to end on simulated scenes: objects at fine resolution,
occupied length at 3 m, cloudy scenes stored as unusable (a gap, never zero), and
incremental re-runs; on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from pyproj import Transformer
from shapely.geometry import MultiLineString, box

from imagery_helpers import rendered_scene
from railwatch import pipeline
from railwatch.detect import coarse
from railwatch.imagery import inspect_scene
from railwatch.imagery.quality import QUALITY_VERSION
from railwatch.imagery.register import REGISTRATION_VERSION
from railwatch.ingest import ingest_paths
from railwatch.pipeline import process_site
from railwatch.sim import SceneParams, write_scene
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from test_detect_fakes import BrightBlobDetector

Q = f"+q{QUALITY_VERSION}"  # ends every processing version (session 43)


def _scene(out: Path, name: str, when: datetime, **kw: object) -> Path:
    params = SceneParams(seed=5, size_px=(320, 320), n_cars=12, date=when, **kw)
    return write_scene(rendered_scene(params), out, name, preview=False).image


def _tracks_wgs84() -> MultiLineString:
    """The simulated yard's track centrelines (the same for every image of seed 5)."""
    scene = rendered_scene(SceneParams(seed=5, size_px=(40, 40), gsd=3.0, n_cars=0))
    to_wgs84 = Transformer.from_crs(scene.crs, "EPSG:4326", always_xy=True)
    return MultiLineString(
        [np.column_stack(to_wgs84.transform(*np.asarray(t.coords).T)) for t in scene.tracks]
    )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def site_db(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Database, Path]:
    imgs = tmp_path / "imgs"
    fine = _scene(imgs, "fine", datetime(2023, 10, 5, 2, tzinfo=UTC), gsd=0.5)
    _scene(imgs, "coarse", datetime(2023, 10, 6, 2, tzinfo=UTC), gsd=3.0)
    _scene(imgs, "cloudy", datetime(2023, 10, 7, 2, tzinfo=UTC), gsd=0.5, cloud_cover=0.9)
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    if request.param == "postgresql":
        url = str(request.getfixturevalue("postgres_url"))
    db = Database(url)
    aoi = box(*inspect_scene(fine).footprint.buffer(-0.0005).bounds)
    # the site is ~55 x 85 m: too short for track lines to be found at 3 m, so it has its
    # centrelines (without them its 3 m scene fails: no track found, not 0 cars)
    with db.session() as s:
        repo.add_site(s, SiteSpec(name="yard", geometry=aoi, tracks=_tracks_wgs84()))
    summary = ingest_paths(db, "yard", [imgs])
    assert len(summary.ingested) == 3, summary.failed
    return db, imgs


def test_process_site_methods_gaps_and_incremental(site_db: tuple[Database, Path]) -> None:
    db, _ = site_db
    det = BrightBlobDetector()
    det.name, det.version = "fake", "1"
    first = process_site(db, "yard", detector=det)
    assert not first.failed
    assert len(first.processed) == 2 and len(first.unusable) == 1
    with db.session() as s:
        points = {p.scene_id: p for p in repo.count_series(s, "yard")}
        scenes = {sc.uri.rsplit("/", 1)[-1]: sc for sc in repo.list_scenes(s, "yard")}
        assert scenes["cloudy.tif"].status == "unusable"
        assert points[scenes["cloudy.tif"].id].count is None  # a gap, not zero
        assert points[scenes["fine.tif"].id].method == "objects"
        assert points[scenes["coarse.tif"].id].method == "length"
        n_counts = sum(len(sc.counts) for sc in scenes.values())
    again = process_site(db, "yard", detector=det)
    assert again.total == 0 and again.skipped == 3
    process_site(db, "yard", detector=det, reprocess=True)
    with db.session() as s:
        assert sum(len(sc.counts) for sc in repo.list_scenes(s, "yard")) == n_counts
        versions = {
            sc.uri.rsplit("/", 1)[-1]: sc.detector_version for sc in repo.list_scenes(s, "yard")
        }
    assert versions["fine.tif"] == versions["cloudy.tif"] == f"1{Q}"
    assert (
        versions["coarse.tif"] == f"1+length{coarse.ESTIMATOR_VERSION}+reg{REGISTRATION_VERSION}{Q}"
    )


def test_new_length_estimator_counts_coarse_scenes_again(
    site_db: tuple[Database, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new occupied-length estimator has the 3 m scene counted again, and only it (the
    detector, which counts the others, did not change)."""
    db, _ = site_db
    det = BrightBlobDetector()
    det.name, det.version = "fake", "1"
    process_site(db, "yard", detector=det)
    monkeypatch.setattr(pipeline, "ESTIMATOR_VERSION", "next")
    again = process_site(db, "yard", detector=det)
    assert again.skipped == 2 and len(again.processed) == 1
    with db.session() as s:
        (scene,) = (sc for sc in repo.list_scenes(s, "yard") if sc.id in again.processed)
        assert scene.uri.endswith("coarse.tif")
        assert scene.detector_version == f"1+lengthnext+reg{REGISTRATION_VERSION}{Q}"
    assert process_site(db, "yard", detector=det).skipped == 3


def test_cli_process_exits_1_when_every_scene_failed(
    site_db: tuple[Database, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every image moved away after ingest: `process` listed three failures and exited
    with status 0, so a scheduled run looked fine. Now status 1 with one line saying so.
    Since session 35 also when some scenes were recorded and one failed (as `ingest`
    exits 1 when an item failed): until then that run gave 0, and the same bad file gave
    1 on the next run, which had nothing new to record."""
    from railwatch.cli.main import main
    from railwatch.detect import registry

    db, imgs = site_db
    monkeypatch.setattr(registry, "get_detector", lambda name="default": BrightBlobDetector())
    moved = imgs.with_name("moved")
    imgs.rename(moved)
    assert main(["--db", db.url, "process", "yard"]) == 1
    out, err = (" ".join(t.split()) for t in capsys.readouterr())
    assert out.count("no such file") == 3 and "nothing processed: all 3 scenes failed" in err
    moved.rename(imgs)
    (imgs / "coarse.tif").unlink()
    assert main(["--db", db.url, "process", "yard"]) == 1
    out, err = (" ".join(t.split()) for t in capsys.readouterr())
    assert out.count("no such file") == 1
    assert "1 scene failed (listed above); the other 2 were recorded" in err
    assert main(["--db", db.url, "process", "yard"]) == 1  # the same on a re-run
    out, err = (" ".join(t.split()) for t in capsys.readouterr())
    assert "nothing processed: the scene failed" in err


def test_coarse_scene_gets_the_sun_from_its_metadata(
    site_db: tuple[Database, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The simulator's STAC sidecar carries view:sun_azimuth and view:sun_elevation;
    ingest stores them and the 3 m scene's occupied-length estimate receives them (the
    shadow guard), turned into the site grid's pixel frame (north up: unchanged)."""
    db, _ = site_db
    seen: list[object] = []
    real = pipeline.count_scene

    def spy(*a: object, **kw: object) -> object:
        seen.append(kw.get("sun"))
        return real(*a, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "count_scene", spy)
    det = BrightBlobDetector()
    det.name, det.version = "fake", "1"
    process_site(db, "yard", detector=det)
    params = SceneParams()
    assert (params.sun_azimuth, params.sun_elevation) in seen
    with db.session() as s:
        metas = [sc.meta for sc in repo.list_scenes(s, "yard")]
    assert all(pipeline.sun_of(m) == (params.sun_azimuth, params.sun_elevation) for m in metas)
