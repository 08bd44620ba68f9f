"""Bad input said as such in the core (session 33 audit).

* ``repo.get_site`` sent any text to the database: a name holding a NUL character
  (read from a file, or given by a Python caller) made PostgreSQL raise a raw error
  (SQLite answered "no site named"); the web layer refused it in paths only. It is now
  an :class:`InputError` saying where the NUL is and what to give, on both databases,
  before any query, for every function that looks a site up by name.
* An analyst's count with a class above the total said "tank 5 is more than the total
  3" without saying what to do; it now says.
* A review's outlines with ``"features": "x"`` were read letter by letter: "feature 0 has
  no geometry"; a features member that is no list, or a feature that is no object, is
  now named as such.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import statements
from railwatch.detect.geojson import from_feature_collection
from railwatch.errors import InputError
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo

BBOX = "130.60,42.28,130.63,42.30"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def db(request: pytest.FixtureRequest, tmp_db_url: str) -> Iterator[Database]:
    url = (
        str(request.getfixturevalue("postgres_url"))
        if request.param == "postgresql"
        else tmp_db_url
    )
    database = Database(url)
    with database.session() as s:
        repo.add_site(s, site_from_bbox("tum", BBOX))
    yield database
    database.dispose()


NUL_WORDS = (
    "a site name cannot hold a NUL character (U+0000), and 'tu\\x00m' has one at "
    "character 3: give the site's name as `railwatch site list` lists it (a name read "
    "from a file: correct the file's site column)"
)


def test_a_site_name_with_a_nul_is_refused_before_the_database_is_asked(db: Database) -> None:
    calls: list[Any] = [
        lambda s: repo.get_site(s, "tu\x00m"),
        lambda s: repo.site_stats(s, "tu\x00m"),
        lambda s: repo.count_series(s, "tu\x00m"),
        lambda s: repo.list_events(s, "tu\x00m"),
        lambda s: repo.hold_site(s, "tu\x00m", "a test ran"),
    ]
    for call in calls:
        with db.session() as s, statements(db) as seen:
            with pytest.raises(InputError) as err:
                call(s)
            assert str(err.value) == NUL_WORDS
            assert seen == []  # nothing was sent
    with db.session() as s:  # the database is as it was, and the site is found
        assert repo.get_site(s, "tum").name == "tum"
        assert [x.name for x in repo.list_sites(s)] == ["tum"]


def test_a_long_name_with_a_nul_is_shown_cut() -> None:
    name = "y" * 100 + "\x00"
    with pytest.raises(InputError, match=r"'y{80}\.\.\.' has one at character 101: give"):
        repo.get_site(None, name)  # type: ignore[arg-type]  # (no session needed)


def test_a_part_above_the_total_says_what_to_give() -> None:
    with pytest.raises(InputError) as err:
        repo._checked_review_counts({"all": 3, "tank": 5}, "objects", 7)
    assert str(err.value) == (
        "tank 5 is more than the total 3: the total counts every car, of every type, so "
        "give a total of at least 5 or a tank count of at most 3"
    )


def _fc(features: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


@pytest.mark.parametrize(
    ("features", "got"),
    [
        ("x", "a string"),
        ({"type": "Feature"}, "an object"),
        (3, "a number"),
        (False, "true or false"),
    ],
)
def test_features_that_are_no_list_are_named(features: Any, got: str) -> None:
    with pytest.raises(InputError) as err:
        from_feature_collection(_fc(features), source="cars.geojson")
    assert str(err.value) == (
        f"cars.geojson: features must be a list of GeoJSON Feature objects (got {got}): "
        "give each railcar as a Feature with a Polygon geometry"
    )


@pytest.mark.parametrize(
    ("feature", "got"), [("x", "a string"), ([1, 2], "a list"), (None, "null"), (7, "a number")]
)
def test_a_feature_that_is_no_object_is_named(feature: Any, got: str) -> None:
    car = {
        "type": "Feature",
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[0, 0], [14, 0], [14, 3], [0, 3], [0, 0]]],
        },
        "properties": {"class": "tank"},
    }
    with pytest.raises(InputError) as err:
        from_feature_collection(_fc([car, feature]))
    assert str(err.value) == (
        f"feature 1 must be a GeoJSON Feature object (got {got}): give each railcar as a "
        "Feature with a Polygon geometry, or remove it"
    )
    # a collection of cars, or without features, still reads
    assert len(from_feature_collection(_fc([car])).detections) == 1
    assert len(from_feature_collection({"type": "FeatureCollection"}).detections) == 0


def test_a_review_with_features_as_text_is_a_422_saying_so(tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from railwatch.settings import Settings
    from railwatch.web.app import create_app
    from web_db import populate

    db = Database(f"sqlite:///{tmp_path / 'r.db'}")
    ids = populate(db, tmp_path / "img")
    token = "s33-review-token-0123456789"
    settings = Settings(db=db.url, api_token=SecretStr(token), cache_dir=tmp_path / "cache")
    with TestClient(create_app(settings, db)) as client:
        r = client.put(
            f"/api/scenes/{ids['scene_ids'][0]}/review",
            headers={"Authorization": f"Bearer {token}"},
            json={"cars": _fc("x"), "note": "outlines"},
        )
    db.dispose()
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith(
        "the cars' outlines: features must be a list of GeoJSON Feature objects (got a string)"
    ), r.json()["detail"]
