"""``railwatch detect`` on a coarse file: the estimate summed over blocks keeps how much
track it read and where its empty track came from, the GeoJSON says whether the lines
were given or found, and a file where no track was read says so instead of a 0."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from shapely import affinity

from railwatch.cli import _common
from railwatch.cli.main import main
from railwatch.detect import api
from railwatch.detect.api import detect_file
from test_detect_coarse import GSD, _yard


def _write(path: Path, img: np.ndarray) -> Path:
    h, w = img.shape[:2]
    with rasterio.open(
        path, "w", driver="GTiff", width=w, height=h, count=3, dtype="uint8",
        crs="EPSG:32652", transform=Affine(GSD, 0, 630_000, 0, -GSD, 4_700_000),
    ) as ds:  # fmt: skip
        ds.write(img.transpose(2, 0, 1))
    return path


def test_blocks_keep_the_track_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: a file read in several blocks lost track_m (None) and empty_from."""
    img, tracks_px = _yard(30.0, [140.0, 280.0, 0.0, 70.0])
    path = _write(tmp_path / "coarse.tif", img)
    tracks = affinity.affine_transform(tracks_px, [GSD, 0, 0, -GSD, 630_000, 4_700_000])
    whole = detect_file(path, tracks=tracks, tracks_crs="EPSG:32652")
    monkeypatch.setattr(api, "COARSE_BLOCK_PX", 100)  # 200 x 200 px: four blocks
    blocks = detect_file(path, tracks=tracks, tracks_crs="EPSG:32652")
    assert whole.coarse is not None and blocks.coarse is not None
    assert whole.tracks == blocks.tracks == "given"
    assert whole.coarse.track_m and blocks.coarse.track_m
    assert blocks.coarse.track_m == pytest.approx(whole.coarse.track_m, rel=0.1)
    assert blocks.coarse.empty_from == whole.coarse.empty_from == "image"
    found = detect_file(path)
    assert found.tracks == "found"


def test_no_track_read_is_no_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: a 3 m file without any line found printed '≈0.0 (0–1)', an empty yard."""
    rng = np.random.default_rng(3)
    flat = np.clip(rng.normal(120, 6, size=(200, 200, 3)), 0, 255).astype(np.uint8)
    path = _write(tmp_path / "field.tif", flat)
    res = detect_file(path)
    assert res.coarse is not None and res.coarse.track_m == 0.0, res.coarse
    monkeypatch.setattr(_common.console, "width", 120)
    out_dir = tmp_path / "out"
    assert main(["detect", str(path), "--out-dir", str(out_dir)]) == 0
    out = capsys.readouterr().out
    assert "no track found" in out and "≈0" not in out, out
    fc = json.loads(next(out_dir.glob("*.geojson")).read_text())
    assert fc["coarse"]["tracks"] == "found" and fc["coarse"]["track_m"] == 0.0
    assert main(["detect", str(path), "--out-dir", str(out_dir), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    first = summary[0] if isinstance(summary, list) else summary
    assert first["total"] is None and first["track_m"] == 0.0
