"""Map tiles of a scene ingested with ``--radiometry display`` (a visual product stored
in 16 bits): they were stretched per band and gamma-encoded as linear data, so the map
showed a washed-out image without its colour cast, unlike what was counted. They now
use the scene's stored radiometry (and the cached ranges are keyed by it)."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("rio_tiler")

from fastapi.testclient import TestClient
from PIL import Image

from imagery_helpers import image_box_wgs84, write_geotiff
from railwatch.cli.main import main
from railwatch.settings import Settings
from railwatch.storage import Database, repo
from railwatch.web.app import create_app
from railwatch.web.routes import tiles

SIZE = 256


def eight_bit() -> np.ndarray:
    """(3, SIZE, SIZE) uint8 with a colour cast (red brighter than blue) over 0..255."""
    rng = np.random.default_rng(4)
    data = np.stack(
        [
            rng.integers(20, 221, (SIZE, SIZE)),
            rng.integers(20, 171, (SIZE, SIZE)),
            rng.integers(20, 121, (SIZE, SIZE)),
        ]
    ).astype(np.uint8)
    data[0, :2, :] = 0  # enough pixels at each end for the 0.01-99.99 % range
    data[0, 2:4, :] = 255
    return data


def centre_tile(z: int) -> tuple[int, int, int]:
    c = image_box_wgs84(0, 0, SIZE, SIZE).centroid
    x = int((c.x + 180) / 360 * 2**z)
    y = int((1 - math.asinh(math.tan(math.radians(c.y))) / math.pi) / 2 * 2**z)
    return z, x, y


def rgba(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA")).astype(int)


@pytest.fixture
def files(tmp_path: Path) -> tuple[str, str]:
    v = eight_bit()
    eight = write_geotiff(tmp_path / "eight.tif", v)
    (tmp_path / "imgs").mkdir()
    sixteen = write_geotiff(tmp_path / "imgs" / "visual16.tif", v.astype(np.uint16) * 257)
    tiles._render_params.cache_clear()
    return str(eight), str(sixteen)


def test_render_tile_display_shows_the_8_bit_image(files: tuple[str, str]) -> None:
    eight, sixteen = files
    tile = centre_tile(18)
    want = rgba(tiles.render_tile(eight, *tile) or b"")
    display = rgba(tiles.render_tile(sixteen, *tile, radiometry="display") or b"")
    shown = want[..., 3] > 0
    assert shown.mean() > 0.5
    assert np.abs(display[shown][:, :3] - want[shown][:, :3]).max() <= 1
    # read as linear (the same file, the cache keyed by the radiometry): brightened
    linear = rgba(tiles.render_tile(sixteen, *tile) or b"")
    assert linear[shown][:, :3].mean() > want[shown][:, :3].mean() + 25


def test_scene_tiles_use_the_scenes_stored_radiometry(
    files: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    eight, sixteen = files
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    b = image_box_wgs84(0, 0, SIZE, SIZE).bounds
    bbox = ",".join(f"{v:.6f}" for v in b)
    assert main(["--db", url, "site", "add", "yard", "--bbox", bbox]) == 0
    args = ["--db", url, "ingest", "yard", sixteen, "--date", "2023-10-05"]
    assert main([*args, "--radiometry", "display"]) == 0
    db = Database(url)
    with db.session(readonly=True) as s:
        (scene,) = repo.list_scenes(s, "yard")
        scene_id = scene.id
    client = TestClient(create_app(Settings(db=url, cache_dir=tmp_path / "cache"), db))
    z, x, y = centre_tile(18)
    r = client.get(f"/api/scenes/{scene_id}/tiles/{z}/{x}/{y}.png")
    assert r.status_code == 200
    want = rgba(tiles.render_tile(eight, z, x, y) or b"")
    got = rgba(r.content)
    shown = want[..., 3] > 0
    assert np.abs(got[shown][:, :3] - want[shown][:, :3]).max() <= 1

    # declared linear again: the next tile is the linear one (not a cached display one)
    assert main([*args, "--radiometry", "linear"]) == 0
    r = client.get(f"/api/scenes/{scene_id}/tiles/{z}/{x}/{y}.png")
    assert rgba(r.content)[shown][:, :3].mean() > want[shown][:, :3].mean() + 25
    capsys.readouterr()
    db.dispose()
