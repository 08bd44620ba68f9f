"""Scene files are written under a temporary name and renamed: a second ``railwatch
demo`` run sharing the scenario cache stopped with "Unknown GDAL Error" while the first
was writing the same COG (it read a file half written). Timing made that hard to catch
in a test; these check the mechanism: nothing is ever written in place."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import rasterio

from railwatch.sim import SceneParams, render_scene
from railwatch.sim import io as sim_io


def _params() -> SceneParams:
    return SceneParams(seed=3, gsd=1.0, size_px=(256, 256), n_cars=5)


def test_every_file_is_renamed_into_place_and_no_temporary_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    moves: list[tuple[str, str]] = []
    real_replace = os.replace

    def recording(src: Any, dst: Any) -> None:
        moves.append((Path(src).name, Path(dst).name))
        real_replace(src, dst)

    monkeypatch.setattr(sim_io.os, "replace", recording)
    paths = sim_io.write_scene(render_scene(_params()), tmp_path, "s", preview=True)
    finals = {
        Path(p).name for p in (paths.image, paths.mask, paths.truth, paths.stac, paths.tracks) if p
    }
    finals.add(Path(str(paths.preview)).name)
    assert {dst for _, dst in moves} == finals
    assert all(src.startswith(".s.") and ".tmp" in src for src, _ in moves)
    assert moves[-1][1] == Path(paths.stac).name  # the sidecar, which marks it complete, last
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(finals)
    with rasterio.open(paths.image) as ds:
        assert ds.count == 3 and ds.width == 256


def test_a_failed_write_leaves_neither_a_temporary_nor_a_broken_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(*_: Any, **__: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(sim_io, "truth_geojson", failing)
    with pytest.raises(OSError, match="disk full"):
        sim_io.write_scene(render_scene(_params()), tmp_path, "s", preview=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.mask.tif", "s.tif"]
