"""GIS-user audit of the exports (2026-12-05, session 34).

An analyst's outlines of a scene are stored in the scene's own CRS (``railwatch scene
review --cars``). A scene whose GeoTIFF is in lon/lat (EPSG:4326) or in Web Mercator
(EPSG:3857, as web basemaps and many downloads are) then has its outlines in degrees or
in Mercator metres (1.35 x true at 42 N), and the detections layer measured each
outline's ``length_m`` and ``width_m`` there: a 14 m x 3 m car exported as 0.00017 "m"
long, or as 18.9 m. The sizes (and the angle) are now measured in the site's UTM zone
where the native CRS is not a metric grid true to scale at the site.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import box, mapping

from railwatch.detect.base import OrientedBox
from railwatch.export.gis import export_site
from railwatch.export.layers import axis_angle, metric_sizes_in
from railwatch.review import cars_from_feature_collection
from railwatch.storage import Database, repo
from report_db import CAR_STEP, SITE_NAME, TRACK_Y, X0, populate, to_wgs84

CAR_L, CAR_W = 14.0, 3.0
#: The outlines' angle per scene CRS. A lon/lat scene's outlines are drawn along grid
#: east: the review stores an outline as the oriented rectangle fitted in the scene's CRS
#: (``detect.geojson.from_feature_collection``), which in degrees shears a rotated car
#: (14.65 m for a 14 m car at 30 degrees, 42 N): reported apart, not the export's doing.
ANGLES = {"EPSG:4326": 0.0, "EPSG:3857": 30.0, "EPSG:32652": 30.0}


def _outlines(n: int, angle_deg: float = 0.0) -> dict[str, Any]:
    """``n`` cars of 14 m x 3 m along the yard's track, lon/lat (RFC 7946)."""
    from shapely import affinity

    features = []
    for k in range(n):
        x = X0 + 70.0 + k * CAR_STEP
        body = box(x - CAR_L / 2, TRACK_Y - CAR_W / 2, x + CAR_L / 2, TRACK_Y + CAR_W / 2)
        body = affinity.rotate(body, angle_deg, origin="centroid")
        features.append(
            {
                "type": "Feature",
                "geometry": mapping(to_wgs84(body)),
                "properties": {"class": "tank", "covered": False},
            }
        )
    return {"type": "FeatureCollection", "features": features}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Database, dict[str, int]]:
    """The test yard with three reviewed scenes: one whose image is in lon/lat, one in
    Web Mercator, one in the site's UTM zone (as before)."""
    tmp = tmp_path_factory.mktemp("gis_s34")
    db = Database(f"sqlite:///{tmp / 'g.db'}")
    ids = populate(db, tmp / "scenes")["scene_ids"]
    chosen = {"EPSG:4326": ids[-1], "EPSG:3857": ids[-2], "EPSG:32652": ids[-4]}
    with db.session() as s:
        for crs, scene_id in chosen.items():
            scene = repo.get_scene(s, scene_id)
            scene.crs = crs  # the image's own CRS (its outlines are stored in it)
            s.flush()
            outlines = _outlines(4, angle_deg=ANGLES[crs])
            cars = cars_from_feature_collection(outlines, scene, scene.site)
            repo.set_scene_review(s, scene_id, cars=cars)
    return db, chosen


def _analyst_rows(folder: Path, scene_id: int) -> list[dict[str, Any]]:
    doc = json.loads((folder / "detections.geojson").read_text())
    return [
        f["properties"]
        for f in doc["features"]
        if f["properties"]["scene_id"] == scene_id and f["properties"]["source"] == "analyst"
    ]


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:3857", "EPSG:32652"])
def test_analyst_outline_sizes_are_metres_whatever_the_scene_crs(
    world: tuple[Database, dict[str, int]], tmp_path: Path, crs: str
) -> None:
    db, chosen = world
    out = export_site(db, SITE_NAME, "geojson", tmp_path / "gj")
    rows = _analyst_rows(out, chosen[crs])
    assert len(rows) == 4
    for row in rows:
        assert row["native_crs"] == crs  # the outline's own CRS is still named
        assert row["length_m"] == pytest.approx(CAR_L, abs=0.05), row
        assert row["width_m"] == pytest.approx(CAR_W, abs=0.05), row
        # counter-clockwise from grid east (the site's UTM grid, for 4326 and 3857)
        assert 0.0 <= row["angle_deg"] < 180.0  # the axis: 0 and 180 are one, said 0
        assert row["angle_deg"] == pytest.approx(ANGLES[crs], abs=0.5), row


def test_gpkg_analyst_sizes_match_the_geojson(
    world: tuple[Database, dict[str, int]], tmp_path: Path
) -> None:
    pyogrio = pytest.importorskip("pyogrio")
    db, chosen = world
    path = export_site(db, SITE_NAME, "gpkg", tmp_path / "yard.gpkg")
    frame = pyogrio.read_dataframe(path, layer="detections")
    analyst = frame[(frame["source"] == "analyst") & (frame["scene_id"] == chosen["EPSG:4326"])]
    assert len(analyst) == 4
    assert analyst["length_m"].between(CAR_L - 0.05, CAR_L + 0.05).all()


def test_axis_angle_is_below_180() -> None:
    assert axis_angle(OrientedBox(0.0, 0.0, 14.0, 3.0, -1e-9)) == 0.0  # read 180.0
    assert axis_angle(OrientedBox(0.0, 0.0, 14.0, 3.0, -30.0)) == 150.0
    assert axis_angle(OrientedBox(0.0, 0.0, 14.0, 3.0, 210.0)) == 30.0


def test_metric_sizes_in_tells_true_scale_grids_apart() -> None:
    lon, lat = 130.6, 42.42
    assert metric_sizes_in("EPSG:32652", lon, lat)  # the site's UTM zone
    assert metric_sizes_in("EPSG:32653", lon, lat)  # the next zone: 0.1 % off, still metric
    assert not metric_sizes_in("EPSG:4326", lon, lat)  # degrees
    assert not metric_sizes_in("EPSG:3857", lon, lat)  # Mercator: 1.35 x at 42 N
    assert not metric_sizes_in("EPSG:2263", lon, lat)  # US survey feet (New York)
    assert not metric_sizes_in("not a crs", lon, lat)


# --------------------------------------------------------------------------- report chips
# A site may be a MultiPolygon (two yards; ``sites.validate_site_geometry``) or have a
# hole. The chips drew the site's white dashed boundary only for a single Polygon (its
# exterior ring): a site of two yards had no boundary on its chips, a hole none either.


def _report_world(tmp: Path, geometry: Any) -> Any:
    """The test yard with its site's geometry replaced by ``geometry`` (UTM 52N), and
    the evidence of its record alert."""
    from railwatch.report import build_report_data
    from railwatch.storage.models import to_wkb

    db = Database(f"sqlite:///{tmp / 'r.db'}")
    populate(db, tmp / "scenes")
    with db.session() as s:
        site = repo.get_site(s, SITE_NAME)
        site.geometry_wkb = to_wkb(to_wgs84(geometry))
    data = build_report_data(db, SITE_NAME)
    ev = next(e for e in data.evidence if e.alert.key == "record-test")
    assert ev.after is not None and ev.before is not None
    return ev


def test_chips_draw_both_yards_of_a_two_part_site(tmp_path: Path) -> None:
    from shapely.geometry import MultiPolygon

    from railwatch.report.chips import has_outline, outline_rings
    from report_db import SITE_UTM

    minx, miny, maxx, maxy = SITE_UTM.bounds
    mid = (minx + maxx) / 2.0
    yards = MultiPolygon([box(minx, miny, mid - 10.0, maxy), box(mid + 10.0, miny, maxx, maxy)])
    ev = _report_world(tmp_path, yards)
    for chip in (ev.after, ev.before):
        assert has_outline(chip)
        rings = outline_rings(chip)
        assert len(rings) == 2  # one boundary per yard (none before)
        assert all(len(r) == 5 for r in rings)


def test_chips_draw_a_sites_hole(tmp_path: Path) -> None:
    from railwatch.report.chips import outline_rings
    from report_db import SITE_UTM

    minx, miny, _, _ = SITE_UTM.bounds
    hole = box(minx + 20.0, miny + 10.0, minx + 40.0, miny + 30.0)
    ev = _report_world(tmp_path, SITE_UTM.difference(hole))
    assert len(outline_rings(ev.after)) == 2  # the exterior and the hole


# ----------------------------------------------------------------- coverage across layers
# The scenes layer's ``coverage`` was the image footprint's share of the site as ingest
# measured it, the counts layer's (and the report's, the API's) the share its quality
# was judged on, which the unusable reasons quote: one field name, two values for one
# image (12 of the demo's 223 images, 0.2734 against 0.2732).


def test_scenes_and_counts_give_one_coverage_per_image(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'c.db'}")
    ids = populate(db, tmp_path / "scenes")["scene_ids"]
    with db.session() as s:
        scene = repo.get_scene(s, ids[-1])
        scene.coverage = 0.9  # the footprint, as ingest measured it
        scene.quality_coverage = 0.85  # as the quality was judged on the site's grid
    out = export_site(db, SITE_NAME, "geojson", tmp_path / "gj")
    layers = {
        name: {
            f["properties"]["scene_id"]: f["properties"]
            for f in json.loads((out / f"{name}.geojson").read_text())["features"]
        }
        for name in ("scenes", "counts")
    }
    scenes, counts = layers["scenes"], layers["counts"]
    assert scenes[ids[-1]]["coverage"] == counts[ids[-1]]["coverage"] == 0.85
    assert scenes[ids[-1]]["footprint_coverage"] == 0.9  # kept, under its own name
    assert all(scenes[i]["coverage"] == counts[i]["coverage"] for i in ids)


# ------------------------------------------------------------------------- day as a date
# Each layer's ``day`` (the image's local day at the site) was text in the GeoPackage and
# GeoParquet, while GDAL read the GeoJSON's as a date: one field, two types in QGIS, and
# no date filter on the GeoPackage. It is a DATE (GeoPackage, where pyogrio writes
# through Arrow) and a date32 (GeoParquet); the CSV and GeoJSON keep YYYY-MM-DD.


def test_gpkg_and_geoparquet_day_is_a_date(
    world: tuple[Database, dict[str, int]], tmp_path: Path
) -> None:
    import sqlite3

    pyogrio = pytest.importorskip("pyogrio")
    pq = pytest.importorskip("pyarrow.parquet")
    from railwatch.export.gis import _arrow_writes

    db, _ = world
    gpkg = export_site(db, SITE_NAME, "gpkg", tmp_path / "yard.gpkg")
    folder = export_site(db, SITE_NAME, "geoparquet", tmp_path / "pq")
    geojson = export_site(db, SITE_NAME, "geojson", tmp_path / "gj")
    con = sqlite3.connect(gpkg)
    try:
        for layer in ("scenes", "detections", "occupied_track", "counts"):
            types = {row[1]: row[2] for row in con.execute(f"pragma table_info({layer})")}
            if _arrow_writes(pyogrio):
                assert types["day"] == "DATE", layer
            else:  # an older pyogrio or GDAL: text, as before
                assert types["day"] == "TEXT", layer
            schema = pq.read_schema(folder / f"{layer}.parquet")
            assert str(schema.field("day").type) == "date32[day]", layer
        days = [r[0] for r in con.execute("select day from counts order by fid")]
    finally:
        con.close()
    counts = json.loads((geojson / "counts.geojson").read_text())["features"]
    assert days == [f["properties"]["day"] for f in counts]  # the same days, YYYY-MM-DD
    frame = pyogrio.read_dataframe(gpkg, layer="counts")
    assert frame["date"].dt.tz is not None  # times stay UTC with their zone


def test_gpkg_without_arrow_writes_the_day_as_text(
    world: tuple[Database, dict[str, int]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    pytest.importorskip("pyogrio")
    import railwatch.export.gis as gis

    monkeypatch.setattr(gis, "_arrow_writes", lambda _pyogrio: False)  # pyogrio < 0.8
    db, _ = world
    gpkg = export_site(db, SITE_NAME, "gpkg", tmp_path / "old.gpkg")
    con = sqlite3.connect(gpkg)
    try:
        types = {row[1]: row[2] for row in con.execute("pragma table_info(counts)")}
        days = [r[0] for r in con.execute("select day from counts")]
    finally:
        con.close()
    assert types["day"] == "TEXT" and all(len(d) == 10 for d in days)
