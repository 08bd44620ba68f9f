"""From detections (or a coarse estimate) to the count of one scene over its site.

Only detections whose centre lies inside the site (``raster.inside``) are counted,
and, where the site has track centrelines, near them (:func:`near_tracks`). The count
is the number of those detections. When the detector carries a count calibration
(:mod:`railwatch.detect.calibration`: precision by score and recall by resolution,
measured on labelled scenes), the 90 % interval is the calibrated interval of the true
number of cars, widened to contain the count. Otherwise the interval comes from the
detection scores, read as probabilities that each
detection is a railcar: with ``p_i`` the scores, the expected count is ``sum p_i``
and its spread ``sqrt(sum p_i (1 - p_i))`` (a sum of Bernoulli variables); the 90 %
interval is that ± 1.645 sigma, always containing the number of detections. It is
then widened for what the scene cannot show: cars missed at coarser resolution
(+5 % at 0.5 m growing to +15 % at 1.5 m), the part of the site not clear
(cloud, haze, no data: the count is extrapolated to the unseen part for the upper
bound) and haze that is not in that part (half of it again, as haze hides cars
without hiding the ground): a quality's clear fraction leaves its haze out, so its
haze is allowed for once, with the rest of the part not clear (until review r5,
2026-12-06, session 39, it was allowed for twice: extrapolated, then half again).

For an image whose gsd was given by hand and not confirmed by its rails (they could not
be measured, or disagree: :class:`railwatch.imagery.scale.ScaleCheck`), a count by
objects has its interval widened for the scale's plausible error (:func:`scale_widening`,
:func:`widen_for_scale`), from the counts measured at wrong scales
(:data:`GSD_SENSITIVITY`); the count itself is unchanged.

At 1.5 m and coarser the count is the coarse estimate's car equivalents
(``method="length"``); at 10 m and coarser only presence is known
(``method="presence"``: total 1 when a long train is present, else 0), and only along
the site's track centrelines.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from shapely.affinity import translate
from shapely.geometry.base import BaseGeometry

from railwatch.detect.base import Detection, OccupiedRun, near_lines
from railwatch.detect.calibration import Calibration
from railwatch.detect.coarse import (
    LONG_TRAIN_M,
    PRESENCE_WINDOW_M,
    CoarseEstimate,
    EmptyTrack,
    estimate_occupancy,
    method_for_gsd,
    pixel_azimuth,
    track_share,
    tracks_to_pixels,
)
from railwatch.errors import DetectionError
from railwatch.imagery.quality import MAX_COUNT_GSD, readable_pixels
from railwatch.rails import TRACK_DISTANCE_M

if TYPE_CHECKING:
    from railwatch.imagery.scale import ScaleCheck

#: z for a two-sided 90 % interval.
Z90 = 1.645


__all__ = [
    "GSD_SENSITIVITY",
    "TRACK_DISTANCE_M",
    "UNCHECKED_SCALE_ERROR",
    "ScaleWidening",
    "SceneCount",
    "count_detections",
    "count_interval",
    "count_scene",
    "near_tracks",
    "scale_widening",
    "too_coarse_reason",
    "widen_for_scale",
]


class _Grid(Protocol):
    @property
    def gsd(self) -> float: ...
    @property
    def crs(self) -> str: ...
    @property
    def transform(self) -> Any: ...


class RasterLike(Protocol):
    """What counting needs of :class:`railwatch.imagery.SiteRaster`."""

    @property
    def image(self) -> np.ndarray: ...
    @property
    def valid(self) -> np.ndarray: ...
    @property
    def inside(self) -> np.ndarray: ...
    @property
    def mask(self) -> np.ndarray | None: ...
    @property
    def grid(self) -> _Grid: ...


class QualityLike(Protocol):
    """What counting needs of :class:`railwatch.imagery.quality.Quality`."""

    @property
    def clear_fraction(self) -> float: ...
    @property
    def coverage(self) -> float: ...
    @property
    def haze_fraction(self) -> float: ...


@dataclass(frozen=True)
class SceneCount:
    """The count of one scene over its site.

    ``by_class`` maps a class to ``(count, low, high)``; ``covered`` is the number of
    cars with a covered load; ``method`` is ``objects``, ``length`` or ``presence``;
    ``coverage`` the fraction of the site the scene covers.
    """

    total: float
    low: float
    high: float
    by_class: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    covered: int = 0
    method: str = "objects"
    coverage: float = 1.0
    #: For a length count: where the empty track's colour came from
    #: (:data:`railwatch.detect.coarse.EMPTY_FROM`).
    empty_from: str | None = None
    #: For a length or presence count: metres of track line read (readable samples along
    #: the lines, given or found in the image; :attr:`CoarseEstimate.track_m`). 0 where
    #: no line was found in the image: its 0 is then no measurement of the yard.
    track_m: float | None = None
    #: For a length or presence count: where its track lines came from, ``given`` (the
    #: site's centrelines, ``--tracks``) or ``found`` (lines found in the image, far less
    #: accurate: see docs/detection.md "Coarse imagery").
    tracks: str | None = None
    #: For a length count: the stretches of track read as occupied
    #: (:class:`railwatch.detect.base.OccupiedRun`), in pixel coordinates of the
    #: raster counted: where its car equivalents were read.
    occupied: tuple[OccupiedRun, ...] = ()
    #: For a count of a non-georeferenced image whose gsd was given by hand: that gsd
    #: checked against the rails (:class:`railwatch.imagery.scale.ScaleCheck`), as
    #: :func:`railwatch.api.count_cars` takes it from the detection result.
    scale_check: ScaleCheck | None = None
    #: For a count by objects whose gsd was given by hand and not confirmed by the rails
    #: (not measurable, or disagreeing): how its 90 % intervals (``low``, ``high`` and
    #: ``by_class``'s) were widened for the scale's plausible error, and why
    #: (:class:`ScaleWidening`, :func:`widen_for_scale`). None: today's interval, the
    #: detector's at the scale given (a georeferenced image, a scale the rails confirm,
    #: a check skipped with ``check_scale=False`` / ``--no-scale-check``, or a count by
    #: length or presence, which the measurement did not cover).
    scale_widening: ScaleWidening | None = None
    #: For a count by objects with the detector's count calibration: whether its 90 %
    #: intervals rest on an assumed scene-to-scene spread of recall at its resolution,
    #: not a measured one (:meth:`Calibration.spread_assumed_at`: the card of a
    #: ``railwatch calibrate --labels`` with fewer than two labelled images of 5 or more
    #: cars there). None without a calibration, or counted another way. Kept with a
    #: scene's result (``storage.repo.spread_assumed_of``) since 2026-12-07, session 51.
    spread_assumed: bool | None = None


#: Count ÷ true cars when the gsd is given at a factor of the truth, measured by
#: ``benchmarks/bench_gsd_sensitivity.py`` (docs/detection.md, "How much a wrong
#: hand-given scale changes the count", 2026-12-06, session 37): ``factors``, then one row
#: of means (8 simulator scenes each) per case, (cars a scene, true gsd in metres).
GSD_SENSITIVITY: dict[str, Any] = {
    "factors": (0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.4),
    "rows": {
        (40, 0.3): (0.26, 0.60, 0.81, 0.93, 0.99, 1.03, 1.02),
        (40, 0.5): (0.34, 0.58, 0.84, 0.92, 0.97, 1.02, 0.97),
        (40, 0.75): (0.24, 0.69, 0.87, 0.98, 0.99, 0.99, 1.12),
        (10, 0.3): (0.28, 0.61, 0.83, 0.98, 0.99, 1.04, 1.21),
        (10, 0.5): (0.38, 0.54, 0.74, 0.90, 1.03, 1.08, 1.85),
        (10, 0.75): (0.35, 0.69, 0.75, 1.02, 1.02, 1.05, 1.60),
    },
}

#: How far (relative, either way) a hand-given gsd the rails could not check may
#: plausibly be off: the ±10 % the detector needs it right to, which the measured table
#: brackets with its 0.9× and 1.1× columns.
UNCHECKED_SCALE_ERROR = 0.10


@dataclass(frozen=True)
class ScaleWidening:
    """How a count's 90 % interval was widened for a hand-given gsd the rails did not
    confirm (:func:`scale_widening`).

    ``factors`` is the range of (given gsd ÷ true gsd) allowed for; the interval's low
    bound is multiplied by ``low_factor`` (at most 1: the count of a gsd given too large
    may run high), its high bound by ``high_factor`` (at least 1: a gsd given too small
    loses cars); ``why`` says so in words. ``interval`` is the detector's interval
    before the widening (``low``, ``high``)."""

    given: float
    factors: tuple[float, float]
    low_factor: float
    high_factor: float
    why: str
    interval: tuple[float, float] = (0.0, 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "why": self.why,
            "given_gsd": self.given,
            "scale_factors": [round(f, 3) for f in self.factors],
            "low_factor": round(self.low_factor, 3),
            "high_factor": round(self.high_factor, 3),
            "detector_interval": list(self.interval),
        }


def _count_ratio(factor: float, *, worst: str) -> float:
    """The count at a gsd given at ``factor`` times the truth, as a share of the count at
    the true gsd, over :data:`GSD_SENSITIVITY`'s rows: the smallest (``worst="low"``) or
    the largest (``"high"``) of the rows' ratios. Factors beyond the measured 0.7-1.4 are
    read at the nearest end (nothing was measured there)."""
    xs = GSD_SENSITIVITY["factors"]
    f = min(max(factor, xs[0]), xs[-1])
    at_truth = xs.index(1.0)
    ratios = [
        float(np.interp(f, xs, row)) / row[at_truth] for row in GSD_SENSITIVITY["rows"].values()
    ]
    return min(ratios) if worst == "low" else max(ratios)


def _multipliers(f_low: float, f_high: float) -> tuple[float, float]:
    """``(low_factor, high_factor)`` for a given gsd anywhere from ``f_low`` to ``f_high``
    times the truth (``f_low`` <= 1 <= ``f_high``): the true count may be the count divided
    by the smallest ratio below the truth, or by the largest above it. The table is
    linear between its columns, so the extremes lie at its columns or the range's ends."""
    xs = GSD_SENSITIVITY["factors"]
    below = [f_low] + [x for x in xs if f_low < x < 1.0] + [1.0]
    above = [1.0] + [x for x in xs if 1.0 < x < f_high] + [f_high]
    smallest = min(_count_ratio(x, worst="low") for x in below)
    largest = max(_count_ratio(x, worst="high") for x in above)
    return 1.0 / max(largest, 1.0), 1.0 / min(smallest, 1.0)


def scale_widening(check: ScaleCheck | None) -> ScaleWidening | None:
    """How to widen the interval of a count whose gsd was checked as ``check`` says; None
    when nothing is to be widened: no check (a georeferenced image, or the check skipped
    by the caller, who vouches for the scale) or the rails confirm the gsd.

    Rails not measured: the gsd may be :data:`UNCHECKED_SCALE_ERROR` off either way.
    Rails disagreeing: from that much around the given gsd to as far as the rails'
    interval says (given ÷ their ``gsd_high`` to given ÷ their ``gsd_low``), as either may
    be right (the rails of one track can be two tracks read as rails)."""
    if check is None:
        return None
    s = check.scale
    e = UNCHECKED_SCALE_ERROR
    if not s.measured:
        f_low, f_high = 1.0 - e, 1.0 + e
        why = (
            f"gsd {check.given:g} m given by hand and not checked against the rails "
            f"({s.reason.split(' (')[0]}): widened for a scale up to {e * 100:.0f} % off either way"
        )
    elif check.disagrees and s.gsd is not None and s.gsd_low and s.gsd_high:
        f_low = min(1.0 - e, check.given / s.gsd_high)
        f_high = max(1.0 + e, check.given / s.gsd_low)
        why = (
            f"gsd {check.given:g} m given by hand disagrees with the {s.gsd:.3f} m per pixel "
            f"the rails show: widened for a scale anywhere from {f_low:.2f} to {f_high:.2f} "
            "times the true one"
        )
    else:
        return None
    low_factor, high_factor = _multipliers(f_low, f_high)
    return ScaleWidening(
        check.given,
        (f_low, f_high),
        low_factor,
        high_factor,
        why + " (counts measured at wrong scales: docs/detection.md)",
    )


def widen_for_scale(count: SceneCount, check: ScaleCheck | None) -> SceneCount:
    """``count`` with ``check`` attached and, for a count by objects whose hand-given gsd
    the rails did not confirm (:func:`scale_widening`), its intervals (the total's and
    each class's) widened for the scale's plausible error; the counts are unchanged.
    A georeferenced image, a confirmed scale and a count by length or presence keep
    their interval exactly."""
    from dataclasses import replace

    widening = scale_widening(check) if count.method == "objects" else None
    if widening is None:
        return replace(count, scale_check=check)

    def wide(n: float, low: float, high: float) -> tuple[float, float, float]:
        return (
            n,
            round(min(low * widening.low_factor, n), 2),
            round(max(high * widening.high_factor, n), 2),
        )

    total = wide(count.total, count.low, count.high)
    return replace(
        count,
        low=total[1],
        high=total[2],
        by_class={cls: wide(*v) for cls, v in count.by_class.items()},
        scale_check=check,
        scale_widening=replace(widening, interval=(count.low, count.high)),
    )


def _miss_rate(gsd: float) -> float:
    """Fraction of cars a detector plausibly misses at ``gsd`` (upper-bound widening)."""
    return float(np.interp(gsd, [0.3, 0.5, 1.0, 1.5], [0.03, 0.05, 0.10, 0.15]))


def count_interval(
    scores: Sequence[float],
    *,
    gsd: float = 0.5,
    clear_fraction: float = 1.0,
    haze_fraction: float = 0.0,
    calibration: Calibration | None = None,
) -> tuple[float, float, float]:
    """``(count, low, high)`` for detections with these scores (see module docs).
    The count is the number of detections (what an analyst can check on the image).
    With the detector's ``calibration`` (:mod:`railwatch.detect.calibration`) the
    interval is the calibrated 90 % interval of the true number of cars, widened where
    needed to contain the count itself."""
    clear = min(max(clear_fraction, 0.0), 1.0)
    if calibration is not None:
        n = float(len(scores))
        est, cal_low, cal_high = calibration.estimate(scores, gsd)
        low, high = min(cal_low, n), max(cal_high, n)
        high = _unseen_high(high, max(est, n), clear, haze_fraction)
        return n, round(low, 2), round(high, 2)
    p = np.clip(np.asarray(scores, dtype=np.float64), 0.0, 1.0)
    n = float(len(p))
    expected = float(p.sum())
    sigma = math.sqrt(float((p * (1.0 - p)).sum()))
    low = min(n, expected) - Z90 * sigma
    high = max(n, expected) + Z90 * sigma
    high += n * _miss_rate(gsd)
    high = _unseen_high(high, n, clear, haze_fraction)
    return n, round(max(0.0, low), 2), round(high, 2)


def _unseen_high(high: float, base: float, clear: float, haze_fraction: float) -> float:
    """``high`` widened for what the image does not show: cars may hide in the part of
    the site that is not clear (``1 - clear``), so ``base`` (the count the interval is
    built on) is extrapolated to it at the same density, and half of ``base`` per share
    of haze beyond that part (:func:`_haze_beyond`). The two are added in this order, one
    after the other, so the bound is the same to the last bit wherever it is used."""
    if clear < 1.0:
        high += base * (1.0 - clear) / max(clear, 0.05)
    high += base * 0.5 * _haze_beyond(haze_fraction, clear)
    return high


def _haze_beyond(haze_fraction: float, clear: float) -> float:
    """The share of the site in haze that is not already in the part not clear
    (``1 - clear``, which the interval extrapolates to): a quality's clear fraction
    leaves its haze out, so none of it; a clear fraction given with haze counted clear,
    all of it (review r5, 2026-12-06, session 39: haze was allowed for twice)."""
    haze = min(max(haze_fraction, 0.0), 1.0)
    return max(0.0, haze - (1.0 - clear))


def count_detections(
    detections: Sequence[Detection],
    *,
    gsd: float,
    clear_fraction: float = 1.0,
    haze_fraction: float = 0.0,
    calibration: Calibration | None = None,
    coverage: float = 1.0,
) -> SceneCount:
    """The count by objects of these detections, all of them counted: the total and
    each class with its 90 % interval (:func:`count_interval`, by the detector's
    ``calibration`` when it has one), and the number of covered cars.

    The one place a count by objects is assembled: :func:`count_scene` (the detections
    kept over the site, its image's clear and hazy fractions), ``railwatch detect`` (a
    file alone: nothing widened for cloud or haze) and :func:`railwatch.api.count_cars`
    call it, so the three give the same numbers for the same detections."""

    def interval(cls: str | None) -> tuple[float, float, float]:
        return count_interval(
            [d.score for d in detections if cls is None or d.cls == cls],
            gsd=gsd,
            clear_fraction=clear_fraction,
            haze_fraction=haze_fraction,
            calibration=calibration,
        )

    return SceneCount(
        *interval(None),
        {cls: interval(cls) for cls in sorted({d.cls for d in detections})},
        sum(1 for d in detections if d.covered),
        "objects",
        coverage,
        spread_assumed=calibration.spread_assumed_at(gsd) if calibration is not None else None,
    )


def _centre_inside(dets: Sequence[Detection], inside: np.ndarray) -> list[Detection]:
    if not dets:
        return []
    h, w = inside.shape
    xy = np.array([(d.box.cx, d.box.cy) for d in dets])
    col = np.floor(xy[:, 0]).astype(np.int64)
    row = np.floor(xy[:, 1]).astype(np.int64)
    ok = (col >= 0) & (col < w) & (row >= 0) & (row < h)
    keep = np.zeros(len(dets), dtype=bool)
    keep[ok] = inside[row[ok], col[ok]]
    return [d for d, k in zip(dets, keep, strict=True) if k]


def near_tracks(
    detections: Sequence[Detection],
    tracks_wgs84: BaseGeometry | None,
    grid: _Grid,
    *,
    max_distance_m: float = TRACK_DISTANCE_M,
) -> list[Detection]:
    """The ``detections`` (pixel coordinates of ``grid``) whose centre lies within
    ``max_distance_m`` of the site's track centrelines; all of them when the site has
    none."""
    if tracks_wgs84 is None or tracks_wgs84.is_empty or not detections:
        return list(detections)
    lines = tracks_to_pixels(tracks_wgs84, grid.crs, grid.transform)
    return near_lines(detections, lines, grid.gsd, max_distance_m)


#: What a coarse scene of a site without track centrelines that cannot be counted
#: without them says to do (:func:`needs_tracks` finds it in a failed scene's stored
#: reason; ``SITE`` is the site's name in :func:`name_site`).
GIVE_TRACKS = "Give the site its track centrelines (`railwatch site edit SITE --tracks FILE`)"


def needs_tracks(reason: str | None) -> bool:
    """Is ``reason`` (a failed scene's, as stored) that of a coarse scene that cannot be
    read without its site's track centrelines (a 10 m image, or a 1.5-10 m one where no
    line was found)? Its file is not at fault, and giving the site its centrelines is
    what makes it count (2026-12-06, session 40: ``process`` blamed a missing, moved or
    corrupt file)."""
    return reason is not None and GIVE_TRACKS in reason


def name_site(reason: str, site: str) -> str:
    """``reason`` with the command it gives written for ``site`` (giving centrelines;
    ingesting a moved file again, since 2026-12-06, session 41)."""
    return reason.replace("site edit SITE --tracks", f"site edit {site} --tracks").replace(
        "`railwatch ingest SITE FOLDER`", f"`railwatch ingest {site} FOLDER`"
    )


def _no_track_found(gsd: float) -> str:
    """Why a 1.5-10 m scene of a site without track centrelines has no count."""
    return (
        f"no track line was found in this {gsd:g} m image over the site, so no occupied "
        "length could be measured, and it is not counted (a 0 would read as an empty yard). "
        f"{GIVE_TRACKS}, which "
        "are read even where the image shows no clear line; a site of less than about "
        "100 m along its tracks is too short for lines to be found at this resolution."
    )


def _presence_needs_tracks(gsd: float) -> str:
    """Why a 10 m scene of a site without track centrelines has no long-train flag."""
    return (
        f"this {gsd:g} m image can only tell whether a long train is present, and only along "
        "the site's track centrelines: lines found in images this coarse are short pieces "
        "(on 96 simulated scenes the flag along them found none of the 44 long trains), so "
        f"'no long train' would say nothing. It is not counted. {GIVE_TRACKS} and process "
        "it again."
    )


def too_coarse_reason(gsd: float) -> str:
    """Why an image coarser than 10 m has no count and no long-train flag (``process``
    and ``railwatch.count_cars`` alike)."""
    return (
        f"resolution {gsd:g} m is too coarse to count railcars or to flag a long train (at "
        f"most {MAX_COUNT_GSD:g} m): the long-train flag was measured on {MAX_COUNT_GSD:g} m "
        "images only, and `railwatch process` stores such an image as unusable; no flag, "
        "which is not 'no train': use imagery of 10 m or finer."
    )


def _no_train_length_read(gsd: float) -> str:
    """Why a 10 m scene has no long-train flag: no line could be read along a train's
    length in one piece."""
    return (
        f"no {PRESENCE_WINDOW_M:.0f} m stretch of the site's track could be read in one piece "
        f"in this {gsd:g} m image (cloud, haze or no data break the track, or the "
        "centrelines are shorter than that), so it cannot tell whether a long train is "
        "present, and it is not counted ('no long train' would say nothing): use an image "
        "that shows the tracks clear."
    )


#: The shortest line (pixels) along which a coarse image can be read: a line's samples,
#: every half pixel, are read from four of them (:func:`railwatch.detect.coarse.
#: estimate_occupancy`).
_READABLE_LINE_PX = 2.0


def _longest_line_m(tracks_wgs84: BaseGeometry, grid: _Grid) -> float:
    """The length (metres) of the longest of the site's track centrelines on ``grid``."""
    lines = tracks_to_pixels(tracks_wgs84, grid.crs, grid.transform)
    longest_px = max((float(line.length) for line in getattr(lines, "geoms", [lines])), default=0.0)
    return longest_px * float(grid.gsd)


def _no_track_read(gsd: float, longest_m: float | None = None) -> str:
    """Why a coarse scene has no count: not one sample along the site's track
    centrelines could be read; ``longest_m`` the longest centreline's length, which
    says when they are all too short to read at ``gsd`` (said as cloud or no data
    until 2026-12-06, session 40)."""
    what = (
        "car equivalents from occupied track length"
        if method_for_gsd(gsd) == "length"
        else f"whether a long train (at least {LONG_TRAIN_M:.0f} m of cars) is present"
    )
    if longest_m is not None and longest_m < _READABLE_LINE_PX * gsd:
        return (
            f"no track could be read in this {gsd:g} m image over the site: the site's track "
            f"centrelines are too short to read at this resolution (the longest is "
            f"{longest_m:.1f} m; a line needs at least {_READABLE_LINE_PX * gsd:g} m, "
            f"{_READABLE_LINE_PX:g} pixels). It cannot tell {what}, and is not counted (a 0 "
            "would read as an empty yard): draw each centreline along its track, from one "
            "end to the other, and give them to the site (`railwatch site edit SITE "
            "--tracks FILE`)."
        )
    return (
        f"no track could be read in this {gsd:g} m image over the site: the site's track "
        "centrelines lie wholly under cloud, haze or no data in it (or outside the image). "
        f"It cannot tell {what}, and is not counted (a 0 would read as an empty yard): "
        "use an image that shows the tracks clear, and check that the centrelines lie in "
        "the site."
    )


def count_scene(
    detections: Sequence[Detection],
    raster: RasterLike,
    quality: QualityLike,
    *,
    coarse: CoarseEstimate | None = None,
    tracks_wgs84: BaseGeometry | None = None,
    calibration: Calibration | None = None,
    sun: tuple[float, float] | None = None,
    track_shift_px: tuple[float, float] | None = None,
    site_empty: EmptyTrack | None = None,
    site_background: np.ndarray | None = None,
) -> SceneCount:
    """Count one scene over its site (see module docs). ``detections`` are in pixel
    coordinates of ``raster``. At 1.5 m and coarser, ``coarse`` is used, or computed
    from the raster (site pixels only) when not given, along the site's track
    centrelines ``tracks_wgs84`` when known (much more accurate). ``calibration`` (the
    detector's, when it has one) gives the count's interval. ``sun`` (azimuth, elevation
    in degrees, from the scene's metadata) lets the estimate drop shadows of strings on
    the next track. ``track_shift_px`` (columns, rows) moves the centrelines with the
    image's content where the scene was registered to its site's other images
    (:mod:`railwatch.imagery.register`). ``site_empty`` is the site's empty track from
    its other images (:func:`railwatch.detect.coarse.site_empty_track`), so a yard
    crowded with one kind of car does not take the cars for its empty track.
    ``site_background`` is, at 10 m and coarser, the site's other images' colours
    (:func:`railwatch.detect.coarse.site_background`): a long train is flagged only
    where it stands out against them too.

    A coarse scene whose given centrelines cannot be read anywhere (all under cloud,
    haze or no data) raises :class:`~railwatch.errors.DetectionError` instead of
    counting 0: nothing of the yard was seen. Without centrelines, a 1.5-10 m scene where
    no line is found, and any scene at 10 m and coarser (the long-train flag is read
    along given centrelines only), raise it too."""
    gsd = float(raster.grid.gsd)
    method = method_for_gsd(gsd)
    coverage = float(quality.coverage)
    clear = float(quality.clear_fraction)
    haze = float(getattr(quality, "haze_fraction", 0.0) or 0.0)
    if method != "objects":
        if coarse is None:
            site_px = np.asarray(raster.inside, dtype=bool)
            seen = np.asarray(raster.valid, dtype=bool) & site_px
            # the file's own pixels where the grid is resampled from them (its bilinear
            # warp read as haze: a clear 3 m scene half a pixel off the grid found no
            # track line; 2026-12-06, session 40, imagery.read.SiteRaster.sharp)
            sharp = getattr(raster, "sharp", None)
            pixels = raster.image if sharp is None else sharp
            valid = readable_pixels(pixels, seen, raster.mask, float(raster.grid.gsd))
            # where the grid is the file's own grid moved by a fraction of a pixel, the
            # length is read on the file's own pixels too, the lines moved onto them (as
            # `railwatch detect` reads the file): the grid's bilinear resampling blurs a
            # 1-px car, and simulated 3 m yards read within ±15 % on 20 of 30 as
            # delivered, 15 of 30 resampled a quarter or half a pixel off (session 41)
            on_sharp = getattr(raster, "sharp_shift", None) if method == "length" else None
            image = sharp if sharp is not None and on_sharp is not None else raster.image
            if image is raster.image:
                on_sharp = None
            tracks = None
            grid = raster.grid
            if tracks_wgs84 is not None and not tracks_wgs84.is_empty:
                tracks = tracks_to_pixels(tracks_wgs84, grid.crs, grid.transform)
                if track_shift_px is not None:
                    tracks = translate(tracks, xoff=track_shift_px[0], yoff=track_shift_px[1])
                if on_sharp is not None:
                    tracks = translate(tracks, xoff=on_sharp[0], yoff=on_sharp[1])
                # a cloud over the yard hides more of the track than of the site: the
                # interval allows for the part of the track not read
                share = track_share(tracks, valid, seen)
                if share is not None:
                    clear = min(clear, share)
            if sun is not None:
                sun = (pixel_azimuth(sun[0], grid.transform), sun[1])
            coarse = estimate_occupancy(
                image,
                gsd,
                valid,
                tracks,
                sun=sun,
                site_empty=site_empty,
                background=site_background,
                background_shift=track_shift_px or (0.0, 0.0),
                # the interval allows for the site's pixels without data, not for the
                # raster's pixels outside the site polygon (its bounding box)
                area=site_px,
            )
            if on_sharp is not None and coarse.runs:
                # where they lie on the grid: moved back from the file's pixels
                back = (-on_sharp[0], -on_sharp[1])
                coarse = replace(coarse, runs=tuple(r.translated(*back) for r in coarse.runs))
        given = tracks_wgs84 is not None and not tracks_wgs84.is_empty
        if coarse.track_m == 0.0 and tracks_wgs84 is not None and given:
            raise DetectionError(_no_track_read(gsd, _longest_line_m(tracks_wgs84, raster.grid)))
        if coarse.track_m == 0.0 and method == "length":
            # no centrelines given and no track line found: nothing was measured, and a 0
            # would read as an empty yard (at 10 m, below, nothing without centrelines)
            raise DetectionError(_no_track_found(gsd))
        if coarse.too_coarse:  # as assess_quality judges it: no flag measured there
            raise DetectionError(too_coarse_reason(gsd))
        if method == "presence" and not given:
            # lines found at 10 m never reach a train's length: no measurement
            raise DetectionError(_presence_needs_tracks(gsd))
        if method == "presence" and coarse.long_windows == 0:
            raise DetectionError(_no_train_length_read(gsd))
        if method == "presence":
            flag = 1.0 if coarse.present else 0.0
            return SceneCount(
                flag,
                flag,
                flag,
                {},
                0,
                "presence",
                coverage,
                track_m=coarse.track_m,
                tracks="given" if given else "found",
            )
        total = float(coarse.car_equivalents)
        low, high = float(coarse.low), float(coarse.high)
        high = _unseen_high(high, total, clear, haze)
        rounded = (round(total, 2), round(low, 2), round(high, 2))
        return SceneCount(
            *rounded,
            {"railcar": rounded},
            0,
            "length",
            coverage,
            empty_from=coarse.empty_from,
            track_m=coarse.track_m,
            tracks="given" if given else "found",
            occupied=coarse.runs,
        )
    # where the quality step measured the clear share of the site's tracks (or of where
    # its earlier images saw cars) and it is lower, the interval allows for that part
    # (session 39), as the coarse count allows for the part of the track not read
    places = getattr(quality, "places_clear", None)
    if places is not None:
        clear = min(clear, float(places))
    return count_detections(
        _centre_inside(detections, np.asarray(raster.inside, dtype=bool)),
        gsd=gsd,
        clear_fraction=clear,
        haze_fraction=haze,
        calibration=calibration,
        coverage=coverage,
    )
