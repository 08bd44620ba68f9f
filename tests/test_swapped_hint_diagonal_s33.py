"""A site near the lat = lon diagonal is not said to be drawn as lat,lon for an image
next door (session 33).

Exchanged, such a site lands on its own neighbourhood: an image of the next yard,
under 1 km away, "would lie over the site if the site's longitude and latitude were
exchanged", and the analyst was told to add the site again with its numbers swapped.
An image within railwatch.ingest.SWAP_NEAR_M (10 km) of the site as it is, or the site's
own size, gets no swap verdict; a real swap far from the diagonal still gets one."""

from __future__ import annotations

from shapely.geometry import box

from railwatch.ingest import exchanged, swapped_site_hint


def test_an_image_of_the_next_yard_near_the_diagonal_is_no_swap() -> None:
    site = box(51.380, 51.360, 51.395, 51.370)  # lon 51.380-51.395, lat 51.360-51.370
    image = box(51.355, 51.375, 51.375, 51.400)  # the next yard, NW, 0.007° away
    assert not image.intersects(site) and exchanged(site).intersects(image)
    assert swapped_site_hint(image, site, "oral") is None
    # a real swap (Amsterdam drawn as lat,lon) is still named
    amsterdam = box(4.898, 52.378, 4.902, 52.382)
    drawn = exchanged(amsterdam)
    assert swapped_site_hint(amsterdam, drawn, "adam") is not None


def test_the_limit_is_ten_km_or_the_sites_own_size() -> None:
    from railwatch.ingest import SWAP_NEAR_M, swap_near_m

    near = box(30.00, 30.05, 30.01, 30.06)  # exchanged about 7 km away: within 10 km
    assert swapped_site_hint(box(30.05, 30.00, 30.06, 30.01), near, "n") is None
    far = box(30.00, 30.20, 30.01, 30.21)  # exchanged about 30 km away
    assert swapped_site_hint(box(30.20, 30.00, 30.21, 30.01), far, "f") is not None
    assert swap_near_m(far) == SWAP_NEAR_M
    # a site 0.6° across (about 90 km corner to corner) has its own size as the limit:
    # an image over its exchanged place 15 km from it is next door to it
    big = box(30.00, 30.70, 30.60, 31.30)
    assert swap_near_m(big) > 80_000.0
    piece = box(30.70, 30.55, 30.75, 30.60)  # over exchanged(big), about 15 km from big
    assert exchanged(big).intersects(piece) and not big.intersects(piece)
    assert swapped_site_hint(piece, big, "big") is None
