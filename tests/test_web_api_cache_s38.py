"""The API's answers tell caches not to store them (2026-12-06, session 38, web review).

The JSON, GeoJSON and CSV answers under ``/api/`` had no ``Cache-Control``: a reverse
proxy set to cache the app (nginx's ``proxy_cache`` with ``proxy_cache_valid``) kept
the reads of a signed-in session by URL alone and handed them to anyone, and a browser
was free to keep a site's alerts on disk. They are ``no-store`` now
(:class:`railwatch.web.security.ApiCacheControl`); an answer that says its own word
keeps it (a tile: ``private, no-cache``), and a report's download, which has an
``ETag``, is ``private, no-cache`` and still a ``304`` to ``If-None-Match``. The
dashboard's files keep ``no-cache`` (they hold nothing of the database).
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from test_web_client_audit_s36 import AUTH, world  # noqa: F401


@pytest.mark.parametrize(
    "path",
    [
        "/api/sites",
        "/api/sites/{site}",
        "/api/sites/{site}/scenes",
        "/api/sites/{site}/counts",
        "/api/sites/{site}/counts?format=csv",
        "/api/scenes/{scene}/detections",
        "/api/alerts",
        "/api/session",
        "/api/sites/no-such-site",  # a problem too
    ],
)
def test_api_answers_are_stored_by_no_cache(
    world: dict[str, Any],  # noqa: F811
    path: str,
) -> None:
    c: TestClient = world["client"]
    url = path.format(site=world["site"], scene=world["scene_ids"][4])
    for headers in ({}, AUTH):
        r = c.get(url, headers=headers)
        assert r.status_code in (200, 404), r.text
        assert r.headers.get("cache-control") == "no-store", (url, dict(r.headers))


def test_a_report_download_is_revalidated_and_the_dashboard_unchanged(
    world: dict[str, Any],  # noqa: F811
) -> None:
    c: TestClient = world["client"]
    r = c.post(f"/api/sites/{world['site']}/reports", json={}, headers=AUTH)
    assert r.status_code == 201, r.text
    assert r.headers["cache-control"] == "no-store"
    got = c.get(r.json()["links"]["html"])
    assert got.status_code == 200
    assert got.headers["cache-control"] == "private, no-cache", dict(got.headers)
    again = c.get(r.json()["links"]["html"], headers={"If-None-Match": got.headers["etag"]})
    assert again.status_code == 304
    for page in ("/", "/static/js/site.js"):
        assert c.get(page).headers["cache-control"] == "no-cache"
