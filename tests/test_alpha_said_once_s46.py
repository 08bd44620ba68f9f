"""The notice that a band labelled alpha is read as data is left out of the log only in
the thread (or task) whose caller says it itself (2026-12-07, session 46 review: it was
a filter on the module's logger, which for its time also silenced, and marked as told,
the files another thread judged; ``imagery.inspect.alpha_as_data_said_elsewhere``)."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import pytest
import rasterio

from railwatch.imagery.inspect import alpha_as_data, alpha_as_data_said_elsewhere
from test_nir_alpha_s46 import _rgbn


def test_another_thread_still_logs_its_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = _rgbn(tmp_path / "a")
    b = _rgbn(tmp_path / "b")
    inside, leave = threading.Event(), threading.Event()

    def caller_that_says_it() -> None:
        with alpha_as_data_said_elsewhere():
            with rasterio.open(a) as ds:
                assert alpha_as_data(ds) is not None
            inside.set()
            leave.wait(30)

    t = threading.Thread(target=caller_that_says_it)
    caplog.set_level(logging.WARNING, logger="railwatch.imagery.inspect")
    t.start()
    try:
        assert inside.wait(30)
        with rasterio.open(b) as ds:  # another thread, while the first is inside
            assert alpha_as_data(ds) is not None
    finally:
        leave.set()
        t.join()
    said = [r.getMessage() for r in caplog.records if "is labelled alpha" in r.getMessage()]
    assert len(said) == 1  # b logged, a not (its caller says it)
    with rasterio.open(a) as ds:  # a counts as told: not logged later either
        alpha_as_data(ds)
    assert len([r for r in caplog.records if "is labelled alpha" in r.getMessage()]) == 1


def test_a_file_is_judged_once_while_it_is_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opened again (ingest opens a file several times, process again), an unchanged file
    is not sampled again; a file written anew is."""
    from railwatch.imagery import inspect

    calls: list[str] = []
    judge = inspect._judge_alpha

    def counted(ds: object) -> object:
        calls.append(str(getattr(ds, "name", "")))
        return judge(ds)

    monkeypatch.setattr(inspect, "_judge_alpha", counted)
    path = _rgbn(tmp_path)
    for _ in range(3):
        with rasterio.open(path) as ds:
            assert alpha_as_data(ds) is not None
    assert len(calls) == 1
    with rasterio.open(path, "r+") as ds:  # written anew: judged again
        ds.set_band_description(4, "")
        ds.write(ds.read(4) * 0 + 255, 4)
    # its time moved on past the clock's coarse tick (a write within the same few
    # milliseconds may keep the time; its size is the same here)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    with rasterio.open(path) as ds:
        assert alpha_as_data(ds) is None  # all opaque now: a mask
    assert len(calls) == 2
