"""Review of session 46's changes (2026-12-07): the bugs found, each with the test that
failed before its fix."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

import _cli_proc
from _cli_proc import run_cli


def _env() -> dict[str, str]:
    """One environment for every command of a test (so one helper)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    return {**env, "NO_COLOR": "1", "TERM": "dumb", "RAILWATCH_REVIEW_S46": "1"}


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_a_command_interrupted_leaves_no_reply_for_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exception raised while a command runs (pytest-timeout's, Ctrl-C) left the
    helper's replies unread: the next command failed ("the CLI helper stopped: b'status
    1'") and each one after got the exit status of the one before it (a missing database
    read as status 0). Now the helper is closed and the next command gets a new one."""
    env = _env()
    ok = ["--version"]
    missing = ["--db", f"sqlite:///{tmp_path / 'none.db'}", "site", "show", "x", "--json"]
    assert run_cli(ok, tmp_path, env).returncode == 0
    before = _fds()
    real, calls = _cli_proc._now, [0]

    def interrupted() -> float:
        calls[0] += 1
        if calls[0] == 2:  # while the command runs
            raise KeyboardInterrupt
        return real()

    monkeypatch.setattr(_cli_proc, "_now", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_cli(missing, tmp_path, env)
    monkeypatch.setattr(_cli_proc, "_now", real)
    assert _fds() <= before  # its two pipes closed
    got = [run_cli(args, tmp_path, env) for args in (ok, ok, missing)]
    assert [done.returncode for done in got] == [0, 0, 1]
    assert got[0].stdout.startswith("railwatch ")
    assert got[2].stderr.startswith("error: no database at ")


def test_a_timeout_after_the_command_ended_is_a_timeout(tmp_path: Path) -> None:
    """A command that ended while a process it started still held its stdout was waited
    for until the timeout, then killed by a pid the helper had reaped already:
    ProcessLookupError, not subprocess.TimeoutExpired (and the helper left out of step)."""
    site = tmp_path / "site"
    site.mkdir()
    held = tmp_path / "held.pid"
    (site / "sitecustomize.py").write_text(
        "import atexit, subprocess\n"
        "def _linger():\n"
        "    p = subprocess.Popen(['sleep', '60'])\n"
        f"    open({str(held)!r}, 'w').write(str(p.pid))\n"
        "atexit.register(_linger)\n"
    )
    env = {**_env(), "PYTHONPATH": str(site)}
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            run_cli(["--version"], tmp_path, env, timeout=3)
    finally:
        if held.exists():
            os.kill(int(held.read_text()), signal.SIGKILL)
    done = run_cli(["--version"], tmp_path, {**env, "PYTHONPATH": ""})
    assert done.returncode == 0 and done.stdout.startswith("railwatch ")


def _with_own_mask(path: Path, keep_cols: int) -> Path:
    """``path`` given an internal mask (GDAL's per-dataset mask): data in its first
    ``keep_cols`` columns only."""
    import numpy as np
    import rasterio

    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(path, "r+") as ds:
        mask = np.zeros((ds.height, ds.width), "uint8")
        mask[:, :keep_cols] = 255
        ds.write_mask(mask)
    return path


def test_a_nir_band_labelled_alpha_keeps_the_files_own_mask(tmp_path: Path) -> None:
    """A file whose band labelled alpha is read as data (NIR) and that has a mask of its
    own: the mask, which GDAL reads as the file's no data whatever its bands, was dropped
    (``data_mask``, ``read_masked`` and the pipeline's warp every pixel valid), so the
    masked-out area was read as image; now it is no data, as in the same file without
    band 4."""
    import numpy as np
    import rasterio

    from railwatch.imagery import read_site_window, site_grid
    from railwatch.imagery.inspect import alpha_as_data, data_mask, read_masked
    from test_nir_alpha_s46 import SITE, SIZE, _rgb_only, _rgbn

    keep = SIZE * 3 // 4
    nir = _with_own_mask(_rgbn(tmp_path), keep)
    plain = _with_own_mask(_rgb_only(tmp_path), keep)
    with rasterio.open(nir) as ds:
        assert alpha_as_data(ds) is not None  # still read as data
        gdal = ds.dataset_mask()
        assert (gdal > 0).mean() == 0.75
        assert np.array_equal(data_mask(ds), gdal)
        masked = np.ma.getmaskarray(read_masked(ds, [1, 2, 3]))
        assert np.array_equal(~masked[0], gdal > 0)
    grid = site_grid(SITE, 0.5)
    want = read_site_window(str(plain), grid, site_geom=SITE)
    got = read_site_window(str(nir), grid, site_geom=SITE)
    assert not want.valid[want.inside].all()  # the mask is no data, as GDAL reads it
    assert np.array_equal(got.valid, want.valid)
    with read_site_window(str(nir), grid, site_geom=SITE, lazy=True) as window:
        assert np.array_equal(window.valid, want.valid)


def test_two_files_of_one_name_are_each_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The notice of a band labelled alpha read as data is said once per file: it was
    once per file *name*, so of two folders' ``scene.tif`` (one delivery per date, each
    its own ``analytic.tif``) only the first was said."""
    import logging

    import rasterio

    from railwatch.imagery.inspect import alpha_as_data
    from test_nir_alpha_s46 import _rgbn

    paths = []
    for folder in ("2024-06-01", "2024-06-02"):
        (tmp_path / folder).mkdir()
        made = _rgbn(tmp_path / folder, name=None)
        paths.append(made.rename(made.with_name("review_s46_same_name.tif")))
    with caplog.at_level(logging.WARNING, logger="railwatch.imagery.inspect"):
        for path in (*paths, *paths):
            with rasterio.open(path) as ds:
                assert alpha_as_data(ds) is not None
    said = [r.getMessage() for r in caplog.records if "review_s46_same_name.tif" in r.getMessage()]
    assert len(said) == 2
