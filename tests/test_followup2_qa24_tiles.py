"""Map tiles of a scene as the pipeline reads it (session 24, second follow-up).

* The tile ETag and cache key stamped only the image file: since a2c9dbd the ingest's
  stamp covers the files GDAL reads with it (``.aux.xml``, ``.msk``, ``.ovr``, a VRT's
  sources), which change the pixels of a tile though the image file is the same. A mask
  added beside the image (``NAME.msk``) kept the old tile, answered ``304``.
* An RGBA TIFF without ExtraSamples (``imagery.inspect.undeclared_alpha``) and a colour
  table's transparent entries (``transparent_entries``) are no data for the pipeline;
  tiles drew them as ground (white, black), and a colour-table image in grey levels.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("rio_tiler")

import rasterio
from fastapi.testclient import TestClient
from PIL import Image
from pyproj import Transformer
from rio_tiler.io import Reader

from imagery_helpers import (
    ORIGIN_X,
    ORIGIN_Y,
    UTM52,
    image_box_wgs84,
    write_geotiff,
    yard_scene,
)
from railwatch.cli.main import main
from railwatch.imagery.inspect import undeclared_alpha
from railwatch.settings import Settings
from railwatch.storage import Database, repo
from railwatch.web.app import create_app
from railwatch.web.routes import tiles
from test_imagery_qa24_palette import _palette_vrt

TO_WGS = Transformer.from_crs(UTM52, "EPSG:4326", always_xy=True)
SIZE = 600  # 300 m: wide enough for a decimated tile at zoom 12
CUT = 300  # columns 0-299 transparent


def _tile_at(col: float, row: float, z: int) -> tuple[int, int, int, int, int]:
    """Tile z/x/y over pixel (col, row) of a 0.5 m image at the helpers' origin, and
    that pixel's place in the tile."""
    lon, lat = TO_WGS.transform(ORIGIN_X + col * 0.5, ORIGIN_Y - row * 0.5)
    fx = (lon + 180) / 360 * 2**z
    fy = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z
    x, y = int(fx), int(fy)
    return z, x, y, int((fx - x) * 256), int((fy - y) * 256)


def _pixel(path: Path, col: float, row: float, z: int = 19) -> tuple[int, ...]:
    """RGBA of the tile pixel over image pixel (col, row)."""
    tz, x, y, px, py = _tile_at(col, row, z)
    png = tiles.render_tile(str(path), tz, x, y)
    assert png is not None
    rgba = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))
    return tuple(int(v) for v in rgba[py, px])


def _rgba(dtype: str) -> np.ndarray:
    """RGBA, the left half transparent and filled white (as many tools fill it)."""
    top = 65535 if dtype == "uint16" else 255
    rgb = yard_scene(SIZE, SIZE).astype(dtype) * (257 if dtype == "uint16" else 1)
    rgb[:, :, :CUT] = round(top * 0.94)
    alpha = np.full((1, SIZE, SIZE), top, dtype)
    alpha[:, :, :CUT] = 0
    return np.concatenate([rgb, alpha])


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    tiles._render_params.cache_clear()
    yield
    tiles._render_params.cache_clear()


@pytest.mark.parametrize("dtype", ["uint8", "uint16"])
@pytest.mark.parametrize(("z", "kind"), [(18, "full"), (12, "coarse")])
def test_an_rgba_without_extrasamples_is_transparent_where_its_alpha_is_0(
    tmp_path: Path, dtype: str, z: int, kind: str
) -> None:
    path = write_geotiff(tmp_path / "rgba.tif", _rgba(dtype), photometric="RGB")
    with rasterio.open(path) as ds:
        assert undeclared_alpha(ds) == 4
    tz, x, y, _, _ = _tile_at(CUT / 2, SIZE / 2, z)
    with Reader(str(path)) as src:
        assert tiles.tile_plan(src, x, y, tz).kind == kind
    assert _pixel(path, CUT / 2, SIZE / 2, z)[3] == 0  # was opaque white: ground
    ground = _pixel(path, CUT * 1.5, SIZE / 2, z)
    assert ground[3] == 255 and ground[:3] != (255, 255, 255)


def test_a_colour_table_is_drawn_in_its_colours_and_its_transparent_entries_clear(
    tmp_path: Path,
) -> None:
    path = _palette_vrt(tmp_path, {0: 0, 1: 0})  # columns 0-159 are entries 0 and 1
    assert _pixel(path, 75, 200)[3] == 0  # was opaque black (entry 0's colour)
    assert _pixel(path, 155, 200)[3] == 0  # entry 1
    shown = _pixel(path, 300, 200)
    # entry i is (i, 255 - i, 7 i mod 256): a colour, no grey level (was the index as one)
    assert shown[3] == 255 and shown[0] + shown[1] == 255 and shown[2] == shown[0] * 7 % 256
    (tmp_path / "opaque").mkdir()
    opaque = _palette_vrt(tmp_path / "opaque", {})
    assert _pixel(opaque, 75, 200) == (0, 255, 0, 255)  # no alpha in the table: opaque


@pytest.fixture
def served(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[dict[str, object]]:
    """A scene served by the app, its tile over the image's centre."""
    path = write_geotiff(tmp_path / "yard.tif", yard_scene(SIZE, SIZE))
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    bbox = ",".join(f"{v:.6f}" for v in image_box_wgs84(0, 0, SIZE, SIZE).bounds)
    assert main(["--db", url, "site", "add", "yard", "--bbox", bbox]) == 0
    assert main(["--db", url, "ingest", "yard", str(path), "--date", "2023-10-05"]) == 0
    capsys.readouterr()
    db = Database(url)
    with db.session(readonly=True) as s:
        (row,) = repo.list_scenes(s, "yard")
        scene_id = row.id
    client = TestClient(create_app(Settings(db=url, cache_dir=tmp_path / "cache"), db))
    z, x, y, _, _ = _tile_at(SIZE / 2, SIZE / 2, 18)
    yield {"client": client, "url": f"/api/scenes/{scene_id}/tiles/{z}/{x}/{y}.png", "path": path}
    db.dispose()


def _alpha(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))[..., 3]


def test_a_mask_sidecar_added_or_changed_makes_a_new_tile(served: dict[str, object]) -> None:
    c, url, path = served["client"], str(served["url"]), served["path"]
    assert isinstance(c, TestClient) and isinstance(path, Path)
    first = c.get(url)
    assert first.status_code == 200 and (_alpha(first.content) == 255).all()
    etag = first.headers["ETag"]
    assert c.get(url, headers={"If-None-Match": etag}).status_code == 304
    # a mask beside the image (NAME.msk, as gdal_translate -mask writes it): the left
    # half of the image is no data; the image file itself is untouched
    stat = path.stat()
    other = path.parent / "other"
    other.mkdir()
    copy = other / path.name
    copy.write_bytes(path.read_bytes())
    keep = np.full((SIZE, SIZE), 255, np.uint8)
    keep[:, : SIZE // 2] = 0
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=False), rasterio.open(copy, "r+") as dst:
        dst.write_mask(keep)
    msk = path.with_name(path.name + ".msk")
    msk.write_bytes(copy.with_name(copy.name + ".msk").read_bytes())
    assert path.stat().st_mtime_ns == stat.st_mtime_ns
    with rasterio.open(path) as ds:  # GDAL reads it as the image's mask
        assert not ds.dataset_mask()[:, : SIZE // 2].any()
    r = c.get(url, headers={"If-None-Match": etag})
    assert r.status_code == 200  # was 304: the old tile kept
    assert r.headers["ETag"] != etag
    alpha = _alpha(r.content)
    edge = _tile_at(SIZE / 2, SIZE / 2, 18)[3]  # the tile column of image column 300
    # (the UTM column leans about 1° on the Web Mercator tile: 5 px over its height)
    assert (alpha[:, : edge - 8] == 0).all() and (alpha[:, edge + 8 :] == 255).all()
    # the mask rewritten in place (the whole image valid again): a new tile again
    tag2 = r.headers["ETag"]
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=False), rasterio.open(copy, "r+") as dst:
        dst.write_mask(np.full((SIZE, SIZE), 255, np.uint8))
    msk.write_bytes(copy.with_name(copy.name + ".msk").read_bytes())
    r = c.get(url, headers={"If-None-Match": tag2})
    assert r.status_code == 200 and r.headers["ETag"] not in (etag, tag2)
    assert (_alpha(r.content) == 255).all()
    assert c.get(url, headers={"If-None-Match": r.headers["ETag"]}).status_code == 304


def test_file_stamp_lists_the_sidecars(tmp_path: Path) -> None:
    path = write_geotiff(tmp_path / "yard.tif", yard_scene(64, 64))
    bare = tiles.file_stamp(str(path))
    assert bare is not None and bare[1] == ()
    aux = path.with_name("yard.tif.aux.xml")
    aux.write_text(
        '<PAMDataset><PAMRasterBand band="1"><NoDataValue>0</NoDataValue>'
        "</PAMRasterBand></PAMDataset>\n"
    )
    stamped = tiles.file_stamp(str(path))
    assert stamped is not None and [Path(p).name for p, _ in stamped[1]] == ["yard.tif.aux.xml"]
    assert stamped[0] == bare[0]  # the image file itself unchanged
    aux.unlink()
    assert tiles.file_stamp(str(path)) == bare
