"""Colours and labels shared by charts and chips, so a class looks the same everywhere."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

#: Colour-blind-friendly colours (Okabe–Ito and Tol palettes) per railcar class.
CLASS_COLOURS: Mapping[str, str] = {
    "boxcar": "#E69F00",
    "gondola": "#56B4E9",
    "hopper": "#009E73",
    "tank": "#F0E442",
    "flat": "#0072B2",
    "container": "#D55E00",
    "locomotive": "#CC79A7",
    "railcar": "#FF3366",  # type unsure: a bright outline that shows on any ground
}
OTHER_COLOUR = "#999999"
ALERT_COLOUR = "#C0392B"
INFO_ALERT_COLOUR = "#95A5A6"  # the info badge's grey
BASELINE_COLOUR = "#7F8C8D"
RECORD_COLOUR = "#8E44AD"
EVENT_COLOUR = "#2C3E50"
UNUSABLE_COLOUR = "#E67E22"
#: Car equivalents from occupied track length (1.5-10 m images): not cars seen one by one.
LENGTH_COLOUR = "#16A085"
#: An analyst's count (a scene review) on the chart, and their outlines on chips: a
#: colour no class has, bright on any ground.
ANALYST_COLOUR = "#00E5FF"
#: A length count's stretches of track read as occupied, on chips: a bright shade of
#: :data:`LENGTH_COLOUR` (the chart's colour of such counts), outlined in black.
OCCUPIED_COLOUR = "#1DE9B6"


def length_range() -> str:
    """The resolutions counted by occupied track length, e.g. ``1.5–10 m``: from
    :data:`~railwatch.detect.coarse.LENGTH_GSD` up to (not including)
    :data:`~railwatch.detect.coarse.PRESENCE_GSD`, where only a long train's presence is
    read. Until 2026-12-05 (session 32) the chart's legend and captions said 1.5-5 m,
    while the 5-10 m images (none in the demo) are counted that way too."""
    from railwatch.detect.coarse import LENGTH_GSD, PRESENCE_GSD  # cv2: imported when used

    return f"{LENGTH_GSD:g}\u2013{PRESENCE_GSD:g} m"


def car_equivalent_m() -> float:
    """The length of track (m) a count by occupied length reads as one car
    (:data:`~railwatch.detect.coarse.CONVENTIONAL_CAR_M`)."""
    from railwatch.detect.coarse import CONVENTIONAL_CAR_M  # cv2: imported when used

    return CONVENTIONAL_CAR_M


def class_colour(cls: str) -> str:
    """The colour of a class (grey for classes without an assigned colour)."""
    return CLASS_COLOURS.get(cls, OTHER_COLOUR)


def bar_colour(cls: str) -> str:
    """Chart colour of a class; cars of unsure type are grey bars."""
    return OTHER_COLOUR if cls in ("railcar", "unclassified") else class_colour(cls)


def class_order(classes: Iterable[str]) -> list[str]:
    """Classes sorted in the canonical order, unknown ones last alphabetically."""
    names = list(classes)
    known = [c for c in CLASS_COLOURS if c in names]
    return known + sorted(c for c in set(names) if c not in CLASS_COLOURS)
