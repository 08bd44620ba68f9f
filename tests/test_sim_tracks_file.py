"""``railwatch simulate`` writes the scene's track centrelines in lon/lat
(``NAME.tracks.geojson``), so a simulated 3 m or 10 m scene can be read along its
tracks (``detect --tracks``, ``site add --tracks``) as docs/detection.md advises; before,
they were only inside the truth file, in the scene's CRS."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pyproj import Transformer

from railwatch.cli.main import main
from railwatch.imagery.scan import scan_paths
from railwatch.sim import SceneParams, render_scene, write_scene
from railwatch.sites import load_tracks


def test_tracks_file_holds_the_scene_tracks_in_lonlat(tmp_path: Path) -> None:
    scene = render_scene(SceneParams(seed=3, size_px=(120, 120), n_cars=20, gsd=3.0))
    paths = write_scene(scene, tmp_path, "s3", preview=False)
    assert paths.tracks is not None and paths.tracks in paths.all()
    lines = load_tracks(paths.tracks, what="--tracks")
    parts = list(getattr(lines, "geoms", [lines]))
    want = [t for t in scene.tracks if len(t.coords) >= 2]
    assert len(parts) == len(want)
    to_crs = Transformer.from_crs("EPSG:4326", scene.crs, always_xy=True)
    for got, line in zip(parts, want, strict=True):
        x, y = to_crs.transform(*np.asarray(got.coords).T)
        assert np.allclose(np.column_stack([x, y]), np.asarray(line.coords), atol=0.01)
    # a sidecar, never taken for a scene
    assert scan_paths([tmp_path]) == [paths.image]


def test_detect_reads_a_simulated_scene_along_its_tracks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", "--scene", "--gsd", "3", "--cars", "30", "--seed", "3",
                 "--size", "160x160", "--out", str(tmp_path)]) == 0  # fmt: skip
    tracks = tmp_path / "sim_3.tracks.geojson"
    assert tracks.exists()
    capsys.readouterr()
    assert main(["detect", str(tmp_path / "sim_3.tif"), "--tracks", str(tracks),
                 "--out-dir", str(tmp_path / "out"), "--json"]) == 0  # fmt: skip
    (row,) = json.loads(capsys.readouterr().out)
    assert row["method"] == "length" and row["tracks"] == "given" and row["track_m"] > 100


def test_layout_seed_keeps_the_yard_across_seeds_and_resolutions(tmp_path: Path) -> None:
    """The README's first steps: one yard seen on several days, at 0.5 m and at 3 m,
    whose centrelines from any image fit the others."""
    for seed, gsd in ((3, "0.5"), (4, "3")):
        assert main(["simulate", "--scene", "--seed", str(seed), "--layout-seed", "1",
                     "--gsd", gsd, "--name", f"s{seed}", "--out", str(tmp_path)]) == 0  # fmt: skip
    a = list(load_tracks(tmp_path / "s3.tracks.geojson", what="--tracks").geoms)
    b = list(load_tracks(tmp_path / "s4.tracks.geojson", what="--tracks").geoms)
    assert len(a) == len(b) > 2
    to_m = Transformer.from_crs("EPSG:4326", "EPSG:32652", always_xy=True)
    for la, lb in zip(a, b, strict=True):
        xa = np.column_stack(to_m.transform(*np.asarray(la.coords).T))
        xb = np.column_stack(to_m.transform(*np.asarray(lb.coords).T))
        assert xa.shape == xb.shape and np.abs(xa - xb).max() < 2.0  # metres
    # without it, another seed is another yard
    assert main(["simulate", "--scene", "--seed", "4", "--name", "other",
                 "--out", str(tmp_path)]) == 0  # fmt: skip
    c = list(load_tracks(tmp_path / "other.tracks.geojson", what="--tracks").geoms)
    assert [len(g.coords) for g in c] != [len(g.coords) for g in a] or any(
        not np.allclose(np.asarray(g.coords), np.asarray(h.coords), atol=1e-4)
        for g, h in zip(a, c, strict=False)
    )
