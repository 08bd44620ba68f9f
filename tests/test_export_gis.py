"""GIS exports opened with the libraries a user would: pyogrio/GeoPandas, pyarrow, pandas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely

from railwatch.errors import InputError, NotFoundError
from railwatch.export.gis import export_site
from railwatch.storage import Database, repo
from report_db import PLANS, SITE_UTM, populate, to_wgs84

N_DETECTIONS = sum(p.n for p in PLANS if p.usable)
LAYERS = {"sites", "scenes", "detections", "occupied_track", "counts"}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Database:
    tmp = tmp_path_factory.mktemp("gis")
    database = Database(f"sqlite:///{tmp / 'rw.db'}")
    populate(database, tmp / "scenes")
    return database


def _stored_detections(db: Database) -> dict[int, Any]:
    with db.session() as s:
        out = {}
        for sc in repo.list_scenes(s, "testyard"):
            for d in repo.list_detections(s, sc.id):
                out[d.id] = d.geometry
        return out


def test_geopackage_layers_open_with_pyogrio_and_geopandas(db: Database, tmp_path: Path) -> None:
    pyogrio = pytest.importorskip("pyogrio")
    gpd = pytest.importorskip("geopandas")
    path = export_site(db, "testyard", "gpkg", tmp_path / "yard.gpkg")
    layers = {str(name): geom for name, geom in pyogrio.list_layers(path)}
    assert set(layers) == LAYERS
    assert layers["detections"] == "Polygon" and layers["counts"] is None

    site = gpd.read_file(path, layer="sites")
    assert list(site["name"]) == ["testyard"] and site.crs.to_epsg() == 4326
    assert site.geometry.iloc[0].equals_exact(to_wgs84(SITE_UTM), 1e-9)

    scenes = gpd.read_file(path, layer="scenes")
    assert len(scenes) == len(PLANS)
    assert str(scenes["acquired"].dtype).startswith("datetime64")
    assert scenes["usable"].sum() == sum(p.usable for p in PLANS)

    dets = gpd.read_file(path, layer="detections")
    assert len(dets) == N_DETECTIONS
    for col in (
        "cls",
        "score",
        "covered",
        "covered_score",
        "inside",
        "acquired",
        "scene_id",
        "length_m",
        "width_m",
        "angle_deg",
    ):
        assert col in dets.columns
    assert set(dets["cls"]) == {"gondola", "tank", "boxcar"}
    assert dets["length_m"].to_numpy() == pytest.approx(14.0, abs=1e-3)
    assert dets["width_m"].to_numpy() == pytest.approx(3.2, abs=1e-3)
    stored = _stored_detections(db)
    for det_id, geom in zip(dets["detection_id"], dets.geometry, strict=True):
        # the stored polygon, vertex for vertex (its ring turned counter-clockwise)
        assert shapely.normalize(geom).equals_exact(shapely.normalize(stored[int(det_id)]), 1e-12)

    counts = pyogrio.read_dataframe(path, layer="counts")
    assert len(counts) == len(PLANS)
    unusable = counts[counts["usable"] == 0]
    assert len(unusable) == 2 and unusable["count"].isna().all()  # gaps, not zeros
    assert counts["count"].max() == 18


def test_geoparquet_follows_the_spec(db: Database, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    out = export_site(db, "testyard", "geoparquet", tmp_path / "pq")
    assert {p.stem for p in out.glob("*.parquet")} == LAYERS
    for layer in ("sites", "scenes", "detections"):
        schema = pq.read_schema(out / f"{layer}.parquet")
        geo = json.loads(schema.metadata[b"geo"])
        assert geo["version"] == "1.1.0"
        assert geo["primary_column"] == "geometry"
        col = geo["columns"]["geometry"]
        assert col["encoding"] == "WKB"
        assert col["geometry_types"] in (["Polygon"], ["MultiPolygon"])
        assert len(col["bbox"]) == 4
        assert str(schema.field("geometry").type) == "binary"
    table = pq.read_table(out / "detections.parquet")
    geoms = shapely.from_wkb(np.asarray(table.column("geometry").to_pylist(), dtype=object))
    stored = _stored_detections(db)
    ids = table.column("detection_id").to_pylist()
    assert len(ids) == N_DETECTIONS
    assert all(
        shapely.normalize(g).equals_exact(shapely.normalize(stored[i]), 1e-12)
        for g, i in zip(geoms, ids, strict=True)
    )
    counts = pq.read_table(out / "counts.parquet")
    assert counts.schema.metadata is None or b"geo" not in counts.schema.metadata
    assert counts.num_rows == len(PLANS)
    assert str(counts.schema.field("date").type).startswith("timestamp")


def test_geojson_directory(db: Database, tmp_path: Path) -> None:
    out = export_site(db, "testyard", "geojson", tmp_path / "gj")
    docs = {p.stem: json.loads(p.read_text()) for p in out.glob("*.geojson")}
    assert set(docs) == LAYERS
    dets = docs["detections"]
    assert dets["type"] == "FeatureCollection" and len(dets["features"]) == N_DETECTIONS
    f = dets["features"][0]
    assert f["geometry"]["type"] == "Polygon"
    lon, lat = f["geometry"]["coordinates"][0][0]
    assert 129 < lon < 131 and 42 < lat < 43  # lon/lat order (RFC 7946)
    assert f["properties"]["acquired"].startswith("2022-")
    assert all(c["geometry"] is None for c in docs["counts"]["features"])
    # RFC 7946 section 3.1.6: exterior rings counter-clockwise
    for layer in ("detections", "scenes", "sites"):
        rings = [f["geometry"]["coordinates"][0] for f in docs[layer]["features"]]
        assert rings and all(shapely.LinearRing(r).is_ccw for r in rings), layer


def test_csv_loads_into_pandas_in_one_line(db: Database, tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    path = export_site(db, "testyard", "csv", tmp_path / "counts.csv")
    df = pd.read_csv(path, parse_dates=["date"])
    assert str(df["date"].dtype).startswith("datetime64")
    assert len(df) == len(PLANS)
    assert df["count"].isna().sum() == 2
    assert {"count_gondola", "count_tank", "count_boxcar", "covered", "low", "high"} <= set(df)
    last = df.iloc[-1]
    assert last["count"] == 18 and last["count_tank"] == 6 and last["covered"] == 6


def test_export_overwrites_and_validates(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    export_site(db, "testyard", "csv", path)
    first = path.read_text()
    export_site(db, "testyard", "csv", path)
    assert path.read_text() == first
    with pytest.raises(InputError, match="unknown export format"):
        export_site(db, "testyard", "shp", tmp_path / "x")
    with pytest.raises(NotFoundError):
        export_site(db, "nowhere", "csv", tmp_path / "y.csv")
    with pytest.raises(InputError, match="is a directory"):
        export_site(db, "testyard", "csv", tmp_path)
