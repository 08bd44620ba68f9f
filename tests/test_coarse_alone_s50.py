"""A line on a bed of another colour in an image read alone (session 50, 2026-12-07).

Estimator 16 (session 49) let a line whose samples hardly show the yard's colour take its
own densest colour (a main line's clean ballast, concrete sleepers), but only with the
site's empty track from its other images. Read alone (``railwatch detect FILE --tracks``,
a site's first images) the mean shift from the yard's colour was all, and it leaves that
colour only where at least 5 of the line's samples lie within its first radius, which a
fraction of a pixel decides: such a line was read against the yard's ballast as one
string end to end. Read alone along given centrelines (finer than 10 m; not along lines
found in the image), the line's samples are now judged in the yard's own
empty-track noise unit about the yard's colour (``coarse._empty_noise``, what
``coarse.empty_track`` gives the site's empty track from each image), with the site's
rule (``coarse._line_colour``): its own colour within twice ``SITE_LINE_REACH`` units.
The scenes are sixteen simulated sites' visits as session 49 drew them
(``railwatch simulate --scene`` defaults, 3 m, one layout per site), read on their true
centrelines moved by 0 or half a pixel. A line full end to end of one kind of car still
reads full (``tests/test_detect_coarse.py``, and here for more colours).
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from shapely.affinity import translate
from shapely.geometry import LineString, MultiLineString

from railwatch.detect import coarse
from railwatch.detect.coarse import LineProfile, estimate_occupancy
from railwatch.sim import SceneParams, render_scene
from test_detect_coarse import _yard

GSD = 3.0


def _scene(
    seed: int, cars: int, layout: int, month: int
) -> tuple[np.ndarray, MultiLineString, float]:
    """A 200 x 200 px 3 m scene as `railwatch simulate --scene` draws it, its true
    centrelines in pixels and its car equivalents (cars' length / 14 m)."""
    params = SceneParams(seed=seed, gsd=GSD, size_px=(200, 200), n_cars=cars)
    sc = render_scene(params.with_(layout_seed=layout).at(datetime(2023, month, 10, 3, tzinfo=UTC)))
    inv = ~sc.transform
    lines = MultiLineString(
        [LineString([inv @ (x, y) for x, y in t.coords]) for t in sc.tracks if len(t.coords) >= 2]
    )
    return sc.image[..., :3], lines, sum(t.length_m for t in sc.truth) / 14.0


# (seed, cars, layout, month), the centrelines' shift in pixels, and what estimator 16
# read alone (truth 12.9, 12.4 and 44.6 car equivalents)
CASES = [
    ((5, 12, 500, 1), (0.0, -0.5), 24.6),
    ((5006, 13, 505, 9), (0.0, 0.0), 25.1),
    ((11005, 45, 511, 12), (0.0, 0.5), 80.4),
]


@pytest.mark.parametrize(("scene", "shift", "before"), CASES)
def test_a_line_on_another_bed_read_alone_is_not_a_string(
    scene: tuple[int, int, int, int], shift: tuple[float, float], before: float
) -> None:
    image, lines, truth = _scene(*scene)
    diagnostics: list[LineProfile] = []
    est = estimate_occupancy(image, GSD, tracks=translate(lines, *shift), diagnostics=diagnostics)
    assert est.empty_from == "image"
    assert est.car_equivalents == pytest.approx(truth, rel=0.15), (est.car_equivalents, before)
    assert est.low <= truth <= est.high


def test_the_line_read_end_to_end_is_read_in_part() -> None:
    """The second case's outer line was read occupied along 85 % of it at every shift."""
    image, lines, _ = _scene(5006, 13, 505, 9)
    diagnostics: list[LineProfile] = []
    estimate_occupancy(image, GSD, tracks=lines, diagnostics=diagnostics)
    assert max(float(d.occupied.mean()) for d in diagnostics) < 0.5


@pytest.mark.parametrize(
    "colour", [(120, 40, 35), (60, 90, 130), (90, 110, 80), (170, 90, 40), (150, 140, 120)]
)
def test_a_line_full_end_to_end_of_one_kind_of_car_read_alone_still_reads_full(
    colour: tuple[int, int, int],
) -> None:
    """Red, blue, green, orange and light grey-brown cars along a whole line beside three
    empty lines (black and white: ``tests/test_detect_coarse.py``) lie beyond twice
    ``SITE_LINE_REACH`` of the yard's own noise units from its ballast: the line keeps the
    yard's colour. (Cars within that reach, nearly the ballast's colour, are taken for a
    bed and read 0, as with the site's empty track: docs/detection.md.)"""
    img, tracks = _yard(20.0, [520.0], car_colour=colour)
    est = estimate_occupancy(img, 3.0, tracks=tracks)
    assert est.empty_from == "image"
    assert est.car_equivalents == pytest.approx(500 / 14.0, rel=0.15)


# A crowded yard of dark cars read alone (review of session 50): with cars at half the
# samples or more the yard's colour is the cars' and its noise unit their spread, and
# the one line of bare ballast, within twice SITE_LINE_REACH of those units, was taken
# for a bed: the yard read 0.0 for 111.4 and 16.9 for 95.7 (estimator 16: 35.8, 49.9).
@pytest.mark.parametrize(
    ("angle", "occupied", "before"),
    [
        (20.0, [520.0, 520.0, 520.0], 35.8),
        (20.0, [300.0, 520.0, 520.0], 49.9),
        (0.0, [300.0, 520.0, 520.0], 50.1),
    ],
)
def test_a_crowded_dark_yard_read_alone_does_not_collapse(
    angle: float, occupied: list[float], before: float
) -> None:
    """Read as estimator 16 read it (the yard inverted, its ballast line a string: still
    far under the truth, docs/detection.md), not as nothing: the line of bare ballast,
    far quieter than the cars' spread, keeps the yard's colour."""
    img, tracks = _yard(angle, occupied, car_colour=(40, 40, 40))
    est = estimate_occupancy(img, GSD, tracks=tracks)
    assert est.empty_from == "image"
    assert est.car_equivalents >= before - 1.0


def test_evidence_must_be_told_whether_the_lines_are_given() -> None:
    """``_evidence(..., given=...)`` has no default: benchmarks calling it directly said
    nothing and took estimator 17's rule for given centrelines silently."""
    img, tracks = _yard(20.0, [520.0])
    feats, ok = coarse._readable_features(img, np.ones(img.shape[:2], bool))
    lines = coarse._polylines(tracks)
    with pytest.raises(TypeError):
        coarse._evidence(feats, ok, lines, GSD, 0.5)  # type: ignore[call-arg]
    assert coarse._evidence(feats, ok, lines, GSD, 0.5, given=True) is not None
