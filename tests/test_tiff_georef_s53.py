"""Session 53 (2026-12-08): GeoTIFFs whose georeferencing is degenerate or extreme.

Probed through ``railwatch detect``, ``ingest`` and ``process`` in child processes
(2-core VM, /var/tmp/s53/tiffprobe): no native crash, hang or memory growth, but
``railwatch detect`` ended on an internal error (status 70) for a local (engineering)
CRS ("Cannot find coordinate operations"), for corners PROJ cannot take to lon/lat
(origin at 1e308, pixels of 10^12 m, UTM coordinates of 10^9 m: "Point outside of
projection domain") and, with ``--gsd``, for pixels 0 m wide (ZeroDivisionError); it
detected on a NaN or infinite origin and wrote the result in the file's CRS as if
georeferenced; ``ingest`` reported "unexpected error: GEOSException ..." (NaN origin,
0 m pixels), "AttributeError" (infinite origin) or "ValueError" (a singular shear).
Such a file is now refused with what is wrong with its grid and how to give it one
(``inspect.grid_problem``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS

from railwatch.imagery.inspect import BrokenGridError, inspect_scene

#: How a script runs the command line.
RUN = "import sys; from railwatch.cli.main import main; sys.exit(main())"
#: Near Tumangang in UTM 52N (EPSG:32652), metres.
X0, Y0 = 634358.5, 4684372.2
LOCAL = 'LOCAL_CS["arbitrary",UNIT["metre",1],AXIS["X",EAST],AXIS["Y",NORTH]]'


def _tiff(path: Path, transform: Affine, crs: CRS | str | None = "EPSG:32652") -> Path:
    data = np.random.default_rng(53).integers(0, 255, (3, 128, 128), dtype=np.uint8)
    profile = {"driver": "GTiff", "width": 128, "height": 128, "count": 3, "dtype": "uint8"}
    with rasterio.open(path, "w", crs=crs, transform=transform, **profile) as ds:
        ds.write(data)
    return path


def _detect(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUN, "detect", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("case", "transform", "crs", "gsd", "said"),
    [
        # before: status 70, CPLE_NotSupportedError (no coordinate operation to lon/lat)
        ("local", Affine(0.5, 0, 100, 0, -0.5, 200), CRS.from_wkt(LOCAL), None, "local"),
        # before: status 70, CPLE_AppDefinedError "Point outside of projection domain"
        ("far", Affine(0.5, 0, 1e308, 0, -0.5, 1e308), "EPSG:32652", "0.5", "no longitude"),
        ("huge", Affine(1e12, 0, X0, 0, -1e12, Y0), "EPSG:32652", None, "no longitude"),
        # before: status 70, ZeroDivisionError
        ("zero", Affine(0, 0, X0, 0, 0, Y0), "EPSG:32652", "0.5", "singular"),
        # before: status 0, detected and written in EPSG:32652 at a NaN origin
        ("nan", Affine(0.5, 0, float("nan"), 0, -0.5, Y0), "EPSG:32652", "0.5", "NaN"),
    ],
)
def test_detect_says_what_is_wrong_with_the_grid(
    tmp_path: Path, case: str, transform: Affine, crs: CRS | str, gsd: str | None, said: str
) -> None:
    image = _tiff(tmp_path / f"{case}.tif", transform, crs)
    out = tmp_path / "out.geojson"
    done = _detect(str(image), "-o", str(out), *(["--gsd", gsd] if gsd else []))
    text = " ".join(done.stderr.split())
    assert done.returncode == 1, (done.returncode, done.stderr[-2000:])
    assert "internal error" not in text and "Traceback" not in text
    assert f"error: {case}.tif" in text and said in text, text
    assert "gdal_translate -a_srs EPSG:CODE -a_ullr" in text, text
    assert not out.exists()


@pytest.mark.parametrize(
    ("case", "transform"),
    [
        ("nan", Affine(0.5, 0, float("nan"), 0, -0.5, float("nan"))),  # before: GEOSException
        ("inf", Affine(0.5, 0, float("inf"), 0, -0.5, Y0)),  # before: AttributeError
        ("zero", Affine(0, 0, X0, 0, 0, Y0)),  # before: GEOSException
        ("line", Affine(0.5, 0.5, X0, 0.5, 0.5, Y0)),  # singular shear; before: ValueError
    ],
)
def test_ingest_refuses_a_broken_geotransform(tmp_path: Path, case: str, transform: Affine) -> None:
    image = _tiff(tmp_path / f"{case}.tif", transform)
    with pytest.raises(BrokenGridError, match=rf"^{case}\.tif's geotransform .*broken"):
        inspect_scene(image)
