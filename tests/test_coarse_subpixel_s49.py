"""A fraction of a pixel with the site's empty track (session 49, 2026-12-07).

The session-48 walk's 3 m site (no misregistration) read one outer line end to end as a
string when its centrelines were moved by half a pixel: 13.8 -> 61.9 car equivalents for
13 cars. That line is a main line on a bed of another colour (clean ballast, concrete
sleepers: 4.7 of the site's noise units brighter than the yard's wooden-sleeper
ballast). Its own empty colour was searched by mean shift from the yard's, which moves
only where at least 5 of the line's samples lie within its first radius: 8 did on the
lines as given, 4 half a pixel off, and the line was then read against the yard's
ballast along its whole length (``coarse._line_colour`` now takes the line's own densest
colour where the yard's holds under a tenth of its samples and that colour lies within
twice ``SITE_LINE_REACH`` noise units). On another simulated site, lines half a pixel
off took a December yard as full (241.7 for 39.3): the beds of several colours widened
the search's noise unit while 30 % and more of the samples were the expected ballast
(``coarse.SITE_BARE_SHARE``). A line full end to end of one kind of car still reads
full (``tests/test_detect_coarse.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from shapely.affinity import translate
from shapely.geometry import LineString, MultiLineString

from railwatch.detect.coarse import (
    SITE_LINE_REACH,
    EmptyTrack,
    LineProfile,
    _line_colour,
    _mode,
    estimate_occupancy,
)
from railwatch.sim import SceneParams, render_scene

GSD = 3.0
#: The walk's site's empty track from its 21 other usable 3 m images (session 48).
WALK_SITE = EmptyTrack(
    offset=(-5.79795, 1.84740, -5.68665), noise=(8.13696, 1.94379, 1.69070), images=21
)
#: Another simulated site's (layout 505) from its 7 other visits.
DECEMBER_SITE = EmptyTrack(offset=(-7.86, 2.33, -4.46), noise=(3.17, 1.47, 1.24), images=7)


def _scene(
    seed: int, cars: int, layout: int, when: datetime
) -> tuple[np.ndarray, MultiLineString, float]:
    """A 200 x 200 px 3 m scene as `railwatch simulate --scene` draws it, its true
    centrelines in pixels and its car equivalents (cars' length / 14 m)."""
    params = SceneParams(seed=seed, gsd=GSD, size_px=(200, 200), n_cars=cars)
    sc = render_scene(params.with_(layout_seed=layout).at(when))
    inv = ~sc.transform
    lines = MultiLineString(
        [LineString([inv @ (x, y) for x, y in t.coords]) for t in sc.tracks if len(t.coords) >= 2]
    )
    return sc.image[..., :3], lines, sum(t.length_m for t in sc.truth) / 14.0


@pytest.fixture(scope="module")
def walk() -> tuple[np.ndarray, MultiLineString, float]:
    """The walk's image of 2023-03-10 (13 cars), pixel for pixel."""
    return _scene(3, 13, 5, datetime(2023, 3, 10, 3, tzinfo=UTC))


SHIFTS = [(0.0, 0.0), (0.0, 0.4), (0.0, 0.5), (-0.5, 0.0), (-0.25, 0.25), (0.0, -0.5), (0.5, 0.0)]


@pytest.mark.parametrize("shift", SHIFTS)
def test_a_line_on_another_bed_is_not_a_string_half_a_pixel_off(
    walk: tuple[np.ndarray, MultiLineString, float], shift: tuple[float, float]
) -> None:
    image, lines, truth = walk
    diagnostics: list[LineProfile] = []
    est = estimate_occupancy(
        image, GSD, tracks=translate(lines, *shift), site_empty=WALK_SITE, diagnostics=diagnostics
    )
    # it read 62.3-62.4 at (0, 0.4), (-0.5, 0) and (-0.25, 0.25), the main line occupied
    # along 95 % of it, 13.3-13.8 at the others (the walk's lines, read from its GeoJSON,
    # 61.9 at (0, 0.5): the edge is that sharp)
    assert est.empty_from == "site"
    assert est.car_equivalents == pytest.approx(truth, rel=0.15), est.car_equivalents
    assert max(float(d.occupied.mean()) for d in diagnostics) < 0.3
    alone = estimate_occupancy(image, GSD, tracks=translate(lines, *shift))
    assert est.car_equivalents == pytest.approx(alone.car_equivalents, abs=1.0)


def test_beds_of_several_colours_do_not_make_a_yard_full() -> None:
    image, lines, truth = _scene(5007, 41, 505, datetime(2023, 12, 10, 3, tzinfo=UTC))
    for shift in ((0.0, 0.0), (0.0, 0.5)):
        est = estimate_occupancy(
            image, GSD, tracks=translate(lines, *shift), site_empty=DECEMBER_SITE
        )
        # half a pixel off it was taken as full: 241.7 for 39.3
        assert est.empty_from == "site", shift
        assert 0.85 * truth <= est.car_equivalents < 1.7 * truth, (shift, est.car_equivalents)


def _cloud(centre: tuple[float, float, float], n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.asarray(centre) + rng.normal(0.0, 1.0, (n, 3)) * np.array([2.0, 0.8, 0.7])


def test_a_lines_own_colour_is_taken_within_reach_only() -> None:
    """The rule itself: the yard's colour held on under a tenth of the line's samples,
    the line's own densest colour 4.7 site units away is its bed; 17 units away (white
    cars from end to end) it is not; without the site, the mean shift alone."""
    empty = np.zeros(3)
    site = np.array([3.5, 1.5, 1.3])
    unit = np.array([6.4, 2.1, 1.9])  # the search's: the spread of the yard's samples
    bed = np.array([12.7, -2.7, -2.8])  # 4.7 site units
    assert np.linalg.norm(bed / site) < 2 * SITE_LINE_REACH
    line = _cloud(tuple(bed), 400, 1)
    assert np.linalg.norm(_line_colour(line, unit, empty, site) - bed) < 1.0
    # the mean shift from the yard's colour does not leave it: hardly a sample within reach
    assert np.linalg.norm(_line_colour(line, unit, empty, None)) < 1e-9
    cars = np.array([60.0, -5.0, -8.0])  # about 19 site units
    assert np.linalg.norm(cars / site) > 2 * SITE_LINE_REACH
    full = _cloud(tuple(cars), 400, 2)
    assert np.linalg.norm(_line_colour(full, unit, empty, site)) < 1e-9
    # a line that shows the yard's ballast keeps the mean shift's colour, whatever it is
    for k in (60, 200):
        mixed = np.vstack([line[: 400 - k], _cloud((0.0, 0.0, 0.0), k, 3)])
        want = _mode(mixed, unit, start=empty)
        assert np.array_equal(_line_colour(mixed, unit, empty, site), want)
