"""GDAL's block cache while site windows are detected (session 38's bound,
``detect.api._window_block_cache``; review r3). GDAL's cache max is one for the whole
process, and windows are detected in several threads of one process at once (the
threads of a `dask worker`, the Python API): the bound is the windows' together, one
window's end neither lifts another's bound nor leaves the process at its own, the value
from before the first window comes back when the last one ends, also under a
``rasterio.Env`` that does not set the cache, and a window's tiles are read under the
bound even when another thread's ``rasterio.Env`` changed it meanwhile. The order of the
threads is set by events, never by waiting."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.env import get_gdal_config, set_gdal_config

from railwatch.detect import api
from railwatch.detect.base import Detection
from railwatch.imagery import read as read_module
from railwatch.imagery import read_site_window, site_grid
from test_process_memory_s38 import GSD, Recorder, _detect, _window

MB = 2**20


def _cache() -> int:
    return int(get_gdal_config("GDAL_CACHEMAX"))


def _bound(*widths: int) -> int:
    need = sum(2 * 512 * w * 4 for w in widths)
    return min(api.GDAL_CACHE_MB * MB, max(api.WINDOW_GDAL_CACHE_MB * MB, need))


@pytest.fixture
def windows(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], read_module.WindowImage]:
    """Window images of a given width (only their shape is asked for)."""
    monkeypatch.setattr(
        read_module.WindowImage, "shape", property(lambda self: (10, self._width, 3))
    )

    def make(width: int) -> read_module.WindowImage:
        image = object.__new__(read_module.WindowImage)
        image._width = width  # type: ignore[attr-defined]
        return image

    return make


@pytest.fixture
def before() -> Iterator[None]:
    """The process's cache max, given back after the test whatever it does."""
    held = _cache()
    set_gdal_config("GDAL_CACHEMAX", 300 * MB)
    yield
    set_gdal_config("GDAL_CACHEMAX", held)


def test_two_windows_in_two_threads_share_the_bound_and_give_it_back(
    windows: Callable[[int], read_module.WindowImage], before: None
) -> None:
    seen: dict[str, int] = {}
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with api._window_block_cache(windows(2_000)):
                seen["a alone"] = _cache()
                a_in.set()
                assert b_in.wait(60)
                seen["a with b"] = _cache()
            seen["a done"] = _cache()
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)
        finally:
            a_in.set()
            a_out.set()

    def second() -> None:
        try:
            assert a_in.wait(60)
            with api._window_block_cache(windows(10_000)):
                seen["b with a"] = _cache()
                b_in.set()
                assert a_out.wait(60)
                seen["b after a"] = _cache()
            seen["b done"] = _cache()
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)
        finally:
            b_in.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert seen["a alone"] == _bound(2_000) == 32 * MB
    assert seen["b with a"] == seen["a with b"] == _bound(2_000, 10_000)
    # the first window's end leaves the second's bound, not the value from before
    assert seen["a done"] == seen["b after a"] == _bound(10_000)
    # the last window's end gives back what the process had before the first
    assert seen["b done"] == _cache() == 300 * MB


def test_a_window_under_an_env_without_the_cache_gives_the_cache_back(
    windows: Callable[[int], read_module.WindowImage], before: None
) -> None:
    with rasterio.Env(GDAL_NUM_THREADS="1"):
        with api._window_block_cache(windows(2_000)):
            assert _cache() == 32 * MB
        assert _cache() == 300 * MB
    assert _cache() == 300 * MB


def test_a_window_s_tiles_are_read_under_the_bound_another_thread_lifted(
    tmp_path: Path, before: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another thread's ``rasterio.Env`` ending puts back, process-wide, the cache it
    found (here: set by the detector between two tiles); the next tile is read under the
    window's bound again."""
    uri, geom = _window(tmp_path)
    grid = site_grid(geom, GSD)
    real = Recorder.detect

    def lifting(
        self: Recorder, image: np.ndarray, gsd: float, valid: np.ndarray | None = None
    ) -> list[Detection]:
        out = real(self, image, gsd, valid)
        set_gdal_config("GDAL_CACHEMAX", 900 * MB)  # another thread's Env ended
        return out

    monkeypatch.setattr(Recorder, "detect", lifting)
    with read_site_window(uri, grid, site_geom=geom, lazy=True) as window:
        rec = _detect(window.image, window.valid, window.file_offset)
    assert len(rec.cache) > 3
    assert {int(c) for c in rec.cache if c is not None} == {_bound(grid.width)}
    assert _cache() == 300 * MB
