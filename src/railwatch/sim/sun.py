"""Where the sun is, and which season it is, at a time and place.

Used by the Tumangang scenario (each visit's sun and season from its date) and by
:meth:`railwatch.sim.params.SceneParams.at` (``railwatch simulate --date``), so that a
scene's sun, shadows and season agree with the date in its STAC item.
"""

from __future__ import annotations

import math
from datetime import date, datetime


def solar_position(when: datetime, lon: float, lat: float) -> tuple[float, float]:
    """Sun elevation and azimuth (degrees, azimuth clockwise from north) at ``when``
    (UTC). Low-precision almanac formula, good to about a degree."""
    doy = when.timetuple().tm_yday
    hour = when.hour + when.minute / 60.0 + when.second / 3600.0
    g = 2.0 * math.pi / 365.0 * (doy - 1 + (hour - 12) / 24.0)
    eqtime = 229.18 * (
        0.000075
        + 0.001868 * math.cos(g)
        - 0.032077 * math.sin(g)
        - 0.014615 * math.cos(2 * g)
        - 0.040849 * math.sin(2 * g)
    )
    decl = (
        0.006918
        - 0.399912 * math.cos(g)
        + 0.070257 * math.sin(g)
        - 0.006758 * math.cos(2 * g)
        + 0.000907 * math.sin(2 * g)
        - 0.002697 * math.cos(3 * g)
        + 0.00148 * math.sin(3 * g)
    )
    tst = hour * 60.0 + eqtime + 4.0 * lon
    ha = math.radians(tst / 4.0 - 180.0)
    phi = math.radians(lat)
    cos_zen = math.sin(phi) * math.sin(decl) + math.cos(phi) * math.cos(decl) * math.cos(ha)
    zen = math.acos(max(-1.0, min(1.0, cos_zen)))
    elev = 90.0 - math.degrees(zen)
    az = math.degrees(
        math.atan2(math.sin(ha), math.cos(ha) * math.sin(phi) - math.tan(decl) * math.cos(phi))
    )
    return elev, (az + 180.0) % 360.0


def season_of(d: date, lat: float) -> str:
    """The meteorological season on day ``d`` at latitude ``lat``: December to February
    is winter in the north, June to August in the south."""
    m = d.month if lat >= 0 else (d.month + 5) % 12 + 1
    return {
        12: "winter",
        1: "winter",
        2: "winter",
        3: "spring",
        4: "spring",
        5: "spring",
        6: "summer",
        7: "summer",
        8: "summer",
    }.get(m, "autumn")
