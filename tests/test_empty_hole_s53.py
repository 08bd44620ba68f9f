"""Session 53 (2026-12-08): a GeoJSON polygon with an empty interior ring
(``[OUTER, []]``) killed the process. shapely reads the ring as an EMPTY hole, and
GEOS 3.14's relate (``equals``, ``contains``...) dereferences it: SIGSEGV. A site of
two parts, one with such a ring, ended ``railwatch site add`` and, sent by ``POST
/api/sites``, ``railwatch serve``. Such rings (nothing cut) are left out wherever
railwatch reads GeoJSON polygons: sites, review and truth outlines, STAC footprints."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import shapely

from railwatch.detect.geojson import from_feature_collection
from railwatch.sites import SiteSpec, geojson_shape, without_empty_holes
from railwatch.storage import Database, repo
from railwatch.storage.models import to_wkb

#: A yard-sized square near Tumangang, and a second one east of it.
A = [[130.60, 42.42], [130.61, 42.42], [130.61, 42.43], [130.60, 42.43], [130.60, 42.42]]
B = [[130.62, 42.42], [130.63, 42.42], [130.63, 42.43], [130.62, 42.43], [130.62, 42.42]]


def test_a_site_whose_part_has_an_empty_ring_is_judged_not_a_crash() -> None:
    # in a child process: before the fix, GEOS' relate killed it with SIGSEGV (status
    # -11) when a part with an empty ring was compared with another part (equals)
    code = (
        "import json, sys, shapely\n"
        "from railwatch.errors import GeometryError\n"
        "from railwatch.sites import site_from_geojson\n"
        "try:\n"
        "    site_from_geojson('dup', json.loads(sys.argv[1]))\n"
        "except GeometryError as err:\n"
        "    print(err)\n"
        "parts = site_from_geojson('two', json.loads(sys.argv[2])).geometry.geoms\n"
        "print(len(parts), int(shapely.get_num_interior_rings(parts).sum()))\n"
    )
    duplicate = {"type": "MultiPolygon", "coordinates": [[A, []], [A]]}
    two = {"type": "MultiPolygon", "coordinates": [[A, []], [B]]}
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(duplicate), json.dumps(two)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    said, parts = done.stdout.splitlines()
    assert "polygon 0 and polygon 1 are the same polygon" in said
    assert "remove the duplicate" in said
    assert parts.split() == ["2", "0"]


def test_outlines_and_stac_footprints_lose_their_empty_rings() -> None:
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [A, []]},
                "properties": {"class": "tank"},
            }
        ],
    }
    # (an outline's polygon was rebuilt from its exterior before too: kept so)
    cars = from_feature_collection(fc)
    assert len(cars.detections) == 1
    poly = cars.detections[0].polygon
    assert shapely.get_num_interior_rings(poly) == 0
    assert poly.equals_exact(shapely.Polygon(A), 1e-9)
    assert poly.buffer(1e-9).contains(shapely.Polygon(A))  # relate: the call that crashed

    from railwatch.stac import _footprint

    # a one-polygon footprint was kept as read, its EMPTY hole with it (a multipolygon's
    # is its convex hull, which has none): every later relate with the site crashed
    item = SimpleNamespace(geometry={"type": "Polygon", "coordinates": [A, [], []]})
    footprint = _footprint(item)
    assert shapely.get_num_interior_rings(footprint) == 0
    assert footprint.contains(shapely.Polygon(A).buffer(-0.001))


def test_only_empty_rings_are_left_out() -> None:
    hole = [[130.602, 42.422], [130.603, 42.422], [130.603, 42.423], [130.602, 42.422]]
    kept = shapely.Polygon(A, [hole])
    assert without_empty_holes(kept) is kept  # nothing to leave out: the same object
    out = geojson_shape({"type": "Polygon", "coordinates": [A, [], hole, []]})
    assert out.equals_exact(kept, 0)
    collection = geojson_shape(
        {
            "type": "GeometryCollection",
            "geometries": [
                {"type": "MultiPolygon", "coordinates": [[A, []], [B]]},
                {"type": "Point", "coordinates": [1, 2]},
            ],
        }
    )
    assert collection.equals_exact(
        shapely.GeometryCollection(
            [shapely.MultiPolygon([shapely.Polygon(A), shapely.Polygon(B)]), shapely.Point(1, 2)]
        ),
        0,
    )
    # a short ring is not empty: shapely refuses it, as before (no ring made up)
    with pytest.raises(ValueError):
        geojson_shape({"type": "Polygon", "coordinates": [A, [[130.602, 42.422]]]})


def test_a_site_stored_with_an_empty_hole_reads_without_it(tmp_path: Path) -> None:
    """Such a site was accepted and stored (one polygon with an empty ring) before
    session 53; read back, a relate on it crashed a later command."""
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        with db.session() as s:
            repo.add_site(s, SiteSpec(name="yard", geometry=shapely.Polygon(B)))
        stored = shapely.from_wkt(
            "POLYGON ((130.62 42.42, 130.63 42.42, 130.63 42.43, 130.62 42.43, 130.62 42.42), "
            "EMPTY)"
        )
        assert shapely.get_num_interior_rings(stored) == 1
        with db.session() as s:
            site = repo.get_site(s, "yard")
            site.geometry_wkb = to_wkb(stored)
        with db.session(readonly=True) as s:
            site = repo.get_site(s, "yard")
            assert shapely.get_num_interior_rings(site.geometry) == 0
            assert site.geometry.equals_exact(shapely.Polygon(B), 0)
    finally:
        db.dispose()


def test_a_shapely_site_with_an_empty_hole_is_cleaned_where_every_site_is_checked(
    tmp_path: Path,
) -> None:
    """Python callers give shapely polygons (``SiteSpec``, ``assess_file``'s site):
    ``assess_file`` with ``Polygon(ring, [[]])`` died in GEOS' segmentize (review of
    session 53). ``validate_site_geometry``, which every site passes, leaves it out."""
    from railwatch.sites import validate_site_geometry

    holed = shapely.Polygon(A, [[]])
    assert shapely.get_num_interior_rings(holed) == 1
    checked = validate_site_geometry(holed)
    assert shapely.get_num_interior_rings(checked) == 0
    db = Database(f"sqlite:///{tmp_path / 'py.db'}")
    try:
        with db.session() as s:
            repo.add_site(s, SiteSpec(name="yard", geometry=holed))
        with db.session(readonly=True) as s:
            stored = shapely.from_wkb(repo.get_site(s, "yard").geometry_wkb)
        assert shapely.get_num_interior_rings(stored) == 0
    finally:
        db.dispose()
