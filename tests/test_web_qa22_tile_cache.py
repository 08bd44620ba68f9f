"""Map tiles and browser caches (session 22 QA).

Tiles were sent with ``Cache-Control: private, max-age=3600`` and no validator: after
``ingest --radiometry`` or ``--bands`` changed how a scene is drawn (or its file was
replaced), a browser kept showing the old tiles for up to an hour. They now carry an
ETag made of what decides their pixels and are revalidated at each use (``no-cache``):
``304`` while nothing changed, the new tile at once otherwise. The cached stretch
ranges are keyed by the file's stamp too, so a file replaced in place is not drawn
with the old file's ranges."""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterator
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


def image(scale: int) -> np.ndarray:
    """(3, SIZE, SIZE) uint16, a colour cast, values 20..220 times ``scale``."""
    rng = np.random.default_rng(4)
    data = np.stack(
        [
            rng.integers(20, 221, (SIZE, SIZE)),
            rng.integers(20, 171, (SIZE, SIZE)),
            rng.integers(20, 121, (SIZE, SIZE)),
        ]
    )
    return (data * scale).astype(np.uint16)


def centre_tile(z: int) -> tuple[int, int, int]:
    c = image_box_wgs84(0, 0, SIZE, SIZE).centroid
    x = int((c.x + 180) / 360 * 2**z)
    y = int((1 - math.asinh(math.tan(math.radians(c.y))) / math.pi) / 2 * 2**z)
    return z, x, y


def rgb(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


@pytest.fixture
def scene(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[dict[str, object]]:
    tiles._render_params.cache_clear()
    path = write_geotiff(tmp_path / "visual16.tif", image(257))
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    bbox = ",".join(f"{v:.6f}" for v in image_box_wgs84(0, 0, SIZE, SIZE).bounds)
    assert main(["--db", url, "site", "add", "yard", "--bbox", bbox]) == 0
    ingest = ["--db", url, "ingest", "yard", str(path), "--date", "2023-10-05"]
    assert main(ingest) == 0
    capsys.readouterr()
    db = Database(url)
    with db.session(readonly=True) as s:
        (row,) = repo.list_scenes(s, "yard")
        scene_id = row.id
    client = TestClient(create_app(Settings(db=url, cache_dir=tmp_path / "cache"), db))
    z, x, y = centre_tile(18)
    yield {
        "client": client,
        "url": f"/api/scenes/{scene_id}/tiles/{z}/{x}/{y}.png",
        "ingest": ingest,
        "path": path,
    }
    db.dispose()


def test_tile_has_an_etag_and_is_revalidated(scene: dict[str, object]) -> None:
    c, url = scene["client"], str(scene["url"])
    assert isinstance(c, TestClient)
    r = c.get(url)
    assert r.status_code == 200
    etag = r.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    cache = r.headers["Cache-Control"]
    assert "no-cache" in cache and "max-age=3600" not in cache  # never shown stale
    again = c.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag
    assert c.get(url, headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    assert c.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    # another tile of the same scene has its own tag
    z, x, y = centre_tile(17)
    other = url.split("/tiles/")[0] + f"/tiles/{z}/{x}/{y}.png"
    assert c.get(other).headers["ETag"] != etag


def test_new_radiometry_or_bands_change_the_etag(
    scene: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    c, url = scene["client"], str(scene["url"])
    assert isinstance(c, TestClient)
    ingest = list(scene["ingest"])  # type: ignore[call-overload]
    first = c.get(url)
    linear_tag = first.headers["ETag"]
    assert main([*ingest, "--radiometry", "display"]) == 0
    r = c.get(url, headers={"If-None-Match": linear_tag})
    assert r.status_code == 200 and r.headers["ETag"] != linear_tag
    assert rgb(r.content).mean() < rgb(first.content).mean() - 10  # drawn anew
    display_tag = r.headers["ETag"]
    assert main([*ingest, "--radiometry", "display", "--bands", "3,2,1"]) == 0
    r = c.get(url, headers={"If-None-Match": display_tag})
    assert r.status_code == 200 and r.headers["ETag"] not in (linear_tag, display_tag)
    capsys.readouterr()


def test_a_file_replaced_in_place_gets_a_new_etag_and_its_own_ranges(
    scene: dict[str, object],
) -> None:
    c, url, path = scene["client"], str(scene["url"]), scene["path"]
    assert isinstance(c, TestClient) and isinstance(path, Path)
    first = c.get(url)
    before = rgb(first.content)
    # the same picture at a tenth of the brightness: stretched by its own ranges it
    # looks the same; drawn with the old file's cached ranges it was almost black
    st = path.stat()
    write_geotiff(path, image(25))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    r = c.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert r.status_code == 200 and r.headers["ETag"] != first.headers["ETag"]
    after = rgb(r.content)
    assert abs(after.mean() - before.mean()) < 8, (after.mean(), before.mean())
