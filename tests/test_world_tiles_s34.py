"""Detection tiles anchored to the image file's pixels (session 34): a window cut out of
an image (the pipeline's site window over the file's own pixel grid) is tiled as the
image is, so the detections away from the window's edges are the image's, box for box.

Until then tiles started at the window's corner: the same car was seen at another phase
of the detector's working grid, and a car near the score or type threshold fell either
way (session 33: 31 against 30 cars on a 1200 px scene)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from pyproj import Transformer
from shapely import transform as shp_transform
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from railwatch.detect.api import _pad_tile, detect_array, detect_file
from railwatch.detect.base import Detection
from railwatch.detect.model_core import tile_alignment, to_work_scale
from railwatch.detect.tiling import anchored_windows, plan_tiles
from railwatch.errors import InputError
from railwatch.imagery.read import file_offset, read_site_window, site_grid
from railwatch.sim import SceneParams, render_scene, write_scene

#: Beyond this distance from a window's edge (metres) a detection cannot see past it:
#: the network's receptive field (about 74 m either side at stride 8 with its dilated
#: blocks) plus the normalisation's window (about 21 m).
INTERIOR_M = 100.0


def _key(d: Detection, dx: float = 0.0, dy: float = 0.0) -> tuple[object, ...]:
    b = d.box
    return (
        round(b.cx + dx, 4),
        round(b.cy + dy, 4),
        round(b.length, 4),
        round(b.width, 4),
        round(b.angle, 3),
        d.cls,
        round(d.score, 5),
    )


def test_window_at_odd_offset_gets_the_whole_images_detections_inside() -> None:
    gsd = 0.5
    scene = render_scene(SceneParams(seed=3, size_px=(1000, 1000), n_cars=90, gsd=gsd))
    img = scene.image
    whole = detect_array(img, gsd, valid=scene.valid)
    c0, r0, c1, r1 = 173, 91, 963, 939  # odd offsets: a phase the old tiles got wrong
    win = detect_array(
        np.ascontiguousarray(img[r0:r1, c0:c1]),
        gsd,
        valid=scene.valid[r0:r1, c0:c1],
        origin=(c0, r0),
    )
    m = INTERIOR_M / gsd

    def inside(x: float, y: float) -> bool:
        return c0 + m <= x <= c1 - m and r0 + m <= y <= r1 - m

    a = sorted(_key(d) for d in whole if inside(d.box.cx, d.box.cy))
    b = sorted(_key(d, c0, r0) for d in win if inside(d.box.cx + c0, d.box.cy + r0))
    assert len(a) >= 10
    assert a == b


def test_origins_add_up() -> None:
    """An array that is itself a window of a file (its origin not (0, 0)) and a window
    of that array, given its origin plus its offset, are tiled alike."""
    gsd = 0.5
    scene = render_scene(SceneParams(seed=8, size_px=(900, 900), n_cars=70, gsd=gsd))
    img, origin = scene.image, (1_234_567, -9_876_543)
    whole = detect_array(img, gsd, origin=origin)
    c0, r0 = 141, 77
    win = detect_array(
        np.ascontiguousarray(img[r0:, c0:]), gsd, origin=(origin[0] + c0, origin[1] + r0)
    )
    m = INTERIOR_M / gsd

    def inside(x: float, y: float) -> bool:
        return x >= c0 + m and y >= r0 + m

    a = sorted(_key(d) for d in whole if inside(d.box.cx, d.box.cy))
    b = sorted(_key(d, c0, r0) for d in win if inside(d.box.cx + c0, d.box.cy + r0))
    assert len(a) >= 10
    assert a == b


def test_detect_and_process_agree_inside_the_site(tmp_path: Path) -> None:
    """`railwatch detect` on the whole file and `railwatch process` on a site inside it
    (the site window read on the file's own pixel grid) give the same cars away from the
    site's edge: count, boxes, scores and types."""
    from railwatch.ingest import ingest_paths
    from railwatch.pipeline import process_site
    from railwatch.sites import SiteSpec
    from railwatch.storage import Database, repo

    scene = render_scene(
        SceneParams(
            seed=11,
            size_px=(1000, 1000),
            n_cars=80,
            gsd=0.5,
            cloud_cover=0.0,
            date=datetime(2023, 10, 5, 2, tzinfo=UTC),
        )
    )
    image = write_scene(scene, tmp_path / "imgs", "s", preview=False).image
    found = detect_file(image)
    assert found.crs is not None
    t = scene.transform
    # the site's corners at pixels (173, 211) and (931, 953): odd offsets
    x0, y0 = t.c + 173 * t.a, t.f + 211 * t.e
    x1, y1 = t.c + 931 * t.a, t.f + 953 * t.e
    site = box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
    to84 = Transformer.from_crs(found.crs, "EPSG:4326", always_xy=True)
    site84 = shp_transform(site, lambda xy: np.column_stack(to84.transform(xy[:, 0], xy[:, 1])))
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    with db.session() as s:
        repo.add_site(s, SiteSpec(name="yard", geometry=site84))
    assert len(ingest_paths(db, "yard", [tmp_path / "imgs"]).ingested) == 1
    assert not process_site(db, "yard").failed
    with db.session() as s:
        (stored,) = repo.list_scenes(s, "yard")
        found_rows = repo.list_detections(s, stored.id)
        rows = [(r.cls, r.score, r.native_geometry, r.native_crs) for r in found_rows]
    assert {crs for *_, crs in rows} <= {found.crs}
    inner = site.buffer(-INTERIOR_M)

    def key(cls: str, score: float, poly: BaseGeometry) -> tuple[object, ...]:
        c = poly.centroid
        return (round(c.x, 2), round(c.y, 2), round(poly.area, 2), cls, round(score, 5))

    a = sorted(
        key(d.cls, d.score, Polygon(d.box.corners()))
        for d in found.detections
        if inner.contains(Polygon(d.box.corners()).centroid)
    )
    b = sorted(key(c, sc, p) for c, sc, p, _ in rows if inner.contains(p.centroid))
    assert len(a) >= 10
    assert a == b


def test_window_tiles_are_the_image_tiles_where_whole() -> None:
    tile, overlap, align = 256, 60, 40
    whole = anchored_windows(1500, 1100, tile, overlap, origin=(7, 3), align=align)
    c0, r0 = 333, 201
    part = anchored_windows(900, 700, tile, overlap, origin=(7 + c0, 3 + r0), align=align)
    moved = {(w.col_off + c0, w.row_off + r0, w.width, w.height) for w in part}
    held = [
        w
        for w in whole
        if w.col_off >= c0 and w.row_off >= r0 and w.col_end <= c0 + 900 and w.row_end <= r0 + 700
    ]
    assert held and all((w.col_off, w.row_off, w.width, w.height) in moved for w in held)
    # starts on multiples of the stride (a multiple of align) in the file, overlapping
    cols = sorted({w.col_off for w in whole})
    assert all((c + 7) % align == 0 for c in cols[1:])
    for w in whole:
        assert w.col_off >= 0 and w.col_end <= 1500 and w.row_end <= 1100
    assert all(b - a <= tile - overlap for a, b in itertools.pairwise(cols))
    # the image is covered and a last, clipped tile is wider than the overlap
    covered = np.zeros((1100, 1500), bool)
    for w in whole:
        covered[w.slices()] = True
        assert min(w.width, w.height) > overlap
    assert covered.all()


def test_plan_tiles_from_the_files_corner() -> None:
    plan = plan_tiles(8192, 8192, 0.5, tile_px=1720, align=40)
    starts = sorted({w.col_off for w in plan.windows})
    assert starts == [0, 1640, 3280, 4920, 6560]  # five a side, as the balanced windows
    pixels = sum(w.width * w.height for w in plan.windows)
    assert pixels / 8192**2 < 1.1
    with pytest.raises(InputError, match="larger tile"):
        anchored_windows(500, 500, 100, 60, align=50)


def test_site_window_knows_its_offset_in_the_file(tmp_path: Path) -> None:
    """The pipeline's read says where its grid lies in the file's pixels when the grid
    is a cut of them, and None when it is resampled (another pixel size)."""
    import rasterio

    scene = render_scene(SceneParams(seed=2, size_px=(300, 300), n_cars=5, gsd=0.5))
    image = write_scene(scene, tmp_path, "s", preview=False).image
    t = scene.transform
    to84 = Transformer.from_crs(scene.crs, "EPSG:4326", always_xy=True)
    x0, y0 = t.c + 41 * t.a, t.f + 67 * t.e
    x1, y1 = t.c + 250 * t.a, t.f + 260 * t.e
    xs, ys = to84.transform([x0 + 0.1, x1 - 0.1], [y0 - 0.1, y1 + 0.1])
    site = box(min(xs), min(ys), max(xs), max(ys))
    grid = site_grid(site, 0.5, crs=scene.crs)
    g = grid.transform
    col, row = (g.c - t.c) / t.a, (g.f - t.f) / t.e  # whole pixels: both on 0.5 m
    assert abs(col - 41) < 8 and abs(row - 67) < 8  # the box, widened by the projection
    raster = read_site_window(image, grid, site_geom=site)
    assert raster.file_offset == (round(col), round(row))
    assert np.array_equal(
        raster.image, scene.image[round(row) :, round(col) :][: grid.height, : grid.width]
    )
    with rasterio.open(image) as src:
        assert file_offset(src, site_grid(site, 0.6, crs=scene.crs)) is None
        assert file_offset(src, site_grid(site, 0.5)) == raster.file_offset  # its UTM zone


def test_tile_alignment_puts_tiles_on_one_working_grid() -> None:
    assert tile_alignment(0.5) == (40, 1)
    align, multiple = tile_alignment(0.3)
    assert (align, multiple) == (200, 5)
    rng = np.random.default_rng(1)
    img = rng.integers(0, 255, (600, 1400, 3), dtype=np.uint8)
    a, sa = to_work_scale(img[:, :1000], 0.3)
    b, sb = to_work_scale(img[:, align : align + 1000], 0.3)
    assert sa == sb == 0.6
    k = align * 3 // 5  # working pixels per alignment step
    assert np.array_equal(a[:, k + 10 : 500], b[:, 10 : 500 - k])


def test_detect_array_refuses_a_bad_origin() -> None:
    img = np.zeros((100, 100, 3), np.uint8)
    with pytest.raises(InputError, match="origin"):
        detect_array(img, 0.5, origin=("a", 0))  # type: ignore[arg-type]


def test_padded_tile_keeps_planar_layout_and_marks_no_data() -> None:
    planes = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
    img, valid = _pad_tile(planes.transpose(1, 2, 0), None, 2, 1, 3, 0)
    assert img.shape == (5, 10, 3) and img.transpose(2, 0, 1).flags.c_contiguous
    assert np.array_equal(img[1:, 2:7], planes.transpose(1, 2, 0))
    assert valid.sum() == 20 and not valid[0].any() and not valid[:, :2].any()
