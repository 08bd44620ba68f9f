"""`railwatch detect` on one 1.5-10 m file reads only clear ground, as `railwatch
process` reads a scene (2026-12-06, session 41).

Until then `detect_file` read every pixel with data along the tracks, cloud and haze
included: on the demo's 2022-09-03 3 m image (6 cars) a cloud's bright edge read 46.0 car
equivalents where the pipeline, which reads only what `imagery.quality.readable_pixels`
keeps, stored 1.3. Now the file's quality mask (as ingest finds it: the STAC sidecar's
mask asset, else NAME.mask.tif beside it) is read the same way, and without one the
pixels estimated to be cloud or haze are left out (docs/detection.md, "`railwatch detect`
and `railwatch process` on one coarse file").
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio

from railwatch.detect.api import detect_file
from railwatch.detect.coarse import estimate_occupancy, tracks_to_pixels
from railwatch.imagery.inspect import data_mask, quality_mask_of
from railwatch.imagery.quality import readable_pixels
from railwatch.sim import SceneParams, render_scene, write_scene
from railwatch.sites import load_tracks

# a 3 m yard with opaque cloud over part of its tracks (seed 2: the cloud's edges read as
# cars, 49.5 car equivalents read over every pixel against 28.0 over the clear ones)
_PARAMS = SceneParams(
    seed=2, size_px=(200, 200), gsd=3.0, n_cars=30, cloud_cover=0.3, thin_cloud=0.0
)


@pytest.fixture(scope="module")
def cloudy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scene written as the simulator writes it (image, mask, STAC sidecar, tracks)."""
    out = tmp_path_factory.mktemp("cloudy")
    write_scene(render_scene(_PARAMS), out, "yard", preview=False)
    return out


def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for f in src.iterdir():
        shutil.copy(f, dst / f.name)
    return dst


def _estimate(folder: Path, mask: np.ndarray | None, *, every_pixel: bool = False) -> float:
    """The estimate along the yard's tracks over the pixels with data that ``mask`` (None:
    the estimate) calls readable, or over every pixel with data; without the sun (the
    copies it is compared with have no sidecar, or the estimate is told none)."""
    with rasterio.open(folder / "yard.tif") as ds:
        img = np.moveaxis(ds.read([1, 2, 3]), 0, -1)
        valid = data_mask(ds)
        tracks = tracks_to_pixels(
            load_tracks(folder / "yard.tracks.geojson"), str(ds.crs), ds.transform
        )
    ok = valid if every_pixel else readable_pixels(img, valid, mask, 3.0)
    return estimate_occupancy(img, 3.0, ok, tracks).car_equivalents


def test_detect_reads_the_clear_ground_of_the_mask_beside(cloudy: Path, tmp_path: Path) -> None:
    """With its quality mask beside it, a cloudy 3 m file reads as the same file whose
    cloud is cut out (no data there, its mask all clear): the cloud is not read."""
    folder = _copy(cloudy, tmp_path / "masked")
    assert quality_mask_of(folder / "yard.tif") is not None
    tracks = load_tracks(folder / "yard.tracks.geojson")
    got = detect_file(folder / "yard.tif", tracks=tracks, check_scale=False)
    assert got.coarse is not None

    # the same image with the mask's cloud cut out as no data, and a mask all clear
    cut = _copy(cloudy, tmp_path / "cut")
    with rasterio.open(cut / "yard.mask.tif", "r+", IGNORE_COG_LAYOUT_BREAK="YES") as m:
        codes = m.read(1)
        m.write(np.zeros_like(codes), 1)
    with rasterio.open(cut / "yard.tif", "r+", IGNORE_COG_LAYOUT_BREAK="YES") as ds:
        bands = ds.read()
        bands[:, ~np.isin(codes, (0, 3))] = 0  # nodata 0
        ds.write(bands)
    alone = detect_file(cut / "yard.tif", tracks=tracks, check_scale=False)
    assert alone.coarse is not None
    assert got.coarse.car_equivalents == pytest.approx(alone.coarse.car_equivalents, abs=0.01)
    # what it read by, and how much of the track was clear (said by `railwatch detect`)
    assert got.quality_mask is not None and Path(got.quality_mask).name == "yard.mask.tif"
    assert got.clear_share is not None and 0.0 < got.clear_share < 0.9
    assert alone.clear_share == 1.0  # its cloud is no data: all it has is clear

    # and the cloud does matter here: read over every pixel the yard reads otherwise
    folder_no_sun = _copy(cloudy, tmp_path / "plain")
    (folder_no_sun / "yard.json").unlink()
    everything = _estimate(folder_no_sun, None, every_pixel=True)
    clear = _estimate(folder_no_sun, codes)
    assert abs(everything - clear) > 5.0


def test_detect_without_a_mask_leaves_out_estimated_cloud_and_haze(
    cloudy: Path, tmp_path: Path
) -> None:
    """Without a quality mask (and no sidecar naming one), the pixels estimated to be
    cloud or haze are left out, as `railwatch process` leaves them out of a scene
    ingested without a mask."""
    folder = _copy(cloudy, tmp_path / "bare")
    (folder / "yard.mask.tif").unlink()
    (folder / "yard.json").unlink()  # its mask asset; the sun it gives is left out too
    assert quality_mask_of(folder / "yard.tif") is None
    got = detect_file(
        folder / "yard.tif", tracks=load_tracks(folder / "yard.tracks.geojson"), check_scale=False
    )
    assert got.coarse is not None
    expected = _estimate(folder, None)
    assert got.coarse.car_equivalents == pytest.approx(expected, abs=0.01)
    assert abs(_estimate(folder, None, every_pixel=True) - expected) > 2.0
    assert got.quality_mask is None
    assert got.clear_share is not None and got.clear_share < 1.0


def test_quality_mask_of_is_the_one_ingest_takes(cloudy: Path, tmp_path: Path) -> None:
    """`quality_mask_of` names the mask `inspect_scene` records for the file."""
    from railwatch.imagery.inspect import inspect_scene

    folder = _copy(cloudy, tmp_path / "named")
    info = inspect_scene(folder / "yard.tif")
    assert info.mask_uri is not None
    assert quality_mask_of(folder / "yard.tif") == info.mask_uri
    (folder / "yard.mask.tif").rename(folder / "other.tif")
    assert quality_mask_of(folder / "yard.tif") is None


def test_detect_says_the_lines_were_read_as_drawn(
    cloudy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Along --tracks, `railwatch detect` says once that it read the lines where they
    are drawn, from the image alone, and what `railwatch process` does instead (moves
    them by the image's misregistration, the site's empty track, the site polygon):
    nothing said why the two read one file 25.1 and 5.9 car equivalents."""
    from railwatch.cli.main import main

    folder = _copy(cloudy, tmp_path / "drawn")
    lines = folder / "yard.tracks.geojson"
    args = ["detect", str(folder / "yard.tif"), "--tracks", str(lines), "--out-dir", str(tmp_path)]
    assert main(args) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "yard.tif was read along the --tracks lines where they are drawn" in err, err
    assert "misregistration" in err and "site polygon" in err, err
    assert err.count("where they are drawn") == 1
    # and that the cloud over part of the track was not read
    assert "of the track along the --tracks lines was clear ground by its quality mask" in err
    assert "(yard.mask.tif); cloud and haze are not read" in err, err
    # not along lines found in the image (that note is another)
    assert main(["detect", str(folder / "yard.tif"), "--out-dir", str(tmp_path)]) == 0
    assert "where they are drawn" not in capsys.readouterr().err


def test_detect_says_the_mask_hid_the_tracks(
    cloudy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file whose quality mask calls all of it cloud reads no track, and the note says
    the mask's cloud is why (it said only "where it has no data")."""
    from railwatch.cli.main import main

    folder = _copy(cloudy, tmp_path / "overcast")
    with rasterio.open(folder / "yard.mask.tif", "r+", IGNORE_COG_LAYOUT_BREAK="YES") as m:
        m.write(np.ones((m.height, m.width), np.uint8), 1)  # all cloud
    lines = folder / "yard.tracks.geojson"
    args = ["detect", str(folder / "yard.tif"), "--tracks", str(lines), "--out-dir", str(tmp_path)]
    assert main(args) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "no track read" in err, err
    assert "its quality mask (yard.mask.tif) calls cloud or haze" in err, err


def test_process_reads_a_file_off_the_site_grid_on_its_own_pixels(tmp_path: Path) -> None:
    """A 3 m file in the site's UTM zone at 3 m whose corner is a quarter of a pixel off
    the site grid's multiples (as most delivered images are; the simulator's are not) was
    counted on the grid's bilinear resampling of it, where a car 1 px wide is blurred:
    the same yard read 43.7 on the grid and 90.6 a quarter pixel off (45 cars). It is now
    read on the file's own pixels with the lines moved onto them, as `railwatch detect`
    reads the file: as the same file on the grid reads (coarse.ESTIMATOR_VERSION 14)."""
    import shapely
    from affine import Affine
    from pyproj import Transformer
    from shapely.geometry import box

    from railwatch.counting import count_scene
    from railwatch.imagery import assess_quality, read_site_window, site_grid

    sc = render_scene(SceneParams(seed=112, size_px=(200, 200), gsd=3.0, n_cars=45))
    paths = write_scene(sc, tmp_path, "yard", preview=False)
    with rasterio.open(paths.image) as ds:
        b, crs = ds.bounds, str(ds.crs)
    to_ll = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    to_utm = Transformer.from_crs("EPSG:4326", crs, always_xy=True)

    def moved(geom: Any, dx: float) -> Any:  # dx metres east and south, in UTM
        def shift(xy: np.ndarray) -> np.ndarray:
            x, y = to_utm.transform(xy[:, 0], xy[:, 1])
            return np.column_stack(to_ll.transform(np.asarray(x) + dx, np.asarray(y) - dx))

        return shapely.transform(geom, shift)

    inner = box(b.left + 30, b.bottom + 30, b.right - 30, b.top - 30)  # UTM
    site = shapely.transform(inner, lambda xy: np.column_stack(to_ll.transform(xy[:, 0], xy[:, 1])))
    tracks = load_tracks(paths.tracks)
    grid = site_grid(site, 3.0, crs=crs)

    def count(dx: float) -> tuple[float, Any]:
        raster = read_site_window(str(paths.image), grid, mask_uri=str(paths.mask), site_geom=site)
        quality = assess_quality(raster, threshold=0.8)
        return count_scene([], raster, quality, tracks_wgs84=moved(tracks, dx)).total, raster

    on_grid, raster = count(0.0)
    assert raster.sharp_shift is None and raster.file_offset is not None
    # the file and its yard a quarter pixel east and south (its lines with it)
    for f in (paths.image, paths.mask):
        with rasterio.open(f, "r+", IGNORE_COG_LAYOUT_BREAK="YES") as ds:
            t = ds.transform
            ds.transform = Affine(t.a, t.b, t.c + 0.75, t.d, t.e, t.f - 0.75)
    off_grid, raster = count(0.75)
    assert raster.file_offset is None
    assert raster.sharp_shift == pytest.approx((-0.25, -0.25))
    assert off_grid == pytest.approx(on_grid, abs=0.01)
