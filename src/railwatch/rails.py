"""Track geometry the rail scale (:mod:`railwatch.imagery.scale`) is measured by, in a
module without numpy or OpenCV: the CLI's help (``railwatch scale --help``) and the
scale's messages give the coarsest measurable scale from these constants, so they say
the same figure (2026-12-05, session 33: the help said "about 0.37 m", the messages
0.38 m; 1.505 m / 4 px = 0.376 m)."""

from __future__ import annotations

__all__ = [
    "BROAD_GAUGE_RAIL_CENTRES_M",
    "CAR_WIDTH_M",
    "LENGTH_GSD",
    "MIN_SPACING_PX",
    "PRESENCE_GSD",
    "RAIL_CENTRES_M",
    "RAIL_HEAD_M",
    "TRACK_DISTANCE_M",
    "coarsest_measurable_m",
]

#: Width of a rail head (m): about 70 mm (UIC 60: 72 mm; S49: 67 mm).
RAIL_HEAD_M = 0.070
#: Distance between the centres of the two rail heads of standard-gauge track: gauge
#: 1435 mm (measured between the inner faces of the heads) plus one rail-head width
#: -> about 1.505 m.
RAIL_CENTRES_M = 1.435 + RAIL_HEAD_M
#: The same for 1520 mm (Russian) gauge: about 1.59 m (DOMAIN.md: Tumangang has both).
BROAD_GAUGE_RAIL_CENTRES_M = 1.520 + RAIL_HEAD_M
#: Closest rail spacing (pixels) measured: closer lines blur into each other (at
#: 0.4 m per pixel the rails are 3.8 px apart).
MIN_SPACING_PX = 4.0
#: Width of a car body (metres): the corridor along a track centreline in which cars
#: stand (:mod:`railwatch.imagery.places`), and the reach of a car's shadow
#: (:mod:`railwatch.detect.coarse`).
CAR_WIDTH_M = 3.2
#: Where track centrelines are given (a site's, ``railwatch detect --tracks``), a railcar
#: detected car by car counts only if its centre lies within this distance of one: half
#: a car's width, the lean of its roof in an oblique view and the misregistration of
#: commercial imagery (several metres) all fit inside it, while lorries, roofs and trees
#: away from the tracks do not (:func:`railwatch.counting.near_tracks`,
#: :func:`railwatch.detect.api.detect_file`).
TRACK_DISTANCE_M = 10.0
#: GSD (metres) from which cars are not separable: occupied length instead of objects
#: (:mod:`railwatch.detect.coarse`); finer, cars are counted one by one
#: (:mod:`railwatch.imagery.quality`, :mod:`railwatch.imagery.effective`).
LENGTH_GSD = 1.5
#: GSD (metres) from which only the presence of long trains is read (:mod:`railwatch.
#: detect.coarse`); from :data:`LENGTH_GSD` below it, the occupied track length
#: (:mod:`railwatch.imagery.quality`'s reasons say the same).
PRESENCE_GSD = 10.0


def coarsest_measurable_m(rail_centres_m: float = RAIL_CENTRES_M) -> float:
    """The coarsest scale (metres per pixel) at which the rails of a track are
    :data:`MIN_SPACING_PX` apart: about 0.38 m on standard gauge, 0.40 m on 1520 mm."""
    return rail_centres_m / MIN_SPACING_PX
