"""The 10 m long-train flag from the longest string along one line (session 23).

Until then the flag compared the occupied length summed over all lines with 300 m: at
10 m each string was read on several lines a fraction of a pixel apart and empty
track passed the evidence, so it flagged 45 of 48 simulated scenes without a long
train (``benchmarks/bench_presence.py``). Now colour offsets are averaged over a
train's length along each line and the flag is the extent of the strongest one."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import LineString, MultiLineString, box

from railwatch.detect.coarse import (
    LONG_TRAIN_M,
    PRESENCE_VERSION,
    estimate_occupancy,
)
from railwatch.imagery import inspect_scene
from railwatch.ingest import ingest_paths
from railwatch.pipeline import process_site, processing_version
from railwatch.sim import SceneParams, render_scene, write_scene
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from test_detect_fakes import BrightBlobDetector

GSD = 10.0
SIZE = 240
ROW = 120.3  #: the string's track, between pixel centres as real tracks are
SPACING = 0.475  #: yard tracks 4.75 m apart, in 10 m pixels


def _yard(string_m: float, *, seed: int = 0, contrast: float = 0.18) -> np.ndarray:
    """A 10 m image of a five-track yard on grass, with one string of dark cars of
    ``string_m`` metres on the middle track: a car covers a third of a pixel across, so
    it darkens the pixel it lies in by about a third of its contrast."""
    rng = np.random.default_rng(seed)
    img = np.empty((SIZE, SIZE, 3), np.float64)
    img[:] = (118.0, 124.0, 92.0)  # grass
    img += rng.normal(0.0, 4.0, img.shape)
    rows = ROW + SPACING * np.arange(-2, 3)
    bed = np.zeros((SIZE, SIZE))
    yy = np.arange(SIZE)[:, None] + 0.5
    for r in rows:  # ballast, each track about half a pixel wide
        bed = np.maximum(bed, np.clip(1.0 - np.abs(yy - r) / 0.6, 0.0, 1.0))
    ballast = np.array([150.0, 146.0, 138.0])
    img = img * (1 - bed[..., None]) + (ballast + rng.normal(0.0, 3.0, img.shape)) * bed[..., None]
    if string_m > 0:
        first = 40
        last = first + round(string_m / GSD)
        cover = np.clip(1.0 - np.abs(yy - ROW) / 0.8, 0.0, 1.0)[:, 0]
        shade = 1.0 - contrast * cover
        img[:, first:last] *= shade[:, None, None]
    return np.clip(img, 0, 255).astype(np.uint8)


def _lines() -> MultiLineString:
    return MultiLineString(
        [LineString([(5.0, r), (SIZE - 5.0, r)]) for r in ROW + SPACING * np.arange(-2, 3)]
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_long_string_is_flagged_with_about_its_length(seed: int) -> None:
    est = estimate_occupancy(_yard(600.0, seed=seed), GSD, None, _lines())
    assert est.method == "presence"
    assert est.present
    assert est.longest_string_m is not None
    assert 450.0 <= est.longest_string_m <= 750.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_short_string_or_an_empty_yard_is_not_a_long_train(seed: int) -> None:
    for length in (0.0, 120.0):
        est = estimate_occupancy(_yard(length, seed=seed), GSD, None, _lines())
        assert not est.present, (length, est.longest_string_m)
        assert est.longest_string_m is not None and est.longest_string_m < LONG_TRAIN_M


def test_the_flag_no_longer_sums_a_string_read_on_several_lines() -> None:
    # a 200 m string seen on all five lines a fraction of a pixel apart summed to more
    # than 300 m of occupied track
    est = estimate_occupancy(_yard(200.0, contrast=0.3), GSD, None, _lines())
    assert not est.present
    assert est.longest_string_m is not None and est.longest_string_m < LONG_TRAIN_M


def _simulated(seed: int, n_cars: int) -> tuple[bool, float | None]:
    sc = render_scene(
        SceneParams(
            seed=seed, size_px=(300, 300), n_cars=n_cars, gsd=GSD, cloud_cover=0.0, haze=0.0
        )
    )
    inv = ~sc.transform
    lines = MultiLineString(
        [LineString([inv @ c for c in t.coords]) for t in sc.tracks if len(t.coords) >= 2]
    )
    est = estimate_occupancy(sc.image, GSD, sc.valid, lines)
    return est.present, est.longest_string_m


@pytest.mark.parametrize("seed", [2, 5, 7])
def test_simulated_yards_five_cars_no_and_160_cars_yes(seed: int) -> None:
    # the summed occupied length flagged all three five-car yards (its longest string
    # 40-60 m); their strings of 160 cars are 475-720 m long
    present, longest = _simulated(seed, 5)
    assert not present and longest is not None and longest < LONG_TRAIN_M
    present, longest = _simulated(seed, 160)
    assert present and longest is not None and longest >= LONG_TRAIN_M


def test_track_broken_into_short_pieces_reads_nothing_not_no_train() -> None:
    # a 600 m string under broken cloud: no 300 m of track in one piece can be read
    valid = np.ones((SIZE, SIZE), bool)
    for col in range(20, SIZE, 25):  # every 250 m, 30 m without data
        valid[:, col : col + 3] = False
    est = estimate_occupancy(_yard(600.0), GSD, valid, _lines())
    assert est.long_windows == 0 and not est.present
    # centrelines shorter than a train: the same
    short = MultiLineString([LineString([(40.0, ROW), (60.0, ROW)])])
    assert estimate_occupancy(_yard(600.0), GSD, None, short).long_windows == 0
    # the clear image reads windows
    assert (estimate_occupancy(_yard(600.0), GSD, None, _lines()).long_windows or 0) > 0


def test_a_scene_that_read_no_train_length_is_not_counted() -> None:
    from affine import Affine

    from railwatch.counting import count_scene
    from railwatch.detect.coarse import CoarseEstimate
    from railwatch.errors import DetectionError
    from railwatch.imagery import SiteGrid, SiteRaster

    grid = SiteGrid("EPSG:32652", Affine(10.0, 0, 500_000, 0, -10.0, 4_700_000), 8, 8, 10.0)
    ones = np.ones((8, 8), bool)
    raster = SiteRaster(np.zeros((8, 8, 3), np.uint8), ones, ones, np.ones((8, 8), np.uint8), grid)

    class Q:
        coverage = 1.0
        clear_fraction = 1.0
        haze_fraction = 0.0

    tracks = LineString([(126.0, 42.4), (126.01, 42.4)])
    est = CoarseEstimate(0.0, 0.0, 0.0, 0.0, "presence", False, track_m=800.0, long_windows=0)
    with pytest.raises(DetectionError, match="no 300 m stretch of the site's track"):
        count_scene([], raster, Q(), coarse=est, tracks_wgs84=tracks)
    read = CoarseEstimate(0.0, 0.0, 0.0, 0.0, "presence", False, track_m=800.0, long_windows=40)
    assert count_scene([], raster, Q(), coarse=read, tracks_wgs84=tracks).total == 0.0


def _with_bridge(img: np.ndarray) -> np.ndarray:
    """``img`` with a 500 m bridge deck over a river across the middle track: darker
    and bluer pixels along it, in every image of the site."""
    out = img.astype(np.float64)
    rows = slice(int(ROW) - 1, int(ROW) + 2)
    out[rows, 100:150] = out[rows, 100:150] * (0.7, 0.8, 1.05)
    return np.clip(out, 0, 255).astype(np.uint8)


def test_a_structure_in_every_image_is_no_train_against_the_site() -> None:
    from railwatch.detect.coarse import relative_colours, site_background

    others = [_with_bridge(_yard(0.0, seed=s)) for s in (11, 12, 13)]
    background = site_background([relative_colours(o, None) for o in others])
    assert background is not None and background.shape == (SIZE, SIZE, 3)
    empty = _with_bridge(_yard(0.0, seed=14))
    alone = estimate_occupancy(empty, GSD, None, _lines())
    assert alone.present  # the bridge reads as a 500 m string in the image alone
    site = estimate_occupancy(empty, GSD, None, _lines(), background=background)
    assert not site.present and site.site_string_m is not None
    assert site.site_string_m < LONG_TRAIN_M
    # a train on the bridge's track, elsewhere, stands out against the site's images
    train = _with_bridge(_yard(600.0, seed=15))
    got = estimate_occupancy(train, GSD, None, _lines(), background=background)
    assert got.present and (got.site_string_m or 0) >= LONG_TRAIN_M


def test_site_background_needs_three_images_of_one_grid() -> None:
    from railwatch.detect.coarse import relative_colours, site_background

    rel = [relative_colours(_yard(0.0, seed=s), None) for s in range(3)]
    assert site_background(rel[:2]) is None
    assert site_background([*rel[:2], None]) is None
    assert site_background([*rel[:2], rel[2][:100]]) is None
    valid = np.ones((SIZE, SIZE), bool)
    valid[:, :50] = False  # never read on the left: NaN there
    bg = site_background([relative_colours(_yard(0.0, seed=s), valid) for s in range(3)])
    assert bg is not None and np.isnan(bg[:, :50]).all() and np.isfinite(bg[:, 50:]).all()


def test_finer_estimates_carry_no_longest_string() -> None:
    est = estimate_occupancy(_yard(600.0), 3.0, None, _lines())
    assert est.method == "length" and est.longest_string_m is None


def test_processing_version_counts_ten_metre_scenes_again_only() -> None:
    det = BrightBlobDetector()
    assert f"presence{PRESENCE_VERSION}" in processing_version(det, 10.0)
    assert "presence" not in processing_version(det, 3.0)
    assert "presence" not in processing_version(det, 0.5)


def test_a_ten_metre_scene_of_a_site_without_centrelines_is_not_counted(
    tmp_path: Path,
) -> None:
    when = datetime(2023, 10, 6, 2, tzinfo=UTC)
    scene = render_scene(SceneParams(seed=5, size_px=(160, 160), n_cars=40, date=when, gsd=10.0))
    image = write_scene(scene, tmp_path / "imgs", "s2", preview=False).image
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    with db.session() as s:
        fp = inspect_scene(image).footprint
        c = fp.centroid
        repo.add_site(
            s,
            SiteSpec(name="yard", geometry=box(c.x - 0.004, c.y - 0.004, c.x + 0.004, c.y + 0.004)),
        )
    assert ingest_paths(db, "yard", [image]).ingested
    summary = process_site(db, "yard", detector=BrightBlobDetector())
    assert len(summary.failed) == 1 and not summary.processed
    with db.session() as s:
        (sc,) = repo.list_scenes(s, "yard")
        assert sc.status == "failed"
        assert "only along the site's track centrelines" in (sc.error or "")
        assert "--tracks" in (sc.error or "")
        assert all(p.count is None for p in repo.count_series(s, "yard"))  # a gap, not "no"
    db.dispose()


def test_process_reads_a_ten_metre_scene_against_the_sites_other_images(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pipeline gives each 10 m scene the site's background from its references
    (three or more usable 10 m images of the site), on the scene's grid."""
    import railwatch.counting as counting
    from railwatch.sim.io import tracks_geojson
    from railwatch.sites import load_tracks

    backgrounds: list[np.ndarray | None] = []
    real = counting.estimate_occupancy

    def spy(*args: object, **kwargs: object) -> object:
        backgrounds.append(kwargs.get("background"))  # type: ignore[arg-type]
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(counting, "estimate_occupancy", spy)
    images = []
    for day in range(4):
        when = datetime(2023, 10, 1 + 7 * day, 2, tzinfo=UTC)
        params = SceneParams(
            seed=20 + day, size_px=(160, 160), n_cars=60, date=when, gsd=GSD, layout_seed=5
        )
        scene = render_scene(params)
        images.append(write_scene(scene, tmp_path / "imgs", f"s2_{day}", preview=False).image)
    tracks = load_tracks(tracks_geojson(scene))
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    c = inspect_scene(images[0]).footprint.centroid
    with db.session() as s:
        geom = box(c.x - 0.006, c.y - 0.006, c.x + 0.006, c.y + 0.006)
        repo.add_site(s, SiteSpec(name="yard", geometry=geom, tracks=tracks))
    assert len(ingest_paths(db, "yard", images).ingested) == 4
    summary = process_site(db, "yard", detector=BrightBlobDetector())
    assert len(summary.processed) == 4, summary.failed
    assert len(backgrounds) == 4
    assert all(b is not None and b.ndim == 3 for b in backgrounds)
    db.dispose()
