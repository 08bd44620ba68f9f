"""Map tiles of a STAC scene whose bands' scales and offsets only its item declares
(``raster:bands``, kept by ``ingest-stac`` in the scene's metadata since fc1377c): the
tiles are drawn with them where the file declares none, as ``process`` counted the
scene. Before, the tiles read the file's own scales only, so a ``--radiometry display``
scene of bands stored with different scales was drawn out of balance; and since the
tile's ETag did not hold the item's scales, a scene that took them at a later
``ingest-stac`` kept being answered ``304 Not Modified`` with the old tile."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pytest
import rasterio

pytest.importorskip("fastapi")
pytest.importorskip("rio_tiler")

from fastapi.testclient import TestClient
from PIL import Image

from imagery_helpers import image_box_wgs84, write_geotiff
from railwatch.cli.main import main
from railwatch.imagery.read import ITEM_SCALING_KEY
from railwatch.settings import Settings
from railwatch.storage import Database, repo
from railwatch.web.app import create_app
from railwatch.web.routes import tiles

SIZE = 256
#: What each band's stored value stands for: stored x scale + offset (reflectance).
SCALES = [0.0001, 0.0002, 0.0004]
OFFSETS = [-0.1, 0.0, 0.0]


def _stored() -> np.ndarray:
    """(3, SIZE, SIZE) uint16: one grey-ish reflectance field stored band by band with
    :data:`SCALES` and :data:`OFFSETS` (band 1's numbers about twice band 2's)."""
    rng = np.random.default_rng(7)
    refl = 0.05 + 0.25 * rng.random((SIZE, SIZE))
    return np.stack(
        [np.round((refl - o) / s) for s, o in zip(SCALES, OFFSETS, strict=True)]
    ).astype(np.uint16)


def _centre_tile(z: int) -> tuple[int, int, int]:
    c = image_box_wgs84(0, 0, SIZE, SIZE).centroid
    x = int((c.x + 180) / 360 * 2**z)
    y = int((1 - math.asinh(math.tan(math.radians(c.y))) / math.pi) / 2 * 2**z)
    return z, x, y


def _rgba(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA")).astype(int)


@pytest.mark.parametrize("zoom", [18, 12])  # rio-tiler's full read; the decimated one
def test_scene_tiles_are_drawn_with_the_items_scaling_and_shown_anew_when_it_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], zoom: int
) -> None:
    tiles._render_params.cache_clear()
    (tmp_path / "imgs").mkdir()
    bare = write_geotiff(tmp_path / "imgs" / "bare.tif", _stored())  # declares no scale
    own = write_geotiff(tmp_path / "own.tif", _stored())
    with rasterio.open(own, "r+") as ds:  # the same pixels, the file declaring them
        ds.scales, ds.offsets = SCALES, OFFSETS
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    bbox = ",".join(f"{v:.6f}" for v in image_box_wgs84(0, 0, SIZE, SIZE).bounds)
    assert main(["--db", url, "site", "add", "yard", "--bbox", bbox]) == 0
    ingest = ["--db", url, "ingest", "yard", str(bare), "--date", "2024-01-05"]
    assert main([*ingest, "--radiometry", "display"]) == 0
    capsys.readouterr()
    db = Database(url)
    with db.session(readonly=True) as s:
        (scene,) = repo.list_scenes(s, "yard")
        scene_id = scene.id
    client = TestClient(create_app(Settings(db=url, cache_dir=tmp_path / "cache"), db))
    z, x, y = _centre_tile(zoom)
    path = f"/api/scenes/{scene_id}/tiles/{z}/{x}/{y}.png"
    truth = _rgba(tiles.render_tile(str(own), z, x, y, radiometry="display") or b"")
    shown = truth[..., 3] > 0
    assert shown.sum() >= 16  # at zoom 12 the image is about 4.6 tile pixels across

    # no item scaling recorded: read as stored, out of balance
    first = client.get(path)
    assert first.status_code == 200
    assert np.abs(_rgba(first.content)[shown][:, :3] - truth[shown][:, :3]).max() > 20

    # what `ingest-stac` records for an item declaring the scales (fc1377c)
    with db.session() as s:
        scene = repo.get_scene(s, scene_id)
        scene.meta = {**(scene.meta or {}), ITEM_SCALING_KEY: {"scale": SCALES, "offset": OFFSETS}}
    again = client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 200  # not 304: the tile is another one now
    assert again.headers["etag"] != first.headers["etag"]
    assert np.array_equal(_rgba(again.content), truth)
    # and unchanged since: 304
    same = client.get(path, headers={"If-None-Match": again.headers["etag"]})
    assert same.status_code == 304
    db.dispose()
