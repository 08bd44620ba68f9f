"""The counts endpoint answers CSV to ``Accept: text/csv`` (2026-12-07, session 49).

Its OpenAPI declared both ``application/json`` and ``text/csv`` for the 200, yet a
client asking for CSV by its ``Accept`` header (pandas, curl -H, a GIS tool) got JSON:
only ``?format=csv`` gave CSV. Left out, ``format`` now follows the header; given, it
wins; the answer says ``Vary: Accept``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient
from pydantic import SecretStr

from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.web.app import create_app
from railwatch.web.routes.counts import prefers_csv
from web_db import populate

TOKEN = "accept-csv-s49"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp = tmp_path_factory.mktemp("accept")
    db = Database(f"sqlite:///{tmp / 'w.db'}")
    populate(db, tmp / "img")
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp / "cache")
    with TestClient(create_app(settings, db)) as c:
        yield c
    db.dispose()


def _site(c: TestClient) -> str:
    name: str = c.get("/api/sites").json()["items"][0]["name"]
    return name


@pytest.mark.parametrize(
    ("accept", "csv"),
    [
        ("text/csv", True),
        ("text/csv, application/json;q=0.5", True),
        ("application/json;q=0.4, text/*", True),
        ("application/json", False),
        ("text/csv;q=0.5, application/json", False),
        ("*/*", False),
        ("", False),
        ("text/csv;q=oops", True),
        ("text/html", False),
    ],
)
def test_accept_header_preference(accept: str, csv: bool) -> None:
    assert prefers_csv(accept) is csv


def test_accept_text_csv_answers_csv(client: TestClient) -> None:
    url = f"/api/sites/{_site(client)}/counts"
    r = client.get(url, headers={"Accept": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.text.splitlines()[0].startswith("when,")
    assert r.headers["vary"] == "Accept"
    # the same rows as ?format=csv
    assert r.text == client.get(url, params={"format": "csv"}).text


def test_json_stays_the_default_and_format_wins(client: TestClient) -> None:
    url = f"/api/sites/{_site(client)}/counts"
    plain = client.get(url)
    assert plain.headers["content-type"].startswith("application/json")
    assert "items" in plain.json()
    asked = client.get(url, params={"format": "json"}, headers={"Accept": "text/csv"})
    assert asked.headers["content-type"].startswith("application/json")
    csv = client.get(url, params={"format": "csv"}, headers={"Accept": "application/json"})
    assert csv.headers["content-type"].startswith("text/csv")
