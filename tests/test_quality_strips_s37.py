"""The quality estimate's regions found strip by strip (session 37, memory and file reads
of ``railwatch process`` on large site windows): the connected components of a map
found strip by strip and joined across the strips' borders are those of the whole map,
a cloud, hazy patch or snow field cut by a strip border is measured as one region, the
estimate and assessment give exactly what one strip over the whole window gives, and a
site window read from its file is read about once for its quality."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from scipy import ndimage

from imagery_helpers import yard_scene
from railwatch.imagery import assess_quality, estimate_conditions, read_site_window, site_grid
from railwatch.imagery import quality as quality_module
from railwatch.imagery import read as read_module
from railwatch.imagery.quality import PackedMask, _filled, _Regions, contrast_levels
from test_window_tiles_s36 import CASES, SITES, _small_bands


def _bits(mask: np.ndarray) -> PackedMask:
    out = PackedMask(mask.shape)
    out[0 : mask.shape[0]] = mask
    return out


def _region_maps() -> Iterator[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(37)
    for seed in range(4):
        noise = ndimage.gaussian_filter(rng.random((90, 70)), 2.0 + seed)
        yield f"blobs{seed}", noise > np.quantile(noise, 0.55)
    yield "speckle", rng.random((60, 50)) > 0.6
    # a diagonal chain: 8-connected across every row border, never 4-connected
    diag = np.zeros((40, 40), bool)
    diag[np.arange(40), np.arange(40)] = True
    yield "diagonal", diag
    anti = np.zeros((40, 41), bool)
    anti[np.arange(40), 40 - np.arange(40)] = True
    yield "anti-diagonal", anti
    # a comb: its teeth meet only in the last row, many strips down
    comb = np.zeros((50, 30), bool)
    comb[:, ::3] = True
    comb[-1] = True
    yield "comb", comb
    yield "empty", np.zeros((20, 30), bool)
    yield "full", np.ones((20, 30), bool)


def _same_regions(regions: _Regions, mask: np.ndarray, connectivity: int) -> None:
    """``regions`` labels the pixels of ``mask`` as its whole-map components do."""
    h, w = mask.shape
    count, whole = cv2.connectedComponents(mask.astype(np.uint8), connectivity=connectivity)
    found = np.zeros((h, w), np.int64)
    for a, b, _, _ in quality_module._strips(h, w, 0):
        found[a:b] = regions.labels(a, b)
    assert ((found > 0) == mask).all()
    pairs = np.unique(np.stack([found[mask], whole[mask]]), axis=1)
    # one component for one component: neither split nor merged
    assert len(np.unique(pairs[0])) == pairs.shape[1] == len(np.unique(pairs[1])) == count - 1
    areas = np.bincount(whole.ravel(), minlength=count)
    for mine, theirs in pairs.T:
        assert regions.area[mine] == areas[theirs]
    assert regions.count == count


@pytest.mark.parametrize("rows", [1, 2, 3, 7, 1000])
@pytest.mark.parametrize("connectivity", [4, 8])
def test_regions_in_strips_are_those_of_the_whole_map(
    rows: int, connectivity: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, mask in _region_maps():
        monkeypatch.setattr(quality_module, "BLOCK_PIXELS", rows * mask.shape[1])
        regions = _Regions(_bits(mask), connectivity)
        _same_regions(regions, mask, connectivity)
        # and of the map's zeros, with the regions that touch its edges
        holes = _Regions(_bits(mask), connectivity, zeros=True)
        _same_regions(holes, ~mask, connectivity)
        count, whole = cv2.connectedComponents((~mask).astype(np.uint8), connectivity=connectivity)
        edge = np.unique(np.concatenate([whole[0], whole[-1], whole[:, 0], whole[:, -1]]))
        edge = edge[edge > 0]
        touched = np.zeros(count, bool)
        touched[edge] = True
        h, w = mask.shape
        for a, b, _, _ in quality_module._strips(h, w, 0):
            lab = holes.labels(a, b)
            zero = ~mask[a:b]
            assert (holes.touches[lab[zero]] == touched[whole[a:b][zero]]).all(), name


def test_a_diagonal_chain_is_one_region_8_connected_and_many_4_connected(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    diag = np.zeros((40, 40), bool)
    diag[np.arange(40), np.arange(40)] = True
    monkeypatch.setattr(quality_module, "BLOCK_PIXELS", 40)  # a strip a row
    assert _Regions(_bits(diag), 8).area.tolist() == [0, 40]
    assert _Regions(_bits(diag), 4).count == 41


@pytest.mark.parametrize("rows", [1, 4, 9, 1000])
def test_filled_holes_in_strips_are_those_of_the_whole_map(
    rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a U open at the bottom, many strips below its inside: nothing in it is a hole; a
    # ring: its inside is; blobs with holes that strip borders cut
    u = np.zeros((60, 40), bool)
    u[5:50, 5:35] = True
    u[10:60, 12:28] = False
    ring = np.zeros((60, 40), bool)
    ring[5:50, 5:35] = True
    ring[12:40, 12:28] = False
    rng = np.random.default_rng(3)
    noise = ndimage.gaussian_filter(rng.random((80, 70)), 1.5)
    blobs = noise > np.quantile(noise, 0.4)
    for mask in (u, ring, blobs, np.zeros((10, 10), bool)):
        monkeypatch.setattr(quality_module, "BLOCK_PIXELS", rows * mask.shape[1])
        expected = ndimage.binary_fill_holes(mask)
        assert np.array_equal(_filled(_bits(mask)).whole(), expected)
    assert not _filled(_bits(u)).whole()[10:50, 12:28].any()  # the U's inside is open
    assert _filled(_bits(ring)).whole()[12:40, 12:28].all()


def _hwc(img: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.moveaxis(img, 0, -1))


def _disc(h: int, w: int, cy: float, cx: float, rad: float) -> np.ndarray:
    rr, cc = np.mgrid[0:h, 0:w]
    return np.clip((rad - np.hypot(rr - cy, cc - cx)) / 3.0, 0.0, 1.0)


def _cut_cloud() -> np.ndarray:
    """At 1 m a cloud of about 3,100 m2 (at least 2,500 m2 make one) centred on row 60:
    strips of 20 rows cut it into parts smaller than that."""
    img = yard_scene(140, 160, seed=11).astype(np.float32)
    a = _disc(140, 160, 60, 80, 32)
    img = img * (1 - a) + 238.0 * a
    return _hwc(np.clip(img, 0, 255).astype(np.uint8))


def _cut_haze() -> np.ndarray:
    """At 1 m a hazy patch (at least 5,000 m2 make one) across rows 20-140: strips of 20
    rows cut it into parts smaller than that."""
    img = yard_scene(160, 180, seed=12).astype(np.float32)
    img[:, 20:140, 20:160] = img[:, 20:140, 20:160] * 0.45 + 205 * 0.55
    return _hwc(np.clip(img, 0, 255).astype(np.uint8))


def _cut_snow() -> np.ndarray:
    """At 1 m a snow field with dark cars in it, across the strips' borders."""
    img = yard_scene(150, 170, seed=13).astype(np.float32)
    field = _disc(150, 170, 75, 85, 45) > 0.5
    dark = img.min(axis=0) < 80
    for b in range(3):
        img[b][field & ~dark] = 232.0
    return _hwc(np.clip(img, 0, 255).astype(np.uint8))


@pytest.mark.parametrize(
    ("scene", "kind"), [(_cut_cloud, "cloud"), (_cut_haze, "haze"), (_cut_snow, "snow")]
)
def test_a_region_cut_by_strip_borders_is_measured_as_one(
    scene: Callable[[], np.ndarray], kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = scene()
    h, w = image.shape[:2]
    valid = np.ones((h, w), bool)
    whole = estimate_conditions(image, valid, 1.0)
    found = getattr(whole, kind)
    assert found.sum() > 0.1 * h * w, kind  # the region is found over the whole window
    rows = np.flatnonzero(found.any(axis=1))
    assert rows[-1] - rows[0] > 40  # and spans more than two strips of 20 rows
    for strip_rows in (20, 13, 1):
        monkeypatch.setattr(quality_module, "BLOCK_PIXELS", strip_rows * w)
        part = estimate_conditions(image, valid, 1.0)
        for key in ("cloud", "haze", "snow"):
            assert np.array_equal(getattr(part, key), getattr(whole, key)), (kind, key)


def _patchy(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Clouds, haze and snow crossing the strips, some pixels without data (NaN floats
    read as invalid) in spots and a band, as the read gives them (black)."""
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(120, 220)), int(rng.integers(120, 220))
    img = yard_scene(h, w, seed=seed).astype(np.float32)
    for _ in range(3):
        a = _disc(h, w, rng.uniform(0, h), rng.uniform(0, w), rng.uniform(10, 50))
        img = img * (1 - a) + (236.0 + rng.normal(0, 2, (h, w))) * a
    r0 = int(rng.integers(0, h // 2))
    img[:, r0 : r0 + h // 4] = img[:, r0 : r0 + h // 4] * 0.45 + 205 * 0.55
    image = _hwc(np.clip(img, 0, 255).astype(np.uint8))
    valid = rng.random((h, w)) > 0.03
    valid[:, : int(rng.integers(0, w // 3))] = False
    image[~valid] = 0
    return image, valid


@pytest.mark.parametrize("seed", range(6))
def test_estimate_and_contrast_in_strips_equal_one_strip(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    image, valid = _patchy(seed)
    w = valid.shape[1]
    for gsd in (0.3, 0.5, 1.0):
        monkeypatch.setattr(quality_module, "BLOCK_PIXELS", 10**9)
        whole = estimate_conditions(image, valid, gsd)
        levels = contrast_levels(image, valid)
        for rows in (5, 17, 40):
            monkeypatch.setattr(quality_module, "BLOCK_PIXELS", rows * w)
            part = estimate_conditions(image, valid, gsd)
            for key in ("cloud", "haze", "snow"):
                assert np.array_equal(getattr(part, key), getattr(whole, key)), (gsd, rows, key)
            assert contrast_levels(image, valid) == levels


@pytest.mark.parametrize(
    ("case", "site"),
    [
        ("u8-nodata", "partly-outside"),
        ("u8-undeclared-fill", "off-tiles"),
        ("u8-mask", "between-pixels"),
        ("float-nan", "partly-outside"),
        ("u16-linear-scaled", "between-pixels"),
    ],
)
def test_a_window_is_read_about_once_for_its_quality(
    case: str, site: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = CASES[case](tmp_path)
    uri = options.pop("uri")
    geom = SITES[site]
    grid = site_grid(geom, 0.5)
    expected = assess_quality(read_site_window(uri, grid, site_geom=geom, **options))
    h = grid.shape[0]
    band = 9
    read_rows: list[int] = []
    plain = read_module.SiteWindow._read

    def counted(self: read_module.SiteWindow, a: int, b: int) -> np.ndarray:
        read_rows.append(b - a)
        return plain(self, a, b)

    with (
        _small_bands(monkeypatch, band, 200),
        read_site_window(uri, grid, site_geom=geom, lazy=True, **options) as window,
    ):
        monkeypatch.setattr(read_module.SiteWindow, "_read", counted)
        assert assess_quality(window) == expected, (case, site)
    # before session 37, each of the estimate's passes (bright pixels, regions, cloud
    # rims, haze) and the contrast's read the rows again: 3 to 5 times the window
    assert sum(read_rows) <= h + 2 * band, (case, site, sum(read_rows), h)
