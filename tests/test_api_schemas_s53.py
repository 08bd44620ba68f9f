"""The request rules of five operations, declared in ``/openapi.json`` (2026-12-08,
session 53).

Schemathesis (session 51) reported that ``GET /api/sites/{site}/alerts``, ``PATCH
/api/events/{event_id}``, ``PATCH /api/sites/{site}``, ``POST /api/sites`` and ``PUT
/api/scenes/{scene_id}/review`` mostly refused the requests it generated from the
document: the core refused what the document allowed (``{}`` as a change, both or
neither of an "exactly one of" pair, any ``type`` for GeoJSON, any text as a date, a
kind or a class, control characters, a class name a review cannot give). The document
now declares these rules (patterns, enums, ``oneOf``, ``minProperties``, GeoJSON
shapes); the values are still checked by the core with its messages.

Each test checks that the document declares a rule, that a value at the rule's edge
which the API accepted is still accepted (and is valid under the declared schema), and
that a value the API refuses gets the core's clear message (and is invalid under the
declared schema). The declared rules are never stricter than the core: random text and
GeoJSON the core accepts all validate (``jsonschema_rs``, ECMA-262 regular
expressions as a client's validator reads them).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

import jsonschema_rs
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from railwatch import limits
from railwatch.analysis.types import ALERT_KINDS
from railwatch.detect.base import ALL_CLASSES
from railwatch.errors import GeometryError, InputError
from railwatch.settings import Settings
from railwatch.sites import (
    MAX_SITE_AREA_KM2,
    MIN_SITE_AREA_M2,
    NULL_ISLAND_DEG,
    load_tracks_of_stored_site,
    site_from_geojson,
    validate_name,
)
from railwatch.storage import Database
from railwatch.storage.alert_filter import parse_changed_since, parse_kinds, parse_when
from railwatch.web import schemas
from railwatch.web.app import create_app
from web_db import populate

TOKEN = "api-schemas-s53"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SITE = "schemas53"
BBOX = [130.6, 42.41, 130.61, 42.42]
LINE = {"type": "LineString", "coordinates": [[130.601, 42.415], [130.609, 42.415]]}
RING = [[130.6, 42.41], [130.61, 42.41], [130.61, 42.42], [130.6, 42.42], [130.6, 42.41]]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp: Path = tmp_path_factory.mktemp("api-schemas-s53")
    db = Database(f"sqlite:///{tmp / 'w.db'}")
    ids = populate(db, tmp / "img")
    cfg = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp / "cache")
    app = create_app(cfg, db)
    with TestClient(app) as client:
        r = client.post("/api/sites", json={"name": SITE, "bbox": BBOX}, headers=AUTH)
        assert r.status_code == 201, r.text
        r = client.post(
            f"/api/sites/{SITE}/events",
            json={"date": "2023-09-13", "label": "summit"},
            headers=AUTH,
        )
        assert r.status_code == 201, r.text
        doc = client.get("/openapi.json").json()
        yield {**ids, "client": client, "doc": doc, "event": r.json()["id"]}
    db.dispose()


def _body_schema(world: dict[str, Any], name: str) -> dict[str, Any]:
    out: dict[str, Any] = world["doc"]["components"]["schemas"][name]
    return out


def _query_schema(world: dict[str, Any], name: str) -> dict[str, Any]:
    op = world["doc"]["paths"]["/api/sites/{site}/alerts"]["get"]
    (param,) = [p for p in op["parameters"] if p["name"] == name]
    out: dict[str, Any] = param["schema"]
    return out


def _valid(schema: dict[str, Any], value: Any) -> bool:
    return bool(jsonschema_rs.validator_for(schema).is_valid(value))


def _detail(r: Any) -> str:
    assert r.status_code == 422, (r.status_code, r.text)
    return str(r.json()["detail"])


# ------------------------------------------------------- GET /api/sites/{site}/alerts


@pytest.mark.parametrize("name", ["since", "until", "changed_since"])
def test_alert_times_declare_their_pattern(world: dict[str, Any], name: str) -> None:
    schema = _query_schema(world, name)
    assert schema["pattern"] == schemas.WHEN
    client = world["client"]
    # the edges: a date alone, a time with its zone, surrounding spaces (stripped)
    for value in ("2023-10-05", "2023-10-05T02:30:00+09:00", " 2023-10-05T02:30Z "):
        r = client.get(f"/api/sites/{world['site']}/alerts", params={name: value})
        assert r.status_code == 200, (value, r.text)
        assert _valid(schema, value), value
    for value, said in (
        ("20231005", "'20231005' is not"),
        ("2023-13-05", "there is no month 13"),
        ("0000-10-05", "there is no year 0000"),
    ):
        r = client.get(f"/api/sites/{world['site']}/alerts", params={name: value})
        assert said in _detail(r), value
        assert not _valid(schema, value), value


def test_alert_class_declares_its_enum(world: dict[str, Any]) -> None:
    schema = _query_schema(world, "class")
    assert schema["enum"] == ["all", "covered", *ALL_CLASSES]
    client = world["client"]
    for value in ("all", "railcar"):
        r = client.get(f"/api/sites/{world['site']}/alerts", params={"class": value})
        assert r.status_code == 200, r.text
    r = client.get(f"/api/sites/{world['site']}/alerts", params={"class": "Tank"})
    assert "'Tank' is not a railcar class" in _detail(r)
    assert not _valid(schema, "Tank")


def test_alert_kind_declares_its_pattern(world: dict[str, Any]) -> None:
    items = _query_schema(world, "kind")["anyOf"][0]["items"]
    assert items["pattern"] == schemas.kinds_pattern(ALERT_KINDS)
    client = world["client"]
    r = client.get(f"/api/sites/{world['site']}/alerts", params={"kind": "record, shift"})
    assert r.status_code == 200 and r.json()["total"] == 1, r.text
    assert _valid(items, "record, shift")
    r = client.get(f"/api/sites/{world['site']}/alerts", params={"kind": "record,Spike"})
    assert "'Spike' (in 'record,Spike') is not an alert kind" in _detail(r)
    assert not _valid(items, "record,Spike")


# -------------------------------------------------------- PATCH /api/events/{event_id}


def test_event_change_declares_its_rules(world: dict[str, Any]) -> None:
    schema = _body_schema(world, "EventPatch")
    assert schema["minProperties"] == 1
    props = schema["properties"]
    assert props["date"]["pattern"] == schemas.EVENT_DAY
    assert props["label"]["pattern"] == schemas.ONE_LINE
    assert props["description"]["pattern"] == schemas.FREE_TEXT
    client, url = world["client"], f"/api/events/{world['event']}"

    assert "nothing to change" in _detail(client.patch(url, json={}, headers=AUTH))
    assert not _valid(schema, {})

    accepted = {"date": "1900-01-01", "label": "  summit\u3000", "description": "a\r\nb\tc"}
    r = client.patch(url, json=accepted, headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json()["label"] == "summit" and r.json()["date"] == "1900-01-01"
    assert _valid(schema, accepted)

    for body, said in (
        ({"date": "1899-12-31"}, "event date 1899-12-31 is before 1900"),
        ({"label": "sum\tmit"}, "holds a tab at character 4"),
        ({"label": " \u3000 "}, "an event needs a label"),
        ({"description": "bell\x07"}, "holds the control character U+0007"),
    ):
        assert said in _detail(client.patch(url, json=body, headers=AUTH)), body
        assert not _valid(schema, body), body


# ------------------------------------------------------------ PATCH /api/sites/{site}


def test_site_change_declares_its_rules(world: dict[str, Any]) -> None:
    schema = _body_schema(world, "SitePatch")
    assert schema["minProperties"] == 1
    props = schema["properties"]
    assert props["tags"]["items"]["pattern"] == schemas.TAG
    assert props["description"]["pattern"] == schemas.FREE_TEXT
    assert props["tracks"]["anyOf"][0] == schemas.TRACKS_GEOJSON_IN
    client, url = world["client"], f"/api/sites/{SITE}"

    assert "nothing to change" in _detail(client.patch(url, json={}, headers=AUTH))
    assert not _valid(schema, {})

    tracks = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": LINE}]}
    accepted = {"tags": [" border "], "tracks": tracks}
    r = client.patch(url, json=accepted, headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json()["tags"] == ["border"]
    assert _valid(schema, accepted)
    assert _valid(schema, {"tracks": None})

    for body, said in (
        ({"tracks": {"coordinates": LINE["coordinates"]}}, "it has no 'type' member"),
        ({"tracks": {**LINE, "type": "linestring"}}, "GeoJSON types are case-sensitive"),
        ({"tags": ["rail,port"]}, "holds a comma"),
        ({"tags": ["  "]}, "empty site tag"),
    ):
        assert said in _detail(client.patch(url, json=body, headers=AUTH)), body
        assert not _valid(schema, body), body


# ----------------------------------------------------------------------- POST /api/sites


def test_site_creation_declares_its_rules(world: dict[str, Any]) -> None:
    schema = _body_schema(world, "SiteIn")
    assert [b["required"] for b in schema["oneOf"]] == [["geometry"], ["bbox"]]
    props = schema["properties"]
    assert props["name"]["pattern"] == schemas.SITE_NAME
    assert props["geometry"]["anyOf"][0] == schemas.SITE_GEOJSON_IN
    assert props["tracks"]["anyOf"][0] == schemas.TRACKS_GEOJSON_IN
    for said in (str(props["bbox"]["description"]), str(schemas.SITE_GEOJSON_IN["description"])):
        assert f"{MIN_SITE_AREA_M2:g} m² to {MAX_SITE_AREA_KM2:,.0f} km²" in said
        assert f"within {NULL_ISLAND_DEG:g}° of 0°, 0°" in said
    bbox = props["bbox"]["anyOf"][0]
    assert [(p["minimum"], p["maximum"]) for p in bbox["prefixItems"]] == [
        (-180, 180),
        (-90, 90),
        (-180, 180),
        (-90, 90),
    ]
    client = world["client"]

    polygon = {"type": "Polygon", "coordinates": [RING, []]}  # an empty hole: read as none
    both = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [RING]}},
            {"type": "Feature", "geometry": LINE},
        ],
    }
    accepted: list[dict[str, Any]] = [
        {"name": "_edge0", "bbox": [-180, -90, -179.99, -89.99], "geometry": None},
        {"name": "édge1", "geometry": {"type": "Feature", "properties": {}, "geometry": polygon}},
        {"name": "e\u0301dge2.a-b", "geometry": both, "tracks": both},  # NFC: édge2.a-b
    ]
    for body in accepted:
        r = client.post("/api/sites", json=body, headers=AUTH)
        assert r.status_code == 201, (body, r.text)
        assert _valid(schema, body), body

    for body, said in (
        ({"bbox": BBOX, "geometry": {"type": "Polygon", "coordinates": [RING]}}, "exactly one"),
        ({"bbox": None}, "exactly one"),
        ({"bbox": [-180.5, 10, -179, 11]}, "out of range for WGS84"),
        ({"geometry": {"type": "polygon", "coordinates": [RING]}}, "case-sensitive"),
        ({"geometry": {"coordinates": [RING]}}, "it has no 'type' member"),
        ({"bbox": BBOX, "tags": ["a\nb"]}, "holds a line break"),
        ({"bbox": BBOX, "name": "-edge"}, "it starts with '-'"),
        ({"bbox": BBOX, "name": "edge yard"}, "cannot hold ' ' (a space)"),
    ):
        refused = {"name": "refused", **body}
        assert said in _detail(client.post("/api/sites", json=refused, headers=AUTH)), body
        assert not _valid(schema, refused), body


# ----------------------------------------------------- PUT /api/scenes/{scene_id}/review


def test_review_declares_its_rules(world: dict[str, Any]) -> None:
    schema = _body_schema(world, "ReviewIn")
    assert [b["required"] for b in schema["oneOf"]] == [["counts"], ["cars"], ["unusable"]]
    assert schema["if"]["required"] == ["unusable"]
    assert schema["then"]["properties"]["note"]["pattern"] == schemas.BLANK
    counts = schema["properties"]["counts"]["anyOf"][0]
    assert counts["propertyNames"]["enum"] == ["all", "covered", *ALL_CLASSES]
    assert counts["required"] == ["all"]
    assert counts["additionalProperties"]["minimum"] == 0
    assert schema["properties"]["unusable"]["pattern"] == schemas.ONE_LINE
    assert schema["properties"]["cars"]["anyOf"][0] == schemas.CARS_IN
    client = world["client"]
    counted, other = world["scene_ids"][0], world["scene_ids"][1]

    accepted: list[tuple[int, dict[str, Any]]] = [
        (counted, {"counts": {"all": 0}, "cars": None, "note": "empty\r\nyard"}),
        (other, {"unusable": " night image ", "note": " \t"}),
    ]
    # the scene's cars as GET .../cars gives them, sent back as its review (the loop)
    cars_of = world["scene_ids"][3]
    cars = client.get(f"/api/scenes/{cars_of}/cars").json()
    assert len(cars["features"]) == 7
    accepted.append((cars_of, {"cars": cars, "note": "checked"}))
    for scene, body in accepted:
        r = client.put(f"/api/scenes/{scene}/review", json=body, headers=AUTH)
        assert r.status_code in (200, 201), (body, r.text)
        assert _valid(schema, body), body

    refused: list[tuple[dict[str, Any], str]] = [
        ({"counts": {"all": 5}, "unusable": "clouds"}, "give either counts"),
        ({}, "give either counts"),
        ({"unusable": "clouds", "note": "seen"}, "unusable is the review's note"),
        ({"cars": {"type": "FeatureCollection"}, "unusable": "x", "note": "y"}, "give either"),
        ({"counts": {"all": 5, "spaceship": 1}}, "'spaceship' is not a class railwatch counts"),
        ({"counts": {"boxcar": 1}}, "give the total count"),
        ({"counts": {"all": -1}}, "must be a number >= 0"),
        ({"unusable": "clouds\nover the yard"}, "holds a line break"),
        ({"cars": {"type": "Feature", "features": []}}, "not a GeoJSON FeatureCollection"),
        (
            {"cars": {"type": "FeatureCollection", "features": [{"type": "Feature"}]}},
            "feature 0 has no geometry",
        ),
    ]
    for body, said in refused:
        r = client.put(f"/api/scenes/{counted}/review", json=body, headers=AUTH)
        assert said in _detail(r), body
        assert not _valid(schema, body), body


# ------------------------------------------- the declared rules are never stricter


_WS = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u3000\ufeff"
_CHARS = st.sampled_from(
    [*_WS, "\x00", "\x07", "\x1b", "\x7f", "\x9f", ",", "a", "é", "🚂", "\r\n"]
)
_TEXT = st.lists(_CHARS | st.characters(codec="utf-8"), max_size=10).map("".join)
_WHEN_TEXT = st.tuples(
    st.sampled_from(["", " ", "\x1c"]),
    st.dates().map(str) | st.text("0123456789-", max_size=11),
    st.sampled_from(["", "T10:00", "T10:00Z", " 10:00:00+09:00", "t1000", "T25:00", "X"]),
    st.sampled_from(["", " ", "\n", "\x85", "\ufeff"]),
).map("".join)
_NAME_TEXT = st.lists(
    st.sampled_from(
        ["a", "Z", "0", "_", "-", ".", "é", "e\u0301", "<\u0338", "\xa0", "\u3000", "字"]
    ),
    min_size=1,
    max_size=6,
).map("".join)
_KINDS_TEXT = st.lists(
    st.sampled_from([*ALERT_KINDS, "", " record ", "\x1cdrop", "Record", "x"]),
    min_size=1,
    max_size=3,
).map(",".join)


def _check(what: str, value: str) -> Any:
    if what == "label":
        return limits.check_event_label(value)
    if what == "tag":
        return limits.check_tags([value])
    if what == "text":
        return limits.check_description(value)
    if what == "when":
        return parse_when(value, "since")
    if what == "name":
        return validate_name(value)
    if what == "changed":
        return parse_changed_since(value, "changed_since")
    return parse_kinds([value], "kind")


@pytest.mark.parametrize(
    ("what", "pattern", "strategy"),
    [
        ("label", schemas.ONE_LINE, _TEXT),
        ("tag", schemas.TAG, _TEXT),
        ("text", schemas.FREE_TEXT, _TEXT),
        ("name", schemas.SITE_NAME, _TEXT | _NAME_TEXT),
        ("when", schemas.WHEN, _WHEN_TEXT | _TEXT),
        ("changed", schemas.WHEN, _WHEN_TEXT),
        ("kind", schemas.kinds_pattern(ALERT_KINDS), _KINDS_TEXT | _TEXT),
    ],
)
def test_text_the_core_accepts_matches_its_pattern(
    what: str, pattern: str, strategy: st.SearchStrategy[str]
) -> None:
    matches = jsonschema_rs.validator_for({"type": "string", "pattern": pattern}).is_valid

    @settings(
        max_examples=300,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(value: str) -> None:
        try:
            _check(what, value)
        except InputError:
            return
        assert matches(value), repr(value)

    run()


_POSITION = st.sampled_from([[130.601, 42.412], [130.609, 42.418], [130.6, 42.41, 5], [1.0]])
_LINES = st.lists(_POSITION, max_size=3)
_COORDS: dict[str, st.SearchStrategy[Any]] = {
    "LineString": _LINES | st.just(LINE["coordinates"]),
    "MultiLineString": st.lists(_LINES | st.just(LINE["coordinates"]), max_size=2),
    "Polygon": st.lists(st.just(RING) | st.just([]) | _LINES, max_size=2),
    "MultiPolygon": st.lists(st.lists(st.just(RING), max_size=1), max_size=1),
    "Point": _POSITION | st.just([]),
}


def _geometry(depth: int) -> st.SearchStrategy[dict[str, Any]]:
    simple = st.sampled_from(sorted(_COORDS)).flatmap(
        lambda k: st.fixed_dictionaries({"type": st.just(k), "coordinates": _COORDS[k] | st.none()})
    )
    if depth == 0:
        return simple
    members = st.lists(_geometry(depth - 1), max_size=3)
    collection = st.fixed_dictionaries(
        {"type": st.just("GeometryCollection"), "geometries": members}
    )
    return simple | collection


_FEATURE = st.fixed_dictionaries({"type": st.just("Feature"), "geometry": _geometry(1) | st.none()})
_GEOJSON = (
    _geometry(2)
    | _FEATURE
    | st.fixed_dictionaries(
        {"type": st.just("FeatureCollection"), "features": st.lists(_FEATURE, max_size=3)}
    )
)


def test_geojson_the_core_accepts_matches_its_schema() -> None:
    site = jsonschema_rs.validator_for(schemas.SITE_GEOJSON_IN).is_valid
    tracks = jsonschema_rs.validator_for(schemas.TRACKS_GEOJSON_IN).is_valid
    readers: list[tuple[Callable[[Any], Any], Callable[[Any], bool]]] = [
        (lambda g: site_from_geojson("x", g), site),
        (lambda g: site_from_geojson("x", g, tracks=json.loads(json.dumps(g))), site),
        (lambda g: site_from_geojson("x", g, tracks=json.loads(json.dumps(g))), tracks),
        (load_tracks_of_stored_site, tracks),
    ]

    @settings(
        max_examples=400,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(_GEOJSON)
    def run(value: dict[str, Any]) -> None:
        for read, valid in readers:
            try:
                read(value)
            except (GeometryError, InputError):
                continue
            assert valid(value), json.dumps(value)

    run()
