"""``railwatch export`` writes the stretches of track a 1.5-10 m image's length count read
as occupied (``repo.occupied_runs_of``, kept by ``railwatch process`` since session 30)
as the ``occupied_track`` layer: lines with the scene's id, date, sensor and GSD, each
stretch's length and car equivalents, in every GIS format (GeoPackage, GeoParquet,
GeoJSON). Images counted car by car add nothing; a site without any stretch has the
layer empty, as an empty detections layer is. Before, the evidence of a 3 m count was in
the database and the report only."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyproj import Geod
from shapely.geometry import LineString, MultiLineString, box, shape

from railwatch.cli.main import main
from railwatch.export.gis import export_site
from railwatch.export.layers import occupied_layer
from railwatch.storage import Database, repo

GSD = 3.0
CAR_M = 14.0
GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Database:
    """One yard seen by a 3 m image (a length count) and a 1 m one (cars one by one),
    processed; its site has the track centrelines."""
    from railwatch.imagery import inspect_scene
    from railwatch.ingest import ingest_paths
    from railwatch.pipeline import process_site
    from railwatch.sim import SceneParams, render_scene, write_scene
    from railwatch.sites import SiteSpec
    from test_detect_fakes import BrightBlobDetector
    from test_imagery_register import _site_tracks

    tmp = tmp_path_factory.mktemp("occupied")
    p = SceneParams(
        seed=20, layout_seed=7, size_px=(200, 200), gsd=GSD, n_cars=30,
        date=datetime(2023, 6, 1, 2, tzinfo=UTC),
    )  # fmt: skip
    coarse = write_scene(render_scene(p), tmp / "imgs", "coarse", preview=False).image
    fine = p.with_(gsd=1.0, size_px=(600, 600), seed=21, date=datetime(2023, 6, 9, 2, tzinfo=UTC))
    write_scene(render_scene(fine), tmp / "imgs", "fine", preview=False)
    db = Database(f"sqlite:///{tmp / 'rw.db'}")
    aoi = box(*inspect_scene(coarse).footprint.buffer(-0.001).bounds)
    with db.session() as s:
        repo.add_site(s, SiteSpec(name="yard", geometry=aoi, tracks=_site_tracks(p)))
    ingest_paths(db, "yard", [tmp / "imgs"])
    det = BrightBlobDetector()
    det.name, det.version = "fake", "1"
    assert len(process_site(db, "yard", detector=det).processed) == 2
    return db


def _scenes(db: Database) -> dict[str, tuple[int, float, float | None]]:
    """Each scene's method: its id, total count, and the length of its stored runs."""
    out = {}
    with db.session() as s:
        for scene in repo.list_scenes(s, "yard"):
            (total,) = [c for c in scene.counts if c.cls == "all"]
            runs = repo.occupied_runs_of(scene)
            length = None if runs is None else sum(r.length_m for r in runs)
            out[total.method] = (scene.id, float(total.count), length)
    return out


def test_geojson_has_the_length_scenes_stretches(site: Database, tmp_path: Path) -> None:
    scenes = _scenes(site)
    length_id, total, stored_m = scenes["length"]
    objects_id, _, objects_runs = scenes["objects"]
    assert stored_m and stored_m > 5 * CAR_M and objects_runs is None
    out = export_site(site, "yard", "geojson", tmp_path / "gj")
    fc = json.loads((out / "occupied_track.geojson").read_text(encoding="utf-8"))
    feats = fc["features"]
    assert fc["name"] == "occupied_track" and feats
    assert {f["properties"]["scene_id"] for f in feats} == {length_id}  # none of objects_id
    assert all(f["geometry"]["type"] == "LineString" for f in feats)
    props = feats[0]["properties"]
    columns = ("scene_id", "date", "day", "local_zone", "sensor", "gsd", "length_m")
    assert set(props) == {*columns, "car_equivalents"}  # local_zone since session 41
    assert props["gsd"] == GSD and props["date"].startswith("2023-06-01")
    assert sum(f["properties"]["length_m"] for f in feats) == pytest.approx(stored_m)
    # the car equivalents add up to the scene's count
    cars = sum(f["properties"]["car_equivalents"] for f in feats)
    assert cars == pytest.approx(total, abs=0.05)
    for f in feats:  # lon/lat, each as long on the ground as its length_m (about)
        line = shape(f["geometry"])
        lon, lat = line.coords[0]
        assert 129 < lon < 132 and 42 < lat < 43
        p = f["properties"]
        assert p["car_equivalents"] == pytest.approx(p["length_m"] / CAR_M)
        assert GEOD.geometry_length(line) == pytest.approx(p["length_m"], rel=0.05, abs=GSD)
    assert objects_id != length_id


def test_geopackage_and_geoparquet_have_the_line_layer(site: Database, tmp_path: Path) -> None:
    pyogrio = pytest.importorskip("pyogrio")
    pq = pytest.importorskip("pyarrow.parquet")
    length_id, _, stored_m = _scenes(site)["length"]
    path = export_site(site, "yard", "gpkg", tmp_path / "yard.gpkg")
    layers = {str(name): geom for name, geom in pyogrio.list_layers(path)}
    assert layers["occupied_track"] == "LineString"
    frame = pyogrio.read_dataframe(path, layer="occupied_track")
    assert set(frame["scene_id"]) == {length_id}
    assert frame["length_m"].sum() == pytest.approx(stored_m)
    assert str(frame["date"].dtype).startswith("datetime64")
    out = export_site(site, "yard", "geoparquet", tmp_path / "pq")
    schema = pq.read_schema(out / "occupied_track.parquet")
    geo = json.loads(schema.metadata[b"geo"])
    assert geo["columns"]["geometry"]["geometry_types"] == ["LineString"]
    table = pq.read_table(out / "occupied_track.parquet")
    assert sum(table.column("length_m").to_pylist()) == pytest.approx(stored_m)


def test_a_site_without_stretches_has_the_layer_empty(tmp_path: Path) -> None:
    """The report database: images counted car by car only. The layer is there, empty,
    as the detections layer of a site without cars."""
    pyogrio = pytest.importorskip("pyogrio")
    from report_db import populate

    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    populate(db, tmp_path / "scenes")
    out = export_site(db, "testyard", "geojson", tmp_path / "gj")
    fc = json.loads((out / "occupied_track.geojson").read_text(encoding="utf-8"))
    assert fc == {"type": "FeatureCollection", "name": "occupied_track", "features": []}
    path = export_site(db, "testyard", "gpkg", tmp_path / "yard.gpkg")
    layers = {str(name): geom for name, geom in pyogrio.list_layers(path)}
    assert layers["occupied_track"] == "LineString"
    assert len(pyogrio.read_dataframe(path, layer="occupied_track")) == 0
    db.dispose()


def test_the_cli_writes_the_layer(site: Database, tmp_path: Path) -> None:
    out = tmp_path / "cli-gj"
    assert main(["--db", str(site.url), "export", "yard", "-f", "geojson", "-o", str(out)]) == 0
    assert json.loads((out / "occupied_track.geojson").read_text())["features"]


class _Scene:
    """What :func:`occupied_layer` reads of a scene."""

    def __init__(self, status: str, usable: bool | None, runs: list[list[list[float]]]) -> None:
        self.id, self.status, self.usable = 7, status, usable
        self.acquired_at = datetime(2024, 1, 2, tzinfo=UTC)
        self.sensor, self.gsd = "sim", 3.0
        runs_meta = [{"length_m": 42.0, "coordinates": c} for c in runs]
        self.meta = {repo.COARSE_KEY: {"tracks": "given", "track_m": 500.0, "occupied": runs_meta}}


def test_a_stretch_across_the_antimeridian_is_split_there() -> None:
    """Stored as transformed, a stretch from 179.9998° to -179.9998° would be a line
    round the whole Earth: split at 180°, the layer then MultiLineString."""
    across = [[179.9996, -16.5], [179.9998, -16.5], [-179.9998, -16.5]]
    plain = [[178.0, -16.5], [178.001, -16.5]]
    layer = occupied_layer([_Scene("processed", True, [across, plain])])  # type: ignore[list-item]
    assert layer.geometry_type == "MultiLineString" and layer.geometries is not None
    split, kept = layer.geometries
    assert isinstance(split, MultiLineString) and len(split.geoms) == 2
    assert all(-180 <= x <= 180 for g in split.geoms for x, _ in g.coords)
    assert split.length == pytest.approx(0.0006, abs=1e-9)  # not 360 degrees
    assert isinstance(kept, LineString) and list(kept.coords) == [tuple(c) for c in plain]


def test_only_counted_images_have_stretches() -> None:
    """A scene whose count is gone (failed since, or pending again) keeps nothing in the
    layer, whatever is left in its metadata."""
    run = [[130.0, 42.0], [130.001, 42.0]]
    assert occupied_layer([_Scene("processed", True, [run])]).records  # type: ignore[list-item]
    for status, usable in (("failed", None), ("ingested", None), ("processed", False)):
        layer = occupied_layer([_Scene(status, usable, [run])])  # type: ignore[list-item]
        assert layer.records == () and layer.geometry_type == "LineString"
