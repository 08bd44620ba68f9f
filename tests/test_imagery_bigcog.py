"""A 40,000 x 40,000 px tiled GeoTIFF with overviews: inspect it and read a site
window without loading the image (peak memory measured in a fresh process)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.enums import Resampling
from rasterio.windows import Window

from imagery_helpers import ORIGIN_X, ORIGIN_Y, UTM52, north_up

SIZE = 40_000
BLOCK = 512
FULL_IMAGE_MB = SIZE * SIZE * 3 / 1e6  # 4,800 MB of pixels


def write_big_geotiff(path: Path) -> None:
    """Tiled, deflate-compressed, with overviews. A 1 km band of rows holds real
    (mostly constant, so it compresses small) data; blocks never written stay
    sparse (GDAL reads them as 0), so the file is a few MB and quick to write."""
    profile = {
        "driver": "GTiff",
        "width": SIZE,
        "height": SIZE,
        "count": 3,
        "dtype": "uint8",
        "crs": UTM52,
        "transform": north_up(ORIGIN_X, ORIGIN_Y, 0.5),
        "tiled": True,
        "blockxsize": BLOCK,
        "blockysize": BLOCK,
        "compress": "deflate",
        "photometric": "RGB",
        "sparse_ok": True,
        "BIGTIFF": "YES",
    }
    rng = np.random.default_rng(0)
    with rasterio.Env(GDAL_CACHEMAX=64), rasterio.open(path, "w", **profile) as dst:
        stripe = np.full((3, BLOCK, SIZE), 90, np.uint8)
        stripe[1] = 120
        for row in range(19_456, 21_504, BLOCK):
            dst.write(stripe, window=Window(0, row, SIZE, BLOCK))
        for _ in range(8):  # a few textured tiles, also inside the site window
            col = int(rng.integers(38, 41)) * BLOCK
            row = int(rng.integers(38, 41)) * BLOCK
            tile = rng.integers(0, 64, size=(3, BLOCK, BLOCK), dtype=np.uint8) + 100
            dst.write(tile, window=Window(col, row, BLOCK, BLOCK))
        dst.build_overviews([16, 64, 256], Resampling.nearest)


_CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    sys.path.insert(0, sys.argv[2])
    from imagery_helpers import image_box_wgs84
    from railwatch.imagery import assess_quality, inspect_scene, read_site_window, site_grid

    def peak_mb():
        # VmHWM (peak RSS of this process image); ru_maxrss would include the
        # parent's peak inherited through fork.
        try:
            with open("/proc/self/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    site = image_box_wgs84(19_600, 19_600, 21_400, 21_400)  # 900 m x 900 m
    grid = site_grid(site, 0.5)
    before = peak_mb()
    t0 = time.perf_counter()
    info = inspect_scene(sys.argv[1])
    t1 = time.perf_counter()
    after_inspect = peak_mb()
    raster = read_site_window(sys.argv[1], grid, site_geom=site)
    t2 = time.perf_counter()
    after_read = peak_mb()
    quality = assess_quality(raster)
    after_quality = peak_mb()
    print(json.dumps({
        "before": before, "after_inspect": after_inspect, "after_read": after_read,
        "after_quality": after_quality,
        "inspect_s": round(t1 - t0, 2), "read_s": round(t2 - t1, 2),
        "width": info.width, "gsd": info.gsd, "grid": [grid.width, grid.height],
        "valid": float(raster.valid[raster.inside].mean()),
        "green_min": int(raster.image[..., 1].min()), "coverage": quality.coverage,
    }))
    """
)


@pytest.mark.slow
def test_big_cog_inspect_and_read_are_memory_bounded(tmp_path: Path) -> None:
    path = tmp_path / "big_2023-10-05.tif"
    write_big_geotiff(path)
    assert path.stat().st_size < 50e6
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["width"] == SIZE and result["gsd"] == pytest.approx(0.5)
    assert abs(result["grid"][0] - 1800) <= 2 and abs(result["grid"][1] - 1800) <= 2
    assert result["valid"] == 1.0 and result["coverage"] == 1.0
    # the window holds the written data (green 120, textured tiles 100-163), not zeros
    assert result["green_min"] >= 100
    growth_inspect = result["after_inspect"] - result["before"]
    growth = result["after_read"] - result["before"]
    # the site window is 1800 x 1800 px (~10 MB as RGB); the image is 4,800 MB
    assert growth_inspect < 120, result
    assert growth < 300, result
    assert growth < FULL_IMAGE_MB / 10
    print(json.dumps(result))
