"""The review of session 34's web commits (2026-12-05).

* A report download's 304 (d8aa1e1) compared ``If-None-Match`` as strings: the weak
  form of its own tag (``W/"..."``, what a compressing proxy hands the browser) got
  the whole file, and ``If-Modified-Since`` was not read.
* An unknown query parameter's 422 (c91cbe1) had no way out for a client that adds a
  parameter of its own (jQuery's ``_`` cache-buster): ``Prefer: handling=lenient``
  (RFC 7240) passes such parameters over; and ``?=x`` was named ``''``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient
from pydantic import SecretStr

from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.web.app import create_app
from web_db import populate

TOKEN = "review-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp: Path = tmp_path_factory.mktemp("web-review-s34")
    db = Database(f"sqlite:///{tmp / 'r.db'}")
    ids = populate(db, tmp / "img")
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp / "cache")
    yield {**ids, "client": TestClient(create_app(settings, db))}
    db.dispose()


@pytest.fixture(scope="module")
def report(world: dict[str, Any]) -> dict[str, Any]:
    c: TestClient = world["client"]
    made = c.post(f"/api/sites/{world['site']}/reports", headers=AUTH)
    assert made.status_code == 201, made.text
    link = made.json()["links"]["html"]
    first = c.get(link)
    assert first.status_code == 200 and first.content
    return {"link": link, "etag": first.headers["etag"], "first": first}


def test_a_weak_form_of_the_reports_etag_is_answered_304(
    world: dict[str, Any], report: dict[str, Any]
) -> None:
    """If-None-Match compares weakly (RFC 9110 13.1.2): W/"x" matches "x"."""
    c: TestClient = world["client"]
    etag = report["etag"]
    assert not etag.startswith("W/")
    for asked in (f"W/{etag}", f'W/"other", W/{etag}', f"{etag}", "*"):
        r = c.get(report["link"], headers={"If-None-Match": asked})
        assert r.status_code == 304, (asked, r.status_code)
        assert r.content == b"" and r.headers["etag"] == etag
    # HEAD as GET
    assert c.head(report["link"], headers={"If-None-Match": f"W/{etag}"}).status_code == 304
    other = c.get(report["link"], headers={"If-None-Match": 'W/"other"'})
    assert other.status_code == 200 and other.content == report["first"].content


def test_if_modified_since_the_reports_time_is_answered_304(
    world: dict[str, Any], report: dict[str, Any]
) -> None:
    c: TestClient = world["client"]
    modified = report["first"].headers["last-modified"]
    r = c.get(report["link"], headers={"If-Modified-Since": modified})
    assert r.status_code == 304 and r.content == b""
    assert r.headers["etag"] == report["etag"]
    before = c.get(report["link"], headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert before.status_code == 200 and before.content == report["first"].content
    # an If-None-Match that does not match wins over the date (RFC 9110 13.1.3)
    both = c.get(
        report["link"], headers={"If-None-Match": '"other"', "If-Modified-Since": modified}
    )
    assert both.status_code == 200
    # a date that is no HTTP date: the whole file, not an error
    assert c.get(report["link"], headers={"If-Modified-Since": "yesterday"}).status_code == 200


def test_a_client_may_have_its_own_query_parameters_passed_over(world: dict[str, Any]) -> None:
    c: TestClient = world["client"]
    site = world["site"]
    plain = c.get(f"/api/sites/{site}/alerts", params={"limit": 5})
    assert plain.status_code == 200
    asked: dict[str, str | int] = {"limit": 5, "_": "1733435000000"}  # jQuery's cache: false
    strict = c.get(f"/api/sites/{site}/alerts", params=asked)
    assert strict.status_code == 422
    for prefer in (
        "handling=lenient",
        "respond-async, HANDLING=Lenient; x=1",
        'handling="lenient"',
    ):
        r = c.get(f"/api/sites/{site}/alerts", params=asked, headers={"Prefer": prefer})
        assert r.status_code == 200, (prefer, r.text)
        assert r.json() == plain.json()
    # the 422 says how
    assert "'Prefer: handling=lenient'" in strict.json()["detail"]
    # strict is the default and may be asked for; the parameters taken are still read
    assert (
        c.get(f"/api/sites/{site}/alerts", params=asked, headers={"Prefer": "handling=strict"})
    ).status_code == 422
    bad = c.get(
        f"/api/sites/{site}/alerts",
        params={"limit": "x", "_": "1"},
        headers={"Prefer": "handling=lenient"},
    )
    assert bad.status_code == 422 and "query.limit" in bad.json()["detail"]
    # a write too, and a 401 still comes first
    ack = f"/api/alerts/{world['alert_id']}/acknowledge"
    lenient = {"Prefer": "handling=lenient"}
    assert c.post(ack, params={"_": "1"}, headers=lenient).status_code == 401


def test_a_query_parameter_without_a_name_is_said_so(world: dict[str, Any]) -> None:
    r = world["client"].get("/api/sites?=x")
    assert r.status_code == 422
    assert "takes no query parameter without a name ('=...')" in r.json()["detail"], r.text


def test_a_parameter_of_one_value_given_twice_is_refused(world: dict[str, Any]) -> None:
    """``?site=a&site=b`` was read as ``site=b``, ``a`` passed over in a 200."""
    c: TestClient = world["client"]
    site = world["site"]
    r = c.get("/api/alerts", params=[("site", "other-yard"), ("site", site)])
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == (
        f"invalid request: query.site: given 2 times ('other-yard', '{site}'): this endpoint "
        "takes one value of 'site' and would apply only the last; give it once"
    )
    assert c.get("/api/sites", params=[("limit", "1"), ("limit", "2")]).status_code == 422
    # a parameter that takes several values takes them, as before
    dets = c.get(
        f"/api/scenes/{world['scene_ids'][4]}/detections",
        params=[("class", "tank"), ("class", "boxcar")],
    )
    assert dets.status_code == 200
    # a lenient client gets the last value, as before
    r = c.get(
        "/api/sites",
        params=[("limit", "1"), ("limit", "2")],
        headers={"Prefer": "handling=lenient"},
    )
    assert r.status_code == 200 and r.json()["limit"] == 2
