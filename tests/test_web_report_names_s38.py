"""A report downloads under a name that says its site and period (2026-12-06, session
38, web review).

Every report of a site downloaded as ``SITE-report.html``: an analyst who made the
reports of two periods got two files of the same name (the browser numbered the second
``(1)``) and could not tell which period each held without opening it. The name now
gives the period (``start``/``end`` where it is open) and the first 8 digits of the
report's id, which the API lists it by.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from test_web_client_audit_s36 import AUTH, world  # noqa: F401

pytestmark = [pytest.mark.slow]


def _filename(r: Any) -> str:
    assert r.status_code == 200, r.text
    found = re.search(r'filename="([^"]+)"', r.headers["content-disposition"])
    assert found, r.headers["content-disposition"]
    return found.group(1)


def test_two_periods_download_under_names_of_their_own(world: dict[str, Any]) -> None:  # noqa: F811
    c: TestClient = world["client"]
    site = world["site"]
    names = []
    for body in ({"date_from": "2023-06-01", "date_to": "2023-08-31"}, {}):
        r = c.post(f"/api/sites/{site}/reports", json=body, headers=AUTH)
        assert r.status_code == 201, r.text
        meta = r.json()
        names.append((meta["id"], _filename(c.get(meta["links"]["html"]))))
    (first_id, first), (whole_id, whole) = names
    assert first == f"{site}-report-2023-06-01-to-2023-08-31-{first_id[:8]}.html", first
    assert whole == f"{site}-report-start-to-end-{whole_id[:8]}.html", whole
