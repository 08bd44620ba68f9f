"""The parts of a multi-part site are measured between their nearest points (session 32,
review of the 100 km rule).

``sites._check_parts_near`` measured between the parts' representative points: two
strips of one rail corridor, each about 115 km long and 0.7 km apart end to end, were
refused as "lie 115 km apart", while the same corridor as one polygon was accepted.
Now the gap is the geodesic distance between the parts' nearest points, and the message
gives it."""

from __future__ import annotations

from typing import Any

import pytest
from pyproj import Geod
from shapely.geometry import MultiPolygon

from railwatch.errors import GeometryError
from railwatch.sites import MAX_PARTS_APART_KM, site_from_geojson

_GEOD = Geod(ellps="WGS84")
W, E = 10.000, 10.002  # a strip about 143 m wide at 50°N


def _strip(south: float, north: float, w: float = W, e: float = E) -> list[list[list[float]]]:
    return [[[w, south], [e, south], [e, north], [w, north], [w, south]]]


def _features(*rings: list[list[list[float]]]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": r}}
            for r in rings
        ],
    }


def _km(lat1: float, lat2: float) -> float:
    return float(_GEOD.inv(W, lat1, W, lat2)[2]) / 1000.0


def test_two_strips_of_one_corridor_are_one_site() -> None:
    a_n, b_s, b_n = 51.035, 51.0413, 52.076  # 115 km, 0.7 km gap, 115 km
    assert 114 < _km(50.0, a_n) < 116 and 0.65 < _km(a_n, b_s) < 0.75
    one = site_from_geojson("corridor", _features(_strip(50.0, b_n)))
    assert one.geometry.geom_type == "Polygon"  # as one polygon: accepted
    two = site_from_geojson("corridor", _features(_strip(50.0, a_n), _strip(b_s, b_n)))
    assert isinstance(two.geometry, MultiPolygon)
    assert len(two.geometry.geoms) == 2  # as two strips: accepted too


def test_parts_far_apart_say_the_measured_gap() -> None:
    gap = _km(51.035, 52.4)  # about 152 km between the strips' ends
    data = _features(_strip(50.0, 51.035), _strip(52.4, 53.0))
    with pytest.raises(GeometryError) as err:
        site_from_geojson("corridor", data)
    msg = str(err.value)
    assert f"feature 0 and feature 1 lie {gap:,.0f} km apart at their nearest points" in msg
    assert f"more than the {MAX_PARTS_APART_KM:,.0f} km" in msg


def test_the_gap_is_in_metres_not_degrees() -> None:
    """At 60°N 1.6° of longitude is 89 km (as degrees, 1.6 x 111 = 178 km): one site."""
    data = _features(
        _strip(60.0, 60.01, 10.0, 10.02),
        _strip(60.0, 60.01, 11.62, 11.64),
    )
    wide = site_from_geojson("wide", data).geometry
    assert isinstance(wide, MultiPolygon) and len(wide.geoms) == 2
    # 1.0° of latitude further apart at 60°N is 111 km: not
    data = _features(_strip(60.0, 60.01, 10.0, 10.02), _strip(61.01, 61.02, 10.0, 10.02))
    with pytest.raises(GeometryError, match=r"lie 111 km apart at their nearest points"):
        site_from_geojson("tall", data)


def test_a_chain_of_parts_is_one_site_and_a_group_apart_is_named() -> None:
    """Parts near one another through others are one site (as one polygon along them);
    a group beyond the limit from the rest is named by its nearest part."""
    chain = [_strip(50.0 + 0.5 * k, 50.0 + 0.5 * k + 0.4) for k in range(3)]  # 11 km gaps
    chained = site_from_geojson("chain", _features(*chain)).geometry
    assert isinstance(chained, MultiPolygon) and len(chained.geoms) == 3
    far = _strip(53.0, 53.2)  # 244 km from the last of the chain (its top at 51.4)
    with pytest.raises(GeometryError) as err:
        site_from_geojson("chain", _features(*chain, far))
    msg = str(err.value)
    assert f"feature 2 and feature 3 lie {_km(51.4, 53.0):,.0f} km apart" in msg
