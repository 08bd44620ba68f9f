"""A 1.5-5 m image of a site without track centrelines in which no track line is found
is not counted: it was stored as 0 car equivalents, interval 0-1, which reads as an
empty yard (found in session 22 on a 7 m image of 16 cars and on small sites at 3 m)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from shapely.geometry import box

from railwatch.imagery import inspect_scene
from railwatch.ingest import ingest_paths
from railwatch.pipeline import process_site
from railwatch.sim import SceneParams, render_scene, write_scene
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from test_detect_fakes import BrightBlobDetector


def test_no_track_found_fails_the_scene_with_what_to_do(tmp_path: Path) -> None:
    when = datetime(2023, 10, 6, 2, tzinfo=UTC)
    scene = render_scene(SceneParams(seed=5, size_px=(320, 320), n_cars=12, date=when, gsd=3.0))
    image = write_scene(scene, tmp_path / "imgs", "coarse", preview=False).image
    centre = inspect_scene(image).footprint.centroid
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    with db.session() as s:  # ~55 x 85 m, no centrelines: too short to find lines at 3 m
        site = box(centre.x - 0.00035, centre.y - 0.00038, centre.x + 0.00035, centre.y + 0.00038)
        repo.add_site(s, SiteSpec(name="yard", geometry=site))
    assert ingest_paths(db, "yard", [image]).ingested
    summary = process_site(db, "yard", detector=BrightBlobDetector())
    assert len(summary.failed) == 1 and not summary.processed
    with db.session() as s:
        (sc,) = repo.list_scenes(s, "yard")
        assert sc.status == "failed"
        assert "no track line was found" in (sc.error or "")
        assert "--tracks" in (sc.error or "")
        assert all(p.count is None for p in repo.count_series(s, "yard"))  # a gap, never 0
    db.dispose()
