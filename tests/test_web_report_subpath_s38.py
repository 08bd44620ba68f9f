"""An unknown sub-path of a report is a 404 as any other (2026-12-06, session 38, web
review): ``/api/reports/ID/xml`` was a 422 about the path parameter ``fmt`` (one route
``/reports/{report_id}/{fmt}``), where ``/api/scenes/1/xml`` or ``/api/sites/x/xml``
are the API's 404 "nothing at ...". The downloads are now one route a format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient
from pydantic import SecretStr

from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.web.app import create_app
from web_db import populate

TOKEN = "t"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp: Path = tmp_path_factory.mktemp("report-subpath")
    db = Database(f"sqlite:///{tmp / 'web.db'}")
    ids = populate(db, tmp / "img")
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp / "cache")
    client = TestClient(create_app(settings, db))
    r = client.post(
        f"/api/sites/{ids['site']}/reports", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert r.status_code == 201, r.text
    return {**ids, "client": client, "report": r.json()["id"]}


def _nothing_at(r: Any, path: str) -> None:
    assert r.status_code == 404, (path, r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["detail"].startswith(f"nothing at {path}:"), r.json()


@pytest.mark.parametrize("sub", ["xml", "csv", "HTML", "report.html"])
def test_an_unknown_sub_path_of_a_report_is_a_404(world: dict[str, Any], sub: str) -> None:
    c = world["client"]
    for rid in (world["report"], "0" * 32, "1"):
        path = f"/api/reports/{rid}/{sub}"
        _nothing_at(c.get(path), path)
    # as an unknown sub-path of a scene or a site
    scene = world["scene_ids"][0]
    _nothing_at(c.get(f"/api/scenes/{scene}/{sub}"), f"/api/scenes/{scene}/{sub}")


def test_the_downloads_answer_as_before(world: dict[str, Any]) -> None:
    c, rid = world["client"], world["report"]
    html = c.get(f"/api/reports/{rid}/html")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    again = c.get(f"/api/reports/{rid}/html", headers={"If-None-Match": html.headers["etag"]})
    assert again.status_code == 304
    # no PDF was asked for: a 404 that says how to have one
    pdf = c.get(f"/api/reports/{rid}/pdf")
    assert pdf.status_code == 404 and '{"pdf": true}' in pdf.json()["detail"]  # session 49
    # an id of the wrong form is still the 422 that says what an id is
    bad = c.get("/api/reports/1/html")
    assert bad.status_code == 422 and "32 hex digits" in bad.json()["detail"]
    paths = c.get("/openapi.json").json()["paths"]
    assert "/api/reports/{report_id}/html" in paths and "/api/reports/{report_id}/pdf" in paths
    assert "/api/reports/{report_id}/{fmt}" not in paths
    assert (
        "text/html" in paths["/api/reports/{report_id}/html"]["get"]["responses"]["200"]["content"]
    )
