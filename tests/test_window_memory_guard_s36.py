"""The Dask worker's guard against site windows too large for its memory (session 35)
counts what a window needs by how it is read since session 36: at 0.3-1.5 m its image
stays in the file (a few bytes a window pixel over a fixed part), coarser it is read
whole (32 bytes a pixel). A 0.5 m window of about 40 Mpx, refused on a 1.5 GB worker
before, now fits; the same pixels at 3 m are still refused."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pyproj import Transformer

from railwatch.imagery import site_grid
from railwatch.pipeline import SceneJob
from railwatch.sites import site_from_bbox

distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")

TO_WGS = Transformer.from_crs("EPSG:32652", "EPSG:4326", always_xy=True)
X, Y = 632_000.0, 4_697_000.0


def _job(side_m: float, gsd: float) -> SceneJob:
    lon0, lat0 = TO_WGS.transform(X, Y)
    lon1, lat1 = TO_WGS.transform(X + side_m, Y + side_m)
    geom = site_from_bbox("s", [lon0, lat0, lon1, lat1]).geometry
    return SceneJob(scene_id=1, uri="/nowhere.tif", gsd=gsd, site_geometry=geom)


@pytest.fixture
def worker_of_1_5_gb(monkeypatch: pytest.MonkeyPatch) -> None:
    """This task runs on a Dask worker with a 1.5 GB memory limit holding 250 MB."""
    fake = SimpleNamespace(
        memory_manager=SimpleNamespace(memory_limit=1_500_000_000),
        monitor=SimpleNamespace(get_process_memory=lambda: 250_000_000),
    )
    monkeypatch.setattr(distributed, "get_worker", lambda: fake)


def test_a_fine_window_read_by_tiles_fits_where_the_whole_read_did_not(
    worker_of_1_5_gb: None,
) -> None:
    from railwatch.distributed import WINDOW_BYTES_PER_PX, _window_too_big, window_bytes

    with dask.config.set({"distributed.worker.memory.terminate": 0.95}):
        job = _job(3200.0, 0.5)  # 6,400 px square: 41 Mpx at 0.5 m
        grid = site_grid(job.site_geometry, 0.5)
        pixels = grid.width * grid.height
        assert pixels > 40e6
        assert 250e6 + WINDOW_BYTES_PER_PX * pixels > 0.95 * 1.5e9  # refused until s36
        assert 250e6 + window_bytes(pixels, 0.5) <= 0.95 * 1.5e9
        assert _window_too_big(job) is None
        coarse = _job(3200.0 * 6, 3.0)  # the same pixels at 3 m: read whole
        assert window_bytes(pixels, 3.0) == WINDOW_BYTES_PER_PX * pixels
        reason = _window_too_big(coarse)
        assert reason is not None and "more than this Dask worker may use" in reason


def test_a_fine_window_too_large_even_by_tiles_is_still_refused(worker_of_1_5_gb: None) -> None:
    from railwatch.distributed import _window_too_big

    job = _job(7000.0, 0.5)  # about 14,000 px square
    reason = _window_too_big(job)
    assert reason is not None and "Mpx at 0.5 m a pixel" in reason, reason
    assert "split the site into smaller sites" in reason


def test_a_small_fine_window_is_judged_as_before() -> None:
    """The fixed part of the lazy read (caches, strips, tiles) does not make the guard
    refuse a small window it let through before: below about 32 Mpx, 32 B a pixel."""
    from railwatch.distributed import WINDOW_BYTES_PER_PX, window_bytes

    for pixels in (12_000, 4_000_000, 20_000_000):
        assert window_bytes(pixels, 0.5) == WINDOW_BYTES_PER_PX * pixels
        assert window_bytes(pixels, 3.0) == WINDOW_BYTES_PER_PX * pixels
    assert window_bytes(144_000_000, 0.5) < 2e9 < WINDOW_BYTES_PER_PX * 144_000_000
