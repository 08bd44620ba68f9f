"""assess_quality: provider masks, estimated cloud/haze/snow, coverage, resolution."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from imagery_helpers import add_cloud, image_box_wgs84, write_geotiff, yard_scene
from railwatch.imagery import (
    MASK_NODATA,
    Quality,
    SiteGrid,
    SiteRaster,
    assess_quality,
    estimate_conditions,
    read_site_window,
    site_grid,
)
from railwatch.imagery.quality import Conditions


def raster_of(
    image_chw: np.ndarray,
    *,
    gsd: float = 0.5,
    valid: np.ndarray | None = None,
    inside: np.ndarray | None = None,
    mask: np.ndarray | None = None,
) -> SiteRaster:
    _, h, w = image_chw.shape
    grid = SiteGrid(crs="EPSG:32652", transform=None, width=w, height=h, gsd=gsd)  # type: ignore[arg-type]
    return SiteRaster(
        image=np.ascontiguousarray(np.moveaxis(image_chw, 0, -1)),
        valid=np.ones((h, w), bool) if valid is None else valid,
        inside=np.ones((h, w), bool) if inside is None else inside,
        mask=mask,
        grid=grid,
    )


def conditions(image_chw: np.ndarray, gsd: float = 0.5) -> Conditions:
    hwc = np.ascontiguousarray(np.moveaxis(image_chw, 0, -1))
    return estimate_conditions(hwc, np.ones(hwc.shape[:2], bool), gsd)


def test_clear_scene_is_usable() -> None:
    q = assess_quality(raster_of(yard_scene(300, 400)))
    assert isinstance(q, Quality)
    assert q.source == "estimated"
    assert q.usable and q.clear_fraction > 0.97 and q.coverage == 1.0
    assert q.cloud_fraction < 0.02 and q.haze_fraction < 0.02 and q.snow_fraction < 0.02
    assert q.reasons == ()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_half_cloud_is_unusable(seed: int) -> None:
    q = assess_quality(raster_of(add_cloud(yard_scene(300, 400, seed=seed), 0.5)))
    assert q.cloud_fraction == pytest.approx(0.5, abs=0.04)
    assert not q.usable
    assert q.clear_fraction == pytest.approx(1 - q.cloud_fraction, abs=1e-9)
    assert f"cloud covers {round(100 * q.cloud_fraction)} % of the site" in q.reasons


def test_puffy_cloud_is_cloud() -> None:
    q = assess_quality(raster_of(add_cloud(yard_scene(300, 400), 0.5, puffy=12.0)))
    assert q.cloud_fraction == pytest.approx(0.5, abs=0.06)
    assert q.snow_fraction < 0.05 and not q.usable


def test_bright_sand_is_not_haze() -> None:
    rng = np.random.default_rng(2)
    sand = np.empty((3, 300, 400), np.float32)
    sand[0], sand[1], sand[2] = 205.0, 180.0, 135.0
    sand += rng.normal(0, 6, size=(1, 300, 400)).astype(np.float32)
    sand[:, 140:148, :] = 60.0  # one track across the desert
    q = assess_quality(raster_of(np.clip(sand, 0, 255).astype(np.uint8)))
    assert q.haze_fraction < 0.02 and q.cloud_fraction < 0.02 and q.usable


def test_overcast_scene_is_all_cloud() -> None:
    q = assess_quality(raster_of(add_cloud(yard_scene(200, 200), 1.0)))
    assert q.cloud_fraction > 0.98 and not q.usable


def test_small_white_objects_are_not_cloud() -> None:
    img = yard_scene(300, 400)
    img[:, 100:106, 50:78] = 245  # a white railcar roof, 14 m x 3 m at 0.5 m
    img[:, 200:230, 300:330] = 235  # a white 15 m x 15 m roof
    q = assess_quality(raster_of(img))
    assert q.cloud_fraction < 0.01 and q.usable


def test_haze_is_estimated() -> None:
    img = yard_scene(300, 400).astype(np.float32)
    hazy = (img * 0.45 + 205 * 0.55).astype(np.uint8)
    q = assess_quality(raster_of(hazy))
    assert q.haze_fraction > 0.5 and q.cloud_fraction < 0.05 and q.snow_fraction < 0.05
    assert not q.usable
    assert any(r.startswith("haze covers") for r in q.reasons)


def test_snow_is_estimated_not_cloud() -> None:
    img = yard_scene(300, 400).astype(np.float32)
    ground = (np.abs(img[0] - 95) < 30) & (np.abs(img[1] - 110) < 30) & (np.abs(img[2] - 70) < 30)
    noise = np.random.default_rng(5).normal(0, 4, size=img.shape[1:])
    for b in range(3):
        img[b][ground] = 232 + noise[ground]
    q = assess_quality(raster_of(np.clip(img, 0, 255).astype(np.uint8)))
    assert q.snow_fraction > 0.6 and q.cloud_fraction < 0.05
    assert not q.usable and any(r.startswith("snow covers") for r in q.reasons)


def test_mask_codes_decide(tmp_path: Path) -> None:
    h, w = 100, 100
    mask = np.zeros((h, w), np.uint8)
    mask[:20] = 1  # cloud
    mask[20:30] = 2  # haze
    mask[30:35] = 3  # snow
    mask[35:40] = 4  # cloud shadow
    mask[40:45] = MASK_NODATA
    # the pixels themselves look perfectly clear: the mask wins
    q = assess_quality(raster_of(yard_scene(h, w), mask=mask))
    assert q.source == "mask"
    assert q.cloud_fraction == pytest.approx(0.25)  # cloud and cloud shadow
    assert q.haze_fraction == pytest.approx(0.10)
    assert q.snow_fraction == pytest.approx(0.05)
    assert q.nodata_fraction == pytest.approx(0.05)
    assert q.clear_fraction == pytest.approx(0.55)
    assert not q.usable
    assert "cloud and cloud shadow cover 25 % of the site" in q.reasons
    assert "only 55 % of the site is clear (needs 80 %)" in q.reasons


def test_mask_file_end_to_end(tmp_path: Path) -> None:
    """A sidecar mask read with the scene: source "mask", even over a cloudy-looking image."""
    img = add_cloud(yard_scene(120, 160), 0.5)
    path = write_geotiff(tmp_path / "s.tif", img)
    codes = np.zeros((120, 160), np.uint8)
    codes[:, :16] = 1  # the provider only flags 10 %
    mask = write_geotiff(tmp_path / "s.mask.tif", codes)
    site = image_box_wgs84(2, 2, 158, 118)
    raster = read_site_window(path, site_grid(site, 0.5), mask_uri=mask, site_geom=site)
    q = assess_quality(raster)
    assert q.source == "mask"
    assert q.cloud_fraction == pytest.approx(14 / 156, abs=0.02)
    assert q.usable


def test_fractions_only_count_pixels_inside_the_site() -> None:
    img = add_cloud(yard_scene(200, 200), 0.5)
    inside = np.zeros((200, 200), bool)
    inside[:, 110:] = True  # the site is the clear right part
    q = assess_quality(raster_of(img, inside=inside))
    assert q.cloud_fraction < 0.02 and q.usable


def test_partial_coverage_reason_and_threshold() -> None:
    valid = np.ones((100, 100), bool)
    valid[:, 52:] = False
    q = assess_quality(raster_of(yard_scene(100, 100), valid=valid))
    assert q.coverage == pytest.approx(0.52)
    assert q.nodata_fraction == pytest.approx(0.48)
    assert "only 52 % of the site is covered by the image" in q.reasons and not q.usable
    assert assess_quality(raster_of(yard_scene(100, 100), valid=valid), threshold=0.5).usable
    valid[:, 95:] = False
    valid[:, :95] = True
    q = assess_quality(raster_of(yard_scene(100, 100), valid=valid))
    assert q.usable and "the image covers 95 % of the site" in q.reasons


@pytest.mark.parametrize(
    ("gsd", "usable", "reason"),
    [
        (0.5, True, None),
        (
            3.0,
            True,
            "resolution 3.0 m: cars are not separable, counts come from occupied track length",
        ),
        (10.0, True, "resolution 10.0 m: only the presence of long trains can be reported"),
        (12.0, False, "resolution 12.0 m is too coarse to count railcars"),
    ],
)
def test_resolution_suitability(gsd: float, usable: bool, reason: str | None) -> None:
    q = assess_quality(raster_of(yard_scene(120, 120), gsd=gsd))
    assert q.gsd == gsd and q.usable is usable
    if reason is None:
        assert q.reasons == ()
    else:
        assert reason in q.reasons


def test_empty_site_is_unusable() -> None:
    q = assess_quality(raster_of(yard_scene(50, 50), inside=np.zeros((50, 50), bool)))
    assert not q.usable and q.nodata_fraction == 1.0 and q.coverage == 0.0


def test_no_valid_pixels_is_not_zero_but_unusable() -> None:
    q = assess_quality(raster_of(yard_scene(50, 50), valid=np.zeros((50, 50), bool)))
    assert not q.usable and q.clear_fraction == 0.0 and q.coverage == 0.0
    assert "only 0 % of the site is covered by the image" in q.reasons


def test_a_sliver_of_coverage_is_not_written_as_0_percent() -> None:
    """A 30 m image over a 0.26 km² site was stored unusable with 'only 0 % of the site
    is covered by the image'."""
    inside = np.ones((100, 100), bool)
    valid = np.zeros((100, 100), bool)
    valid[:3, :10] = True  # 0.3 % of the site
    q = assess_quality(raster_of(yard_scene(100, 100), valid=valid, inside=inside))
    assert not q.usable
    assert "only under 1 % of the site is covered by the image" in q.reasons


def test_conditions_exclusive_and_shaped() -> None:
    c = conditions(add_cloud(yard_scene(120, 160), 0.5))
    assert c.cloud.shape == (120, 160) and c.cloud.dtype == bool
    assert not (c.cloud & c.snow).any() and not (c.cloud & c.haze).any()


@pytest.mark.parametrize(
    ("scale", "offset"),
    [(0.03, 0.0), (0.0, 3.0), (0.0, 0.0), (0.0, 200.0)],
    ids=["night", "constant-3", "black", "constant-200"],
)
def test_an_image_that_shows_nothing_is_unusable_not_empty(scale: float, offset: float) -> None:
    """A failed exposure (a yard at 3 % of its brightness: 0-7) or a blank image would read
    as an empty yard: it is unusable, and says why."""
    img = (yard_scene(200, 300).astype(np.float32) * scale + offset).astype(np.uint8)
    q = assess_quality(raster_of(img))
    assert not q.usable
    assert "shows almost nothing over the site" in q.reasons[0]
    # a bright one is not called dark (review r3, session 39: tests/test_quality_reasons_s39)
    said = "uniformly bright" if offset >= 175 else "too dark, or blank"
    assert said in q.reasons[0]


def test_a_dim_but_readable_image_stays_usable() -> None:
    img = (yard_scene(200, 300).astype(np.float32) * 0.35).astype(np.uint8)  # 0-90 or so
    q = assess_quality(raster_of(img))
    assert q.usable, q.reasons


def test_undeclared_black_fill_is_no_data(tmp_path: Path) -> None:
    """A file with no nodata value and no alpha, blacked out (0 in every band) over part
    of the site: that part is no data, not clear empty ground."""
    img = yard_scene(200, 200)
    img[:, 40:140, 40:140] = 0  # 50 m x 50 m of fill
    img[:, 10:14, 170:174] = 0  # 2 m x 2 m of black: a dark object, not fill
    path = write_geotiff(tmp_path / "filled.tif", img)
    site = image_box_wgs84(0, 0, 200, 200)
    raster = read_site_window(path, site_grid(site, 0.5), site_geom=site)
    q = assess_quality(raster)
    assert q.coverage == pytest.approx(1 - 0.25, abs=0.02)
    assert not q.usable and "covered by the image" in " ".join(q.reasons)
    assert raster.valid[12, 172]  # the small black patch is data
    # with the fill declared as nodata the result is the same; with another nodata
    # value declared, black is data as the file says
    declared = write_geotiff(tmp_path / "declared.tif", img, nodata=0)
    q0 = assess_quality(read_site_window(declared, site_grid(site, 0.5), site_geom=site))
    assert q0.coverage == pytest.approx(q.coverage, abs=0.02)
    other = write_geotiff(tmp_path / "other.tif", img, nodata=255)
    q255 = assess_quality(read_site_window(other, site_grid(site, 0.5), site_geom=site))
    assert q255.coverage > 0.99


def test_too_coarse_is_the_first_reason() -> None:
    """A 12 m image is unusable for its resolution first, whatever else it shows."""
    q = assess_quality(raster_of(add_cloud(yard_scene(100, 100), 0.5), gsd=12.0))
    assert not q.usable
    assert q.reasons[0] == "resolution 12.0 m is too coarse to count railcars"
