"""Never an unusable image for an empty yard (review r3, 2026-12-06, session 39): a
cloud lying over the cars and tracks of a 0.5 m image, over under 20 % of the site, left
it "usable" (over 80 % of the site clear) and its count read a few railcars where the
clear image reads many, with the analyst's track centrelines drawn or not.

Where cars are counted one by one the quality step now also measures the clear share
of where cars can stand (``imagery.places``): a corridor of a car's width along the
site's tracks, or, without tracks, the footprints of the cars detected in the site's
other usable images. Below the usable threshold the scene is a gap with the reason; a
cloud away from them changes nothing; a site without tracks or history is judged as
before."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import rasterio
import shapely
from pyproj import Transformer
from rasterio.features import rasterize
from shapely.geometry import LineString, MultiLineString, box

from railwatch import pipeline
from railwatch.imagery import SiteGrid, SiteRaster, assess_quality
from railwatch.imagery.places import HISTORY_MIN_CARS, Places, history_places, places_of
from railwatch.ingest import ingest_paths
from railwatch.pipeline import process_site
from railwatch.sim import SceneParams, render_scene
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo

N = 400
GSD = 0.5


@pytest.fixture(scope="module")
def yard(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A simulated 0.5 m yard (400 x 400 px) written three times without a quality mask
    (the quality is estimated): clear; under an opaque cloud over its cars (about 17 % of
    the site, as review r3's); under a cloud as large away from its tracks. The site is
    the central 70 % of the image; its tracks in lon/lat."""
    scene = render_scene(SceneParams(seed=3, size_px=(N, N), gsd=GSD, n_cars=30, noise=2.0))
    img, T, crs = scene.image, scene.transform, scene.crs
    cloud = (235 + np.random.default_rng(5).integers(0, 6, img.shape)).astype(np.uint8)
    cars = (scene.labels > 0).astype(np.uint8)
    over_cars = cv2.dilate(cars, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (13, 13))) > 0
    # a cloud away from the tracks: the largest patch of the site over 25 m from them
    near = rasterize([(t.buffer(1.0), 1) for t in scene.tracks], out_shape=(N, N), transform=T)
    far = cv2.distanceTransform((near == 0).astype(np.uint8), cv2.DIST_L2, 5)
    inner = np.zeros((N, N), bool)
    inner[int(0.15 * N) : int(0.85 * N), int(0.15 * N) : int(0.85 * N)] = True
    _, patches, stats, _ = cv2.connectedComponentsWithStats(((far >= 50) & inner).astype(np.uint8))
    away = patches == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    out = tmp_path_factory.mktemp("trackclear")
    paths = {}
    for name, day, under in (
        ("clear", 1, None),
        ("cloud_over_cars", 2, over_cars),
        ("cloud_away", 3, away),
    ):
        pixels = img if under is None else np.where(under[..., None], cloud, img)
        path = out / f"202405{day:02d}_{name}.tif"
        with rasterio.open(
            path,
            "w",
            driver="GTiff",
            width=N,
            height=N,
            count=3,
            dtype="uint8",
            crs=crs,
            transform=T,
        ) as dst:
            dst.write(np.moveaxis(pixels, -1, 0))
        paths[name] = path
    to_wgs84 = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    x0, y0 = T @ (0, 0)
    x1, y1 = T @ (N, N)
    site = box(
        x0 + 0.15 * (x1 - x0), y1 + 0.15 * (y0 - y1), x0 + 0.85 * (x1 - x0), y1 + 0.85 * (y0 - y1)
    )
    tracks = MultiLineString(
        [LineString([to_wgs84.transform(*xy) for xy in t.coords]) for t in scene.tracks]
    )
    return {
        "paths": paths,
        "site": _to(to_wgs84, site),
        "tracks": tracks,
        "away_share": float(away[inner].mean()),
    }


def _to(tr: Transformer, geom: Any) -> Any:
    return shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


@pytest.fixture(scope="module")
def detector() -> Any:
    from railwatch.detect.registry import get_detector

    return get_detector("default")


def _db(tmp_path: Path, yard: dict[str, Any], *, tracks: bool) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    with db.session() as s:
        repo.add_site(
            s,
            SiteSpec(name="yard", geometry=yard["site"], tracks=yard["tracks"] if tracks else None),
        )
    return db


def _ingest(db: Database, *paths: Path) -> None:
    summary = ingest_paths(db, "yard", list(paths))
    assert len(summary.ingested) == len(paths), summary.failed


def _scenes(db: Database) -> dict[str, Any]:
    """Each scene's status, reasons, clear fraction and count (None: a gap)."""
    with db.session() as s:
        points = {p.scene_id: p.count for p in repo.count_series(s, "yard")}
        return {
            Path(sc.uri).stem.split("_", 1)[1]: {
                "status": sc.status,
                "reasons": list(sc.reasons or ()),
                "clear": sc.clear_fraction,
                "count": points.get(sc.id),
            }
            for sc in repo.list_scenes(s, "yard")
        }


def test_cloud_over_the_drawn_tracks_is_a_gap(
    tmp_path: Path, yard: dict[str, Any], detector: Any
) -> None:
    """The site has its track centrelines: the cloud over the cars hides most of them,
    though over 80 % of the site is clear. A gap with the reason, never a count."""
    db = _db(tmp_path, yard, tracks=True)
    _ingest(db, yard["paths"]["clear"], yard["paths"]["cloud_over_cars"])
    process_site(db, "yard", detector=detector)
    got = _scenes(db)
    clear, clouded = got["clear"], got["cloud_over_cars"]
    assert clear["status"] == "processed" and clear["count"] >= 20
    assert clouded["clear"] >= 0.8  # the site alone would have it usable
    assert clouded["status"] == "unusable" and clouded["count"] is None
    first = clouded["reasons"][0]
    assert " hides " in first and " % of the site's tracks: only " in first
    hidden = int(first.split(" hides ")[1].split(" %")[0])
    assert hidden > 20
    assert not any(r.endswith("can be counted") for r in clouded["reasons"])


def test_cloud_over_the_cars_judged_by_the_sites_history(
    tmp_path: Path, yard: dict[str, Any], detector: Any
) -> None:
    """No track centrelines: the clear image is counted first; the clouded one is judged
    by where that image saw cars, and is a gap."""
    db = _db(tmp_path, yard, tracks=False)
    _ingest(db, yard["paths"]["clear"])
    process_site(db, "yard", detector=detector)
    assert _scenes(db)["clear"]["count"] >= 20
    _ingest(db, yard["paths"]["cloud_over_cars"])
    process_site(db, "yard", detector=detector)
    clouded = _scenes(db)["cloud_over_cars"]
    assert clouded["clear"] >= 0.8
    assert clouded["status"] == "unusable" and clouded["count"] is None
    assert "of where cars stood in the site's earlier images" in clouded["reasons"][0]


def test_no_tracks_and_no_history_keep_todays_rule(
    tmp_path: Path, yard: dict[str, Any], detector: Any
) -> None:
    """Neither tracks nor an earlier image: the share of the site alone decides, as
    before (a count of its clear part, which says so)."""
    db = _db(tmp_path, yard, tracks=False)
    _ingest(db, yard["paths"]["cloud_over_cars"])
    process_site(db, "yard", detector=detector)
    clouded = _scenes(db)["cloud_over_cars"]
    assert clouded["status"] == "processed" and clouded["count"] is not None
    assert not any("hide" in r for r in clouded["reasons"])
    assert any(r.endswith("that is clear can be counted") for r in clouded["reasons"])


@pytest.mark.parametrize("tracks", [True, False], ids=["tracks", "history"])
def test_cloud_away_from_the_tracks_keeps_its_count(
    tmp_path: Path,
    yard: dict[str, Any],
    detector: Any,
    tracks: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A cloud of 10-15 % of the site, away from the tracks: usable, with the count it had before
    (without the places judged: ``places_of`` giving none)."""
    assert yard["away_share"] > 0.1
    db = _db(tmp_path, yard, tracks=tracks)
    _ingest(db, yard["paths"]["clear"])
    process_site(db, "yard", detector=detector)
    _ingest(db, yard["paths"]["cloud_away"])
    process_site(db, "yard", detector=detector)
    away = _scenes(db)["cloud_away"]
    assert away["status"] == "processed", away["reasons"]
    assert away["clear"] < 0.95  # the cloud is there, and estimated
    assert not any("hide" in r for r in away["reasons"])
    monkeypatch.setattr(pipeline, "places_of", lambda *args: None)
    process_site(db, "yard", detector=detector, reprocess=True)
    before = _scenes(db)["cloud_away"]
    assert before["status"] == "processed" and away["count"] == before["count"]


# -- the quality step with places, on a quality mask ---------------------------------


def _raster(mask: np.ndarray) -> SiteRaster:
    image = render_scene(SceneParams(seed=3, size_px=(N, N), gsd=GSD, n_cars=30)).image
    grid = SiteGrid(crs="EPSG:32652", transform=None, width=N, height=N, gsd=GSD)  # type: ignore[arg-type]
    return SiteRaster(image, np.ones((N, N), bool), np.ones((N, N), bool), mask, grid)


def _band(rows: slice) -> Places:
    """Places: every pixel of ``rows`` (as a track corridor)."""
    r, c = np.mgrid[rows, 0:N]
    return Places(r.ravel().astype(np.int32), c.ravel().astype(np.int32), "tracks")


def test_mask_codes_over_the_places_decide_and_are_named() -> None:
    """A mask marking cloud (1) over 60 % of the places and no data (255) over 10 %, 8 %
    of the site in all: unusable, both named, largest first."""
    mask = np.zeros((N, N), np.uint8)
    mask[0:12] = 1
    mask[12:14] = 255
    mask[14:20] = 0
    places = _band(slice(0, 20))
    q = assess_quality(_raster(mask), places=places)
    assert not q.usable and q.places == "tracks"
    assert q.places_clear == pytest.approx(0.3)
    assert q.clear_fraction == pytest.approx(1 - 14 / N)
    assert q.reasons[0].startswith("cloud and no data hide 70 % of the site's tracks")
    without = assess_quality(_raster(mask))
    assert without.usable and without.places_clear is None


def test_usable_places_partly_hidden_say_so() -> None:
    """Snow over 10 % of the places (90 % clear): usable, and the reasons say how much of
    the tracks the count misses."""
    mask = np.zeros((N, N), np.uint8)
    mask[0:2] = 3
    q = assess_quality(_raster(mask), places=_band(slice(0, 20)))
    assert q.usable and q.places_clear == pytest.approx(0.9)
    assert q.reasons[-1] == "snow hides 10 % of the site's tracks: the count is of the rest"


def test_a_short_history_is_no_history() -> None:
    """Fewer than HISTORY_MIN_CARS car footprints: no places (today's rule)."""
    grid = SiteGrid(
        crs="EPSG:32652",
        transform=rasterio.transform.from_origin(500000, 4000000, GSD, GSD),
        width=N,
        height=N,
        gsd=GSD,
    )
    to_wgs84 = Transformer.from_crs("EPSG:32652", "EPSG:4326", always_xy=True)
    cars = [
        _to(to_wgs84, box(500010 + 20 * i, 3999950, 500025 + 20 * i, 3999953))
        for i in range(HISTORY_MIN_CARS)
    ]
    assert history_places(cars[:-1], grid) is None
    full = places_of(grid, None, cars)
    assert full is not None and full.what == "history"
    # each 15 x 3 m car on 30 x 6 px, all_touched
    assert HISTORY_MIN_CARS * 30 * 6 <= len(full) <= HISTORY_MIN_CARS * 32 * 8


def test_the_interval_allows_for_the_hidden_part_of_the_tracks() -> None:
    """A usable scene whose tracks are 85 % clear while 97 % of the site is: its count's
    interval reaches as far as it would for a site 85 % clear (the part of the yard not
    seen), not 97 %."""
    from dataclasses import replace

    from railwatch.counting import count_scene
    from railwatch.detect.base import Detection, OrientedBox

    mask = np.zeros((N, N), np.uint8)
    mask[0:12] = 1  # 3 % of the site
    raster = _raster(mask)
    site_only = assess_quality(raster)
    assert site_only.usable and site_only.places_clear is None
    cars = [
        Detection(OrientedBox(40.0 + 40 * i, 200.0, 30.0, 6.0, 0.0), "boxcar", 0.9)
        for i in range(8)
    ]
    hidden = replace(site_only, places_clear=0.85, places="tracks")
    plain = count_scene(cars, raster, site_only)
    wider = count_scene(cars, raster, hidden)
    as_if = count_scene(cars, raster, replace(site_only, clear_fraction=0.85))
    assert plain.total == wider.total == 8
    assert wider.high > plain.high and wider.high == as_if.high
