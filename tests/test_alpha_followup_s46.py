"""A band GDAL labels alpha that holds data (NIR) is data in the map tiles, in
``railwatch detect``'s and the label chips' no-data rules, and is said once where users
read warnings (2026-12-07, session 46, follow-up of tests/test_nir_alpha_s46.py).

Four bands written as RGB with an extra sample have their 4th band labelled alpha, also
when it holds near-infrared; ``imagery.inspect.alpha_as_data`` tells such a band, and
the pipeline reads it as data since aa87fce8. Until this follow-up:

- the dashboard's tiles (rio-tiler) took it as alpha, opaque only where it was 255: a
  tile of the file was transparent, where the same RGB without band 4 was drawn whole;
- tiles, ``detect`` and the label chips took any band labelled alpha as the file's
  declared transparency: its black fill (``detect``) and its STAC item's nodata value
  (tiles, chips) were read as ground, where the pipeline reads them as no data;
- it was said only as a log line (``WARNING railwatch.imagery.inspect: ...``), not in
  ``ingest``'s per-file warnings (its ``--json``), nor beside ``detect``'s other
  warnings. Now it is said there, once a file, and not logged as well.
"""

from __future__ import annotations

import io
import json
import logging
import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window
from shapely.geometry import mapping

from imagery_helpers import (
    ORIGIN_X,
    ORIGIN_Y,
    image_box_wgs84,
    utm_box_wgs84,
    write_geotiff,
    yard_scene,
)
from railwatch.cli.main import main
from railwatch.detect.api import detect_file, file_reading, window_valid
from railwatch.export.label_chips import scene_chips
from railwatch.imagery import read_site_window, site_grid
from railwatch.imagery.read import ITEM_NODATA_KEY
from railwatch.storage.models import Scene

SIZE = 256
CUT = SIZE // 2  # columns 0-127: NIR 0 (water), or transparent in the true RGBA
FILL = 7  # a STAC item's nodata value
SAID = "is labelled alpha (transparency) but"


def _rgb(size: int = SIZE) -> np.ndarray:
    return np.clip(yard_scene(size, size), 1, 255).astype("uint8")  # no black fill


def _nir(size: int = SIZE) -> np.ndarray:
    """A NIR band: a full range of intensities, 0 over the west half (water)."""
    nir = np.random.default_rng(3).integers(25, 230, (size, size)).astype("uint8")
    nir[:, : size // 2] = 0
    return nir


def _rgbn(path: Path, rgb: np.ndarray | None = None) -> Path:
    """RGB and NIR written as RGB with an extra sample: GDAL labels band 4 alpha."""
    rgb = _rgb() if rgb is None else rgb
    write_geotiff(path, np.concatenate([rgb, _nir(rgb.shape[-1])[None]]), alpha=True)
    with rasterio.open(path) as ds:
        assert ds.colorinterp[3].name == "alpha"  # as GDAL labels it
    return path


def _rgb_only(path: Path, rgb: np.ndarray | None = None) -> Path:
    return write_geotiff(path, _rgb() if rgb is None else rgb, photometric="RGB")


def _true_rgba(path: Path) -> Path:
    alpha = np.full((1, SIZE, SIZE), 255, "uint8")
    alpha[:, :, :CUT] = 0
    return write_geotiff(path, np.concatenate([_rgb(), alpha]), alpha=True)


def _west_tile(z: int) -> tuple[int, int, int]:
    """The tile at zoom ``z`` over the middle of the image's west (NIR 0) half."""
    c = image_box_wgs84(CUT // 2 - 8, CUT - 8, CUT // 2 + 8, CUT + 8).centroid
    x = int((c.x + 180) / 360 * 2**z)
    y = int((1 - math.asinh(math.tan(math.radians(c.y))) / math.pi) / 2 * 2**z)
    return z, x, y


def _rgba_png(png: bytes | None) -> np.ndarray:
    from PIL import Image

    assert png is not None
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


# --- map tiles ---------------------------------------------------------------------------


@pytest.mark.parametrize("zoom", [20, 18, 12])  # rio-tiler's full read; the decimated one
def test_a_tile_of_rgb_and_nir_is_that_of_the_rgb_alone(tmp_path: Path, zoom: int) -> None:
    pytest.importorskip("rio_tiler")
    from railwatch.web.routes import tiles

    tiles._render_params.cache_clear()
    z, x, y = _west_tile(zoom)
    nir = _rgba_png(tiles.render_tile(str(_rgbn(tmp_path / "tile_rgbn.tif")), z, x, y))
    plain = _rgba_png(tiles.render_tile(str(_rgb_only(tmp_path / "tile_rgb.tif")), z, x, y))
    assert (plain[..., 3] > 0).any()
    # was transparent: rio-tiler took band 4 as alpha, opaque only where it is 255
    assert np.array_equal(nir, plain)
    # a true alpha band is still the tile's transparency: its west half is transparent
    rgba = _rgba_png(tiles.render_tile(str(_true_rgba(tmp_path / "tile_rgba.tif")), z, x, y))
    assert (rgba[..., 3] > 0).sum() < 0.75 * (plain[..., 3] > 0).sum()


@pytest.mark.parametrize("zoom", [18, 12])
def test_the_items_nodata_is_transparent_in_a_tile_of_rgb_and_nir(
    tmp_path: Path, zoom: int
) -> None:
    pytest.importorskip("rio_tiler")
    from railwatch.web.routes import tiles

    tiles._render_params.cache_clear()
    rgb = _rgb()
    rgb[:, : SIZE // 2, :] = FILL  # the north half: the item's nodata
    z, x, y = _west_tile(zoom)
    nir = str(_rgbn(tmp_path / "fill_rgbn.tif", rgb))
    plain = str(_rgb_only(tmp_path / "fill_rgb.tif", rgb))
    got = _rgba_png(tiles.render_tile(nir, z, x, y, item_nodata=FILL))[..., 3]
    want = _rgba_png(tiles.render_tile(plain, z, x, y, item_nodata=FILL))[..., 3]
    assert (want == 0).any() and (want > 0).any()
    # band 4 declares no transparency: the item's nodata applies, as the pipeline reads it
    assert np.array_equal(got > 0, want > 0)


def test_the_render_params_name_the_band_read_as_data(tmp_path: Path) -> None:
    pytest.importorskip("rio_tiler")
    from railwatch.web.routes import tiles

    tiles._render_params.cache_clear()
    params = tiles._render_params(str(_rgbn(tmp_path / "params_rgbn.tif")))
    assert params.indexes == (1, 2, 3) and params.alpha is None
    # the tiles are read from a VRT of the file that labels band 4 undefined
    assert params.view is not None
    with rasterio.open(params.view) as view:
        assert [c.name for c in view.colorinterp] == ["red", "green", "blue", "undefined"]
    rgba = tiles._render_params(str(_true_rgba(tmp_path / "params_rgba.tif")))
    assert rgba.view is None and rgba.alpha is None
    assert tiles.RENDERER_VERSION >= 4  # tiles drawn before are not reused (their ETag)


# --- detect and label chips --------------------------------------------------------------


def _fill_rgb() -> np.ndarray:
    """RGB with a black fill (0 in every band) over its north-west 80 x 80 px (1,600 m²
    at 0.5 m, more than ``imagery.read.FILL_MIN_M2``)."""
    rgb = _rgb()
    rgb[:, :80, :80] = 0
    return rgb


def _detect_valid(path: Path) -> np.ndarray | None:
    with rasterio.open(path) as ds:
        how = file_reading(
            ds, path, [1, 2, 3], gsd=0.5, radiometry="linear", command="railwatch detect"
        )
        rw = Window(0, 0, ds.width, ds.height)
        return window_valid(ds, [1, 2, 3], rw, ds.read([1, 2, 3], window=rw), how.masks)


def test_detect_reads_the_black_fill_of_rgb_and_nir_as_no_data(tmp_path: Path) -> None:
    want = _detect_valid(_rgb_only(tmp_path / "black_rgb.tif", _fill_rgb()))
    got = _detect_valid(_rgbn(tmp_path / "black_rgbn.tif", _fill_rgb()))
    assert want is not None and not want[:80, :80].any() and want[80:, 80:].all()
    # was None (all valid): band 4 labelled alpha was taken as declaring the no data
    assert got is not None and np.array_equal(got, want)
    # as the pipeline reads the file
    site = image_box_wgs84(0, 0, SIZE, SIZE)
    raster = read_site_window(str(tmp_path / "black_rgbn.tif"), site_grid(site, 0.5))
    assert 0.05 < 1 - raster.valid[raster.inside].mean() < 0.15


def test_a_label_chip_of_rgb_and_nir_leaves_out_the_items_nodata(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    rgb = _rgb()
    rgb[:, :, :40] = FILL  # the west strip: the item's nodata
    site = image_box_wgs84(10, 10, SIZE - 10, SIZE - 10)

    def chip(path: Path) -> np.ndarray:
        scene = SimpleNamespace(
            id=1,
            uri=str(path),
            crs="EPSG:32652",
            meta={ITEM_NODATA_KEY: float(FILL)},
            acquired_at=datetime(2024, 5, 1, tzinfo=UTC),
            gsd=0.5,
        )
        ((_, pixels),) = scene_chips(cast(Scene, scene), [], site, "yard", 1024)
        return pixels

    want = chip(_rgb_only(tmp_path / "chip_rgb.tif", rgb))
    got = chip(_rgbn(tmp_path / "chip_rgbn.tif", rgb))
    assert not want[:, :25].any() and want[:, 40:].any(axis=2).all()
    assert np.array_equal(got, want)  # the fill was FILL, drawn as ground


# --- said once, where users read warnings ------------------------------------------------


def _alpha_records(caplog: pytest.LogCaptureFixture, name: str) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if SAID in r.getMessage() and name in r.getMessage()
    ]


def test_ingest_says_it_in_the_files_warning_once(
    tmp_path: Path,
    tmp_db_url: str,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    site = tmp_path / "site.geojson"
    box = utm_box_wgs84(ORIGIN_X + 10, ORIGIN_Y - 100, ORIGIN_X + 100, ORIGIN_Y - 10)
    site.write_text(json.dumps(mapping(box)))
    assert main(["--db", tmp_db_url, "site", "add", "yard", "--geojson", str(site)]) == 0
    path = _rgbn(tmp_path / "ingest_rgbn_20240617T100000.tif")
    other = _rgbn(tmp_path / "ingest_json_rgbn_20240618T100000.tif", _rgb()[:, ::-1].copy())
    capsys.readouterr()
    with caplog.at_level(logging.WARNING):
        assert main(["--db", tmp_db_url, "ingest", "yard", str(path)]) == 0
        err = " ".join(capsys.readouterr().err.split())
        assert err.count(SAID) == 1, err  # was only a log line
        assert f"{path.name}: band 4 {SAID}" in err and "-mask 4" in err
        assert main(["--db", tmp_db_url, "ingest", "yard", str(other), "--json"]) == 0
        captured = capsys.readouterr()
    (entry,) = json.loads(captured.out)["ingested"]  # stdout: the JSON alone
    assert entry["warning"].startswith(f"band 4 {SAID}")
    assert SAID not in captured.err
    # not said a second time, in the log
    assert not _alpha_records(caplog, path.name) and not _alpha_records(caplog, other.name)


def test_detect_says_it_once_beside_its_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    rgb = np.clip(yard_scene(400, 400), 1, 255).astype("uint8")
    image = _rgbn(tmp_path / "detect_rgbn.tif", rgb)
    out = tmp_path / "detect_rgbn.out.geojson"
    with caplog.at_level(logging.WARNING):
        code = main(["detect", str(image), "-o", str(out), "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    (row,) = json.loads(captured.out)  # stdout: the JSON alone
    assert Path(row["image"]).name == image.name
    err = " ".join(captured.err.split())
    assert err.count(SAID) == 1, err  # was only a log line
    assert f"warning: {image.name}: band 4 {SAID}" in err
    assert not _alpha_records(caplog, image.name)


def test_detect_file_gives_it_and_logs_it_by_default(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rgb = np.clip(yard_scene(400, 400), 1, 255).astype("uint8")
    image = _rgbn(tmp_path / "detect_file_rgbn.tif", rgb)
    with caplog.at_level(logging.WARNING):
        result: Any = detect_file(image)
    assert result.alpha_as_data is not None and result.alpha_as_data[0] == 4
    # a caller that does not say it (eval, Python) still has the log line
    assert len(_alpha_records(caplog, image.name)) == 1
    plain = detect_file(_rgb_only(tmp_path / "detect_file_rgb.tif", rgb))
    assert plain.alpha_as_data is None and plain.total == result.total
