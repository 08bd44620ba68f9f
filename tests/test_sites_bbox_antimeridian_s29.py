"""A --bbox across the antimeridian is refused with advice that works: one site on each
side of ±180°, with the two boxes to give. It said to use a GeoJSON MultiPolygon, which
is refused as well (a site's parts on both sides of ±180° span 360°)."""

from __future__ import annotations

import re

import pytest

from railwatch.errors import GeometryError
from railwatch.sites import parse_bbox, site_from_bbox


def test_the_advice_for_a_box_across_180_is_two_boxes_that_are_accepted() -> None:
    with pytest.raises(GeometryError) as info:
        parse_bbox("179.99,65,-179.99,65.01")
    message = str(info.value)
    assert "MultiPolygon" not in message
    boxes = re.findall(r"--bbox (\S+?)(?= and|$)", message)
    assert boxes == ["179.99,65,180,65.01", "-180,65,-179.99,65.01"]
    east, west = (site_from_bbox(f"part{i}", b) for i, b in enumerate(boxes))
    assert east.utm_crs == "EPSG:32660" and west.utm_crs == "EPSG:32601"


def test_a_box_with_west_and_east_swapped_is_not_sent_across_180() -> None:
    with pytest.raises(GeometryError) as info:
        parse_bbox("130.66,42.28,130.60,42.31")
    assert "west 130.66 is east of east 130.6" in str(info.value)
    assert "antimeridian" not in str(info.value)
