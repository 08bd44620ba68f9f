"""A scene whose site window cannot fit in its Dask worker's memory (2026-12-06, session
35). The worker read the whole window (about 32 bytes a pixel at its peak: a 12,000 px
square window of a 20,000 px scene grew a worker past 5 GB), its nanny killed it at the
memory limit, Dask ran the task again until it had killed ``allowed-failures + 1``
workers, railwatch ran it alone as many times more, and the scene was finally marked
failed with *it usually ran out of memory*: 8 worker deaths and 99 s on a 1.5 GB worker.
Now the task sees that the window cannot fit before it reads a pixel and fails the scene
at once, saying how large the window is, what it needs and what to do; the scenes that
fit are counted by the same workers, none of which dies."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyproj import Transformer

from railwatch.imagery import site_grid
from railwatch.ingest import ingest_paths
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo
from test_distributed import ORIGIN, make_scenes, site_bbox
from test_distributed import fake_module as fake_module  # the fixture

distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")


def _wide_bbox(side_m: float) -> list[float]:
    """WGS84 bbox of a ``side_m`` metre square around the images of ``make_scenes``."""
    to_wgs = Transformer.from_crs("EPSG:32652", "EPSG:4326", always_xy=True)
    x, y = ORIGIN
    lon0, lat0 = to_wgs.transform(x - side_m / 2, y - side_m / 2)
    lon1, lat1 = to_wgs.transform(x + side_m / 2, y + side_m / 2)
    return [lon0, lat0, lon1, lat1]


@pytest.mark.slow
def test_a_window_too_large_for_the_worker_fails_at_once_and_kills_no_worker(
    tmp_path: Path, tmp_db_url: str, fake_module: Path
) -> None:
    import rw_fake_rects

    from railwatch.distributed import process_sites_distributed

    db = Database(tmp_db_url)
    with db.session() as s:
        repo.add_site(s, site_from_bbox("wide", _wide_bbox(6000.0)))  # 12,000 px at 0.5 m
        repo.add_site(s, site_from_bbox("yard", site_bbox()))  # 126 x 94 px
    for site in ("wide", "yard"):
        assert ingest_paths(db, site, make_scenes(tmp_path / site, 1)).ingested
    config = {"distributed.scheduler.allowed-failures": 0}  # kept short before the fix
    with (
        dask.config.set(config),
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, memory_limit="600MB",
            dashboard_address=None, silence_logs=50,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):  # fmt: skip
        [worker] = client.nthreads()
        wide, yard = process_sites_distributed(
            db, ["wide", "yard"], detector=rw_fake_rects.BrightRects(), client=client
        )
        assert list(client.nthreads()) == [worker]  # the same worker: none died
    assert len(yard.processed) == 1 and not yard.failed
    [(_, reason)] = wide.failed
    assert not wide.processed and not wide.retried
    grid = site_grid(site_from_bbox("wide", _wide_bbox(6000.0)).geometry, 0.5)
    assert grid.width * grid.height > 140e6  # the window, not the 64 x 48 px image
    window = f"the site's window in this scene is {grid.width} x {grid.height} px"
    assert window in reason and "Mpx at 0.5 m a pixel" in reason, reason
    assert "more than this Dask worker may use" in reason and "600 MB" not in reason
    assert "0.6 GB memory limit" in reason and "--memory-limit" in reason, reason
    assert "split the site" in reason and "\n" not in reason
    db.dispose()


def test_outside_a_dask_worker_nothing_is_refused(tmp_path: Path) -> None:
    """The check needs a worker's memory limit: the in-process path is left as it was."""
    from railwatch.distributed import _window_too_big
    from railwatch.pipeline import SceneJob

    job = SceneJob(
        scene_id=1, uri=str(tmp_path / "x.tif"), gsd=0.5,
        site_geometry=site_from_bbox("wide", _wide_bbox(6000.0)).geometry,
    )  # fmt: skip
    assert _window_too_big(job) is None
