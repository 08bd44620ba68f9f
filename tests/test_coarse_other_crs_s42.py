"""`railwatch process` counts a coarse scene delivered in another CRS on the file's own
pixels (2026-12-06, session 42).

Until then a 3 m file in another UTM zone or in Web Mercator was read on the site grid's
bilinear resampling of it (its pixels are not a cut of the grid's, nor the grid's moved
by a fraction of a pixel: session 41's ``sharp_shift``), which blurs a car about one
pixel wide over two: thirty simulated 3 m yards delivered so read within ±15 % on 9-11
of 30, 13-14 on the file's own pixels along the centrelines placed in its CRS
(`benchmarks/bench_coarse_other_crs.py`; docs/detection.md, "A coarse file in another
CRS").
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import shapely
import shapely.affinity
from pyproj import Transformer
from rasterio.warp import Resampling, calculate_default_transform, reproject
from shapely.geometry import LineString, box

from railwatch.detect import coarse
from railwatch.imagery.read import file_grid, own_grid
from railwatch.ingest import ingest_paths
from railwatch.pipeline import process_site
from railwatch.sim import SceneParams, render_scene, write_scene
from railwatch.sites import SiteSpec, load_tracks
from railwatch.storage import Database, repo
from test_detect_fakes import BrightBlobDetector

# a clear 3 m yard (seed 112, 45 cars: session 41's yard), the site 30 m inside the image
_CARS = 45
_PARAMS = SceneParams(
    seed=112,
    size_px=(200, 200),
    gsd=3.0,
    n_cars=_CARS,
    date=datetime(2024, 5, 6, 2, tzinfo=UTC),
)


def _to(geom: Any, crs: str) -> Any:
    """``geom`` from lon/lat into ``crs``."""
    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    return shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def _deliver(src_dir: Path, dst_dir: Path, crs: str) -> None:
    """The yard's image (and its quality mask) reprojected into ``crs`` as a provider
    delivers it (nearest; rasterio's default transform), its sidecar beside it."""
    dst_dir.mkdir()
    for name in ("yard.tif", "yard.mask.tif"):
        with rasterio.open(src_dir / name) as src:
            t, w, h = calculate_default_transform(src.crs, crs, src.width, src.height, *src.bounds)
            profile = {**src.profile, "crs": crs, "transform": t, "width": w, "height": h}
            profile.update(tiled=False)
            profile.pop("blockxsize", None)
            profile.pop("blockysize", None)
            with rasterio.open(dst_dir / name, "w", **profile) as dst:
                for i in range(1, src.count + 1):
                    reproject(
                        rasterio.band(src, i),
                        rasterio.band(dst, i),
                        dst_transform=t,
                        dst_crs=crs,
                        resampling=Resampling.nearest,
                        src_nodata=src.nodata,
                        dst_nodata=src.nodata,
                    )
    sidecar = (src_dir / "yard.json").read_text()
    (dst_dir / "yard.json").write_text(sidecar)


@pytest.fixture(scope="module")
def yard(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("other_crs")
    paths = write_scene(render_scene(_PARAMS), root / "rendered", "yard", preview=False)
    with rasterio.open(paths.image) as ds:
        b, crs = ds.bounds, str(ds.crs)
    to_ll = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    inner = shapely.segmentize(box(b.left + 30, b.bottom + 30, b.right - 30, b.top - 30), 3.0)
    site = shapely.transform(inner, lambda xy: np.column_stack(to_ll.transform(xy[:, 0], xy[:, 1])))
    zone = int(crs.split(":")[1])
    _deliver(root / "rendered", root / "mercator", "EPSG:3857")
    _deliver(root / "rendered", root / "next_zone", f"EPSG:{zone + 1}")
    _deliver(root / "rendered", root / "lonlat", "EPSG:4326")
    return {"root": root, "site": site, "tracks": load_tracks(paths.tracks)}


def _process(yard: dict[str, Any], folder: str, tmp_path: Path) -> tuple[float, str, float]:
    """The stored count of the yard's one image in ``folder``, processed for its site,
    the version it was counted with, and how far (metres, at most) the occupied
    stretches stored with it lie from the site's centrelines."""
    db = Database(f"sqlite:///{tmp_path / (folder + '.db')}")
    with db.session() as s:
        repo.add_site(s, SiteSpec(name="yard", geometry=yard["site"], tracks=yard["tracks"]))
    got = ingest_paths(db, "yard", [yard["root"] / folder / "yard.tif"])
    assert len(got.ingested) == 1, got.failed
    det = BrightBlobDetector()
    det.name, det.version = "fake", "1"
    done = process_site(db, "yard", detector=det)
    assert not done.failed and len(done.processed) == 1, done
    with db.session() as s:
        (point,) = repo.count_series(s, "yard")
        (scene,) = repo.list_scenes(s, "yard")
        assert point.count is not None and point.method == "length"
        runs = repo.occupied_runs_of(scene)
        assert runs, "no occupied stretch stored"
        lines = _to(yard["tracks"], "EPSG:32652")
        off = max(lines.distance(_to(LineString(r.coords), "EPSG:32652")) for r in runs)
        return float(point.count), str(scene.detector_version), off


@pytest.mark.parametrize("folder", ["mercator", "next_zone"])
def test_a_yard_delivered_in_another_crs_counts_as_on_the_grid(
    yard: dict[str, Any], folder: str, tmp_path: Path
) -> None:
    """The same clear 3 m yard (45 cars) delivered in Web Mercator or the neighbouring
    UTM zone (nearest) counts within 15 % of the file as rendered, on the site grid
    (43.8), and of the truth, its occupied stretches stored on the centrelines. Read on
    the grid's bilinear resampling it read 90.9 (EPSG:3857) and 88.4 (zone 53); on its
    own pixels 46.1 and 44.3."""
    on_grid, version, _ = _process(yard, "rendered", tmp_path)
    moved, moved_version, off = _process(yard, folder, tmp_path)
    assert version == moved_version
    assert version.startswith(f"1+length{coarse.ESTIMATOR_VERSION}+")
    assert abs(moved - on_grid) <= 0.15 * on_grid, (moved, on_grid)
    assert abs(moved - _CARS) <= 0.15 * _CARS, moved
    # the stretches read as occupied are stored where they lie: on the centrelines
    assert off < 1.0, off


def test_the_file_grid_is_a_cut_of_the_files_pixels(yard: dict[str, Any]) -> None:
    """:func:`file_grid` is the file's own pixel grid over the site (whole pixels from
    its corner, in its CRS, covering the site), and none for lon/lat pixels that are not
    square on the ground at 42° N, which stay read on the site grid."""
    with rasterio.open(yard["root"] / "mercator" / "yard.tif") as ds:
        grid = file_grid(ds, yard["site"], gsd=3.0, square=0.02)
        t = ds.transform
    assert grid is not None and grid.crs == "EPSG:3857" and grid.gsd == 3.0
    col, row = (grid.transform.c - t.c) / t.a, (grid.transform.f - t.f) / t.e
    assert col == pytest.approx(round(col), abs=1e-9) and row == pytest.approx(round(row))
    assert grid.transform.a == t.a and grid.transform.e == t.e
    site = _to(yard["site"], "EPSG:3857")
    assert box(*grid.bounds).contains(site)
    lonlat = yard["root"] / "lonlat" / "yard.tif"
    assert own_grid(lonlat, yard["site"], gsd=3.0) is None
    assert own_grid(lonlat, yard["site"], gsd=3.0, square=0.5) is not None


def test_a_site_reaching_past_the_file_keeps_its_pixels_without_data(
    yard: dict[str, Any],
) -> None:
    """Where the site reaches past the file, the file's grid reaches with it (its pixels
    there without data widen the count's interval, as on the site grid), and a site
    wholly outside the file has none."""
    with rasterio.open(yard["root"] / "mercator" / "yard.tif") as ds:
        width, height = ds.width, ds.height
        wide = _to(yard["site"], "EPSG:3857").buffer(200.0)
        back = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)
        site = shapely.transform(wide, lambda xy: np.column_stack(back.transform(*xy.T)))
        grid = file_grid(ds, site)
        far = shapely.affinity.translate(yard["site"], xoff=1.0)
        assert file_grid(ds, far) is None
    assert grid is not None and grid.width > width and grid.height > height


def test_a_lonlat_file_is_counted_on_the_site_grid_as_before(
    yard: dict[str, Any], tmp_path: Path
) -> None:
    """A lon/lat file (pixels 1.35 times as tall as wide on the ground at 42° N) is
    still counted on the site grid's resampling: what `count_scene` reads on it."""
    from railwatch.counting import count_scene
    from railwatch.imagery import assess_quality, read_site_window, site_grid

    stored, _, _ = _process(yard, "lonlat", tmp_path)
    from railwatch.imagery.inspect import ground_gsd
    from railwatch.pipeline import grid_gsd

    image = yard["root"] / "lonlat" / "yard.tif"
    with rasterio.open(image) as ds:
        grid = site_grid(yard["site"], grid_gsd(ground_gsd(ds)))
    raster = read_site_window(
        image, grid, mask_uri=image.with_name("yard.mask.tif"), site_geom=yard["site"]
    )
    quality = assess_quality(raster, threshold=0.8)
    on_grid = count_scene([], raster, quality, tracks_wgs84=yard["tracks"]).total
    assert stored == pytest.approx(on_grid, abs=0.01)


def test_the_registration_shift_moves_the_lines_as_far_on_the_files_pixels(
    yard: dict[str, Any],
) -> None:
    """A registration's shift (columns, rows of the site grid) moves the centrelines on
    the file's pixels by the same distance on the ground and the same way."""
    from railwatch.imagery import site_grid
    from railwatch.pipeline import _shift_onto

    grid = site_grid(yard["site"], 3.0)
    with rasterio.open(yard["root"] / "mercator" / "yard.tif") as ds:
        onto = file_grid(ds, yard["site"], gsd=3.0)
    assert onto is not None and grid.crs == "EPSG:32652"
    assert _shift_onto(None, grid, onto) is None
    moved = _shift_onto((2.0, -1.0), grid, onto)
    assert moved is not None
    # a Web Mercator pixel of this file is 3 m on the ground: 6 m east, 3 m north
    assert moved[0] == pytest.approx(2.0, abs=0.1) and moved[1] == pytest.approx(-1.0, abs=0.1)
    assert _shift_onto((0.0, 0.0), grid, onto) == pytest.approx((0.0, 0.0), abs=1e-6)
