"""``railwatch detect IMAGE`` on an image in railwatch's cache folder (the demo's
images are there) writes NAME.detections.geojson to the current folder, not among the
cached imagery, and says so (session 33); elsewhere it still goes beside the image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from imagery_helpers import write_geotiff
from railwatch.cli.main import main


def _rgb() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, (3, 64, 64), dtype=np.uint8)


def test_an_image_in_the_cache_gets_its_geojson_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("RAILWATCH_CACHE_DIR", str(cache))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    (cache / "scenarios" / "tumangang").mkdir(parents=True)
    (tmp_path / "mine").mkdir()
    cached = write_geotiff(cache / "scenarios" / "tumangang" / "scene_03.tif", _rgb())
    assert main(["detect", str(cached)]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert (work / "scene_03.detections.geojson").is_file()
    assert not (cached.parent / "scene_03.detections.geojson").exists()
    assert "scene_03.tif lies in railwatch's cache folder" in err
    assert "give --out-dir DIR or -o FILE to choose" in err
    # reached through '..' it is the same folder
    roundabout = cache / "scenarios" / ".." / "scenarios" / "tumangang" / "scene_03.tif"
    (work / "scene_03.detections.geojson").unlink()
    assert main(["detect", str(roundabout), "--json"]) == 0
    assert (work / "scene_03.detections.geojson").is_file()
    assert "cache folder" in capsys.readouterr().err  # on stderr, beside the JSON
    # elsewhere, beside the image as before, without the note
    mine = write_geotiff(tmp_path / "mine" / "yard.tif", _rgb())
    assert main(["detect", str(mine)]) == 0
    assert (mine.parent / "yard.detections.geojson").is_file()
    assert "cache folder" not in capsys.readouterr().err
    # --out-dir is taken as given, in the cache too
    out = cache / "mine"
    assert main(["detect", str(cached), "--out-dir", str(out)]) == 0
    assert (out / "scene_03.detections.geojson").is_file()
