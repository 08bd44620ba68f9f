"""The Tumangang scenario: dates, counts, conditions, and cached rendering."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import Point

from railwatch.errors import NotFoundError
from railwatch.sim import Scenario, Visit, get_scenario, render_scenario, render_scene, tumangang
from railwatch.sim.sun import solar_position


@pytest.fixture(scope="module")
def sc() -> Scenario:
    return tumangang()


def _visit(sc: Scenario, day: str) -> tuple[int, Visit]:
    for i, v in enumerate(sc.visits):
        if v.when.date().isoformat() == day:
            return i, v
    raise AssertionError(f"no visit on {day}")


def test_dates_and_revisits(sc: Scenario) -> None:
    assert sc.visits[0].when.date() >= date(2018, 4, 1)
    assert sc.visits[-1].when.date() <= date(2024, 7, 31)
    assert all(v.when.tzinfo is UTC for v in sc.visits)
    per_month = Counter((v.when.year, v.when.month) for v in sc.visits)
    assert len(per_month) == 76  # every month from 2018-04 to 2024-07
    assert all(2 <= n <= 6 for n in per_month.values())
    assert 180 <= len(sc.visits) <= 260
    assert sc.events == ((date(2023, 9, 13), "Kim–Putin summit"),)
    assert sc.aoi.contains(Point(130.6081, 42.4214))


def test_counts_follow_the_case(sc: Scenario) -> None:
    before = [v.total for v in sc.visits if v.when.date() < date(2023, 9, 18)]
    assert max(before) <= 20 and min(before) == 0
    assert np.std(before) > 2  # ups and downs, not flat
    rise = [v.total for v in sc.visits if date(2023, 9, 18) <= v.when.date() <= date(2023, 10, 5)]
    assert rise[0] < 30 and rise[-1] == 73
    assert rise == sorted(rise)
    _, oct5 = _visit(sc, "2023-10-05")
    mix = oct5.cars_by_class
    assert mix.get("flat", 0) + mix.get("gondola", 0) > 0.8 * oct5.total
    assert oct5.covered_fraction >= 0.8
    _, peak = _visit(sc, "2024-06-17")
    c = peak.cars_by_class
    assert c["hopper"] + c["gondola"] == 175 and c["tank"] == 66 and c["boxcar"] == 14
    assert c["locomotive"] == 6
    after = [v.total for v in sc.visits if v.when.date() > date(2023, 10, 5)]
    assert min(after) > 50  # a sustained higher level
    assert sc.truth_counts()[-1][0] == sc.visits[-1].when


def test_conditions_mix(sc: Scenario) -> None:
    unusable = [v for v in sc.visits if not v.usable_expected]
    assert 0.18 < len(unusable) / len(sc.visits) < 0.32
    assert {v.reason for v in unusable} >= {"cloud", "haze", "partial coverage"}
    gsds = Counter(v.gsd for v in sc.visits)
    assert gsds[0.5] > gsds[3.0] > gsds[0.3] > 0
    shifts = [np.hypot(*dict(v.overrides)["misregistration_m"]) for v in sc.visits]
    assert 1.0 < float(np.mean(shifts)) < 6.0 and max(shifts) <= 8.5
    for day in ("2023-09-18", "2023-10-05", "2024-06-17"):
        _, v = _visit(sc, day)
        assert v.usable_expected and v.gsd == 0.5


def test_sun_position() -> None:
    elev, az = solar_position(datetime(2024, 6, 21, 3, 17, tzinfo=UTC), 130.6, 42.4)
    assert elev == pytest.approx(71.1, abs=1.5) and az == pytest.approx(180, abs=8)
    elev_w, _ = solar_position(datetime(2023, 12, 21, 3, 17, tzinfo=UTC), 130.6, 42.4)
    assert elev_w == pytest.approx(24.2, abs=1.5)


@pytest.mark.slow
def test_peak_fits_in_the_yard_and_inside_the_aoi(sc: Scenario) -> None:
    i, v = _visit(sc, "2024-06-17")
    p = sc.params(i).with_(gsd=3.0, size_px=(300, 180), jpeg_quality=None)
    s = render_scene(p)
    assert s.truth_counts() == v.cars_by_class
    from pyproj import Transformer

    to_ll = Transformer.from_crs(s.crs, "EPSG:4326", always_xy=True)
    for t in s.truth:
        x, y = t.polygon_crs.centroid.coords[0]
        assert sc.aoi.contains(Point(*to_ll.transform(x, y)))


@pytest.mark.slow
def test_usable_expectation_matches_the_mask(sc: Scenario) -> None:
    """For every visit, the clear share of the AOI in the quality mask (as the
    imagery layer computes it: code 0 only) agrees with ``usable_expected`` at the
    0.8 threshold, but for the visits a cloud over the tracks makes unusable
    (``tests/test_tumangang_truth_s41.py``). Only the atmosphere, snow and coverage
    layers are computed."""
    import shapely
    from pyproj import Transformer
    from rasterio.features import geometry_mask
    from shapely.geometry import mapping

    from railwatch.sim import conditions as cond
    from railwatch.sim import render as rnd
    from railwatch.sim import scene as scn
    from railwatch.sim.params import STYLES

    to = Transformer.from_crs("EPSG:4326", "EPSG:32652", always_xy=True)
    aoi = shapely.transform(sc.aoi, lambda xy: np.column_stack(to.transform(xy[:, 0], xy[:, 1])))
    usable_clear: list[float] = []
    unusable_clear: list[float] = []
    for i, v in enumerate(sc.visits):
        p = sc.params(i)
        w, h = p.size_px
        atm = cond.atmosphere(
            np.random.default_rng([p.seed, scn._ATMOS]), (h, w), p.gsd, haze=p.haze,
            cloud_cover=p.cloud_cover, thin_cloud=p.thin_cloud,
            sun_elevation=p.sun_elevation, sun_azimuth=p.sun_azimuth,
        )  # fmt: skip
        snow = None
        if p.snow > 0:
            rng = np.random.default_rng([p.layout_seed, scn.GROUND_STREAM])
            _, snow = rnd.ground(rng, (h, w), p.gsd, STYLES[p.style], p)
        valid = cond.coverage_mask(np.random.default_rng([p.seed, scn._COVER]), (h, w), p.coverage)
        m = cond.quality_mask(atm, snow, valid)
        _, t = scn.scene_grid(p)
        inside = geometry_mask([mapping(aoi)], out_shape=m.shape, transform=t, invert=True)
        clear = float((m[inside] == 0).mean())
        if v.usable_expected or v.tracks_clear is None or v.tracks_clear >= 0.8:
            (usable_clear if v.usable_expected else unusable_clear).append(clear)
        else:  # unusable for a cloud over the tracks (session 41): the site may be clear
            assert v.site_clear == pytest.approx(clear, abs=1e-3)
    assert min(usable_clear) >= 0.8
    assert max(unusable_clear) < 0.8


def test_render_scenario_caches(tmp_path: Path) -> None:
    full = tumangang()
    small = Scenario(
        name="mini",
        aoi=full.aoi,
        events=full.events,
        visits=tuple(v for v in full.visits if v.gsd == 3.0)[:2],
        base=full.base,
        extent_m=full.extent_m,
    )
    calls: list[tuple[int, int]] = []
    paths = render_scenario(small, tmp_path, progress=lambda d, t: calls.append((d, t)))
    assert len(paths) == 2 and calls[-1] == (2, 2)
    stamp = paths[0].image.stat().st_mtime_ns
    again = render_scenario(small, tmp_path)
    assert again == paths and paths[0].image.stat().st_mtime_ns == stamp
    manifest = json.loads((tmp_path / "mini.scenario.json").read_text())
    assert [s["name"] for s in manifest["scenes"]] == [p.name for p in paths]
    truth = json.loads(paths[0].truth.read_text())
    assert len(truth["features"]) == small.visits[0].total


def test_unknown_scenario() -> None:
    with pytest.raises(NotFoundError):
        get_scenario("atlantis")


def test_tracks_for_the_site(sc: Scenario) -> None:
    import shapely
    from pyproj import Transformer

    tracks = sc.tracks_wgs84()
    assert tracks.geom_type == "MultiLineString" and len(tracks.geoms) > 15
    assert sc.aoi.buffer(0.0025).contains(tracks)
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32652", always_xy=True)
    utm = shapely.transform(
        tracks, lambda xy: np.column_stack(to_utm.transform(xy[:, 0], xy[:, 1]))
    )
    assert utm.length > 8000.0  # room for ~260 cars of ~15 m
