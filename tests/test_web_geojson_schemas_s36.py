"""The GeoJSON answers are declared in ``/openapi.json`` as what they are (2026-12-06,
session 36): ``/api/scenes/{id}/detections``, ``/occupied`` and ``/cars`` declared
``application/geo+json`` with no schema at all (session 35 gave every JSON answer its
schema, not these), and the geometries inside JSON answers (a site's outline and
tracks, a scene's footprint, a review's outlines) were "an object".

Each answer of a seeded database (a 3 m yard of the real pipeline with its occupied
runs, the API tests' 0.5 m site with an analyst's outlines) is validated against the
schema its operation declares for the media type it was sent as, with every object's
undeclared members refused; a car and a stretch of track across 180° (MultiPolygon,
MultiLineString) too. The bodies themselves did not change (compared byte for byte
before and after: docs/web.md, "Response schemas").
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
import jsonschema_rs
from fastapi.testclient import TestClient
from pydantic import SecretStr
from shapely.geometry import Polygon

from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.web.app import create_app
from railwatch.web.routes.detections import _features, _run_geometry
from test_web_occupied_s30 import build
from test_web_qa24_antimeridian_cars import _row
from test_web_response_schemas_s35 import _closed, _schema

TOKEN = "geojson-s36"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
GEOJSON = "application/geo+json"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp: Path = tmp_path_factory.mktemp("geojson-s36")
    db = Database(f"sqlite:///{tmp / 'w.db'}")
    ids = build(db, tmp)
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp / "cache")
    app = create_app(settings, db)
    with TestClient(app) as client:
        objects = ids["objects"]["scene_ids"]
        # an analyst's outlines (one car fewer) of one scene, a count of another
        cars = client.get(f"/api/scenes/{objects[4]}/cars").json()
        cars["features"] = cars["features"][1:]
        r = client.put(f"/api/scenes/{objects[4]}/review", json={"cars": cars}, headers=AUTH)
        assert r.status_code == 201, r.text
        counts = {"counts": {"all": 9}}
        r = client.put(f"/api/scenes/{objects[3]}/review", json=counts, headers=AUTH)
        assert r.status_code == 201, r.text
        yield {**ids, "client": client, "app": app, "outlined": objects[4]}
    db.dispose()


def _geo_urls(w: dict[str, Any]) -> list[str]:
    objects = w["objects"]["scene_ids"]
    urls = []
    for sid in [*objects, *w["yard"].values()]:
        urls += [f"/api/scenes/{sid}/detections", f"/api/scenes/{sid}/occupied"]
    for sid in objects:  # an unusable image's cars are a 422, not a file
        urls += [f"/api/scenes/{sid}/cars", f"/api/scenes/{sid}/cars?source=detector"]
    o = w["outlined"]
    urls += [
        f"/api/scenes/{o}/detections?source=analyst",
        f"/api/scenes/{o}/detections?source=analyst&class=tank&limit=2&offset=1",
        f"/api/scenes/{o}/detections?covered=true&inside=true&limit=3",
        f"/api/scenes/{o}/cars?source=analyst",
    ]
    return urls


def _geo_schema(spec: dict[str, Any], path: str) -> dict[str, Any]:
    """The schema ``spec`` declares for the 200 GeoJSON answer of GET ``path``."""
    saved = copy.deepcopy(spec)
    for item in saved["paths"].values():  # _schema reads the application/json content
        for op in item.values():
            ok = op.get("responses", {}).get("200", {}).get("content", {})
            if GEOJSON in ok:
                ok["application/json"] = ok[GEOJSON]
    return _schema(saved, "GET", path, 200)


def test_every_geojson_answer_matches_its_declared_schema(world: dict[str, Any]) -> None:
    c: TestClient = world["client"]
    spec = _closed(copy.deepcopy(world["app"].openapi()))
    failures: list[str] = []
    seen: dict[str, int] = {}
    for url in _geo_urls(world):
        r = c.get(url, headers=AUTH)
        if "/cars" in url and r.status_code == 422:
            continue  # the unusable image: no file (checked elsewhere)
        assert r.status_code == 200, (url, r.text)
        assert r.headers["content-type"] == GEOJSON, url
        body = r.json()
        path = url.split("?")[0]
        validator = jsonschema_rs.validator_for(_geo_schema(spec, path))
        failures += [
            f"{url}: {e.message} at {list(e.instance_path)}"
            for e in list(validator.iter_errors(body))[:3]
        ]
        for f in body["features"]:
            kind = f"{path.rsplit('/', 1)[1]} {f['geometry']['type']}"
            seen[kind] = seen.get(kind, 0) + 1
    assert not failures, "\n".join(failures)
    # the answers held every kind of feature there is
    assert {"detections Polygon", "occupied LineString", "cars Polygon"} <= set(seen), seen


def test_a_wrong_geojson_answer_is_refused_by_its_schema(world: dict[str, Any]) -> None:
    """The schemas say something: a car without its class, a feature that is no
    Feature, a polygon as a line, a ring of three positions, a line of one point, a
    member missing or one the API does not send are refused."""
    c: TestClient = world["client"]
    spec = _closed(copy.deepcopy(world["app"].openapi()))
    sid = world["objects"]["scene_ids"][4]
    body = c.get(f"/api/scenes/{sid}/detections").json()
    validator = jsonschema_rs.validator_for(_geo_schema(spec, f"/api/scenes/{sid}/detections"))
    assert validator.is_valid(body)
    for broken in (
        lambda b: b["features"][0]["properties"].pop("class"),
        lambda b: b["features"][0].update(type="Point"),
        lambda b: b["features"][0]["geometry"].update(type="LineString"),
        lambda b: b["features"][0]["geometry"]["coordinates"][0].__delitem__(slice(3, None)),
        lambda b: b.pop("numberMatched"),
        lambda b: b.update(extra=1),
    ):
        wrong = copy.deepcopy(body)
        broken(wrong)
        assert not validator.is_valid(wrong)
    run = world["yard"]["runs"]
    body = c.get(f"/api/scenes/{run}/occupied").json()
    validator = jsonschema_rs.validator_for(_geo_schema(spec, f"/api/scenes/{run}/occupied"))
    assert validator.is_valid(body) and body["features"]
    line = body["features"][0]["geometry"]
    line["coordinates"] = line["coordinates"][:1]
    assert not validator.is_valid(body)


def test_features_across_180_match_the_declared_geometries(world: dict[str, Any]) -> None:
    spec = _closed(copy.deepcopy(world["app"].openapi()))
    components = {"components": spec["components"]}
    across = Polygon(
        [(179.99995, -16.8), (-179.9999, -16.8), (-179.9999, -16.80003), (179.99995, -16.80003)]
    )
    car = _features([_row(1, across)])[0]
    assert car["geometry"]["type"] == "MultiPolygon"
    car_schema = {"$ref": "#/components/schemas/DetectorCar", **components}
    assert jsonschema_rs.validator_for(car_schema).is_valid(car)
    line = _run_geometry(((179.9995, -16.8), (-179.9995, -16.8)))
    assert line["type"] == "MultiLineString"
    run = {
        "type": "Feature",
        "id": 1,
        "geometry": line,
        "properties": {"method": "length", "length_m": 200.0, "car_equivalents": 14.29},
    }
    run_schema = {"$ref": "#/components/schemas/OccupiedRun", **components}
    assert jsonschema_rs.validator_for(run_schema).is_valid(run)


def test_geometries_inside_json_answers_are_declared_as_geojson(world: dict[str, Any]) -> None:
    """A site's outline and tracks, a scene's footprint and a review's outlines: GeoJSON
    geometries and features in their schemas, no longer "an object"."""
    c: TestClient = world["client"]
    spec = _closed(copy.deepcopy(world["app"].openapi()))
    o = world["outlined"]
    yard_scene = world["yard"]["runs"]
    answers = {
        "/api/sites/yard": c.get("/api/sites/yard").json(),
        f"/api/scenes/{yard_scene}": c.get(f"/api/scenes/{yard_scene}").json(),
        f"/api/scenes/{o}/review": c.get(f"/api/scenes/{o}/review?outlines=true").json(),
    }
    assert answers["/api/sites/yard"]["tracks"]["type"] == "MultiLineString"
    assert answers[f"/api/scenes/{o}/review"]["features"]
    for path, body in answers.items():
        validator = jsonschema_rs.validator_for(_schema(spec, "GET", path, 200))
        errors = [e.message for e in validator.iter_errors(body)]
        assert not errors, (path, errors[:3])
        wrong = copy.deepcopy(body)
        key = "features" if "review" in path else "geometry" if "sites" in path else "footprint"
        if key == "features":
            wrong[key][0]["properties"]["source"] = "detector"
        else:
            wrong[key] = {"type": "Point", "coordinates": [130.6, 42.4]}
        assert not validator.is_valid(wrong), path
    schemas = spec["components"]["schemas"]
    for model, member in (("Site", "geometry"), ("Site", "tracks"), ("Scene", "footprint")):
        declared = schemas[model]["properties"][member]
        assert "GeoJSON" in str(declared.get("anyOf", declared)), (model, member, declared)


def test_every_geojson_operation_names_its_schema(world: dict[str, Any]) -> None:
    """No answer sent as application/geo+json is declared without a schema (or as a
    bare string, FastAPI's default for a non-JSON response class)."""
    spec = world["app"].openapi()
    found = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for status, answer in op.get("responses", {}).items():
                content = answer.get("content", {})
                if GEOJSON not in content:
                    continue
                found.append(f"{method.upper()} {path}")
                schema = content[GEOJSON].get("schema") or {}
                assert "$ref" in schema, (method, path, status, schema)
                assert "application/json" not in content, (method, path, status)
    assert sorted(found) == [
        "GET /api/scenes/{scene_id}/cars",
        "GET /api/scenes/{scene_id}/detections",
        "GET /api/scenes/{scene_id}/occupied",
    ]


def test_the_reference_page_names_each_answers_media_type_and_schema(
    world: dict[str, Any],
) -> None:
    """/docs named an answer's headers only: a GeoJSON or CSV answer read as any other."""
    import re

    page = world["client"].get("/docs").text
    ops = {
        m.group(1): m.group(0)
        for m in re.finditer(
            r'<section class="op"[^>]*>.*?<code>([^<]+)</code>.*?</section>', page, re.S
        )
    }
    detections = ops["/api/scenes/{scene_id}/detections"]
    assert "(application/geo+json DetectionCollection) (headers: X-Total-Count, Link)" in (
        detections
    )
    assert "(application/geo+json OccupiedCollection)" in ops["/api/scenes/{scene_id}/occupied"]
    assert "(application/geo+json CarFile)" in ops["/api/scenes/{scene_id}/cars"]
    assert "(text/csv; application/json CountSeries)" in ops["/api/sites/{site}/counts"]
    assert "(application/problem+json Problem)" in ops["/api/sites/{site}/counts"]
