"""A STAC API search that finds nothing over a site without images, while the same
search finds items over the place with its lon and lat exchanged, gives the advice of
``ingest.swapped_site_note`` naming the site's events (they would go with it when the
old site is removed), as ``ingest`` does since 7621e05 (session 32).

Before, ``stac._Search.swapped_note`` was not given the site's events count, so the
advice used the general wording ("it holds no image; it lists what it would delete and
asks first") whatever the site held.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from railwatch.cli.main import main
from test_ingest_swapped_site_s32 import LAT, LON, _FakeApi, _item

BBOX = f"{LAT - 0.002},{LON - 0.002},{LAT + 0.002},{LON + 0.002}"  # lat,lon: swapped


def _run(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    from railwatch import stac
    from railwatch.storage import Database

    api = _FakeApi()
    api.docs = [_item("m", LON, LAT, "https://example.test/m.tif")]  # at the right place

    def items(
        url: str, site_geom: Any, collections: Any, since: Any, until: Any, *rest: Any
    ) -> stac._Search:
        return stac._search(api, url, site_geom, collections, since, until, None)

    monkeypatch.setattr(stac, "_items", items)
    summary = stac.ingest_stac(
        Database(db_url),
        "ams",
        "https://example.test/stac",
        collections=["yards"],
        since=datetime(2023, 10, 6, tzinfo=UTC),
    )
    assert len(api.calls) == 2  # the search, then the one over the exchanged place
    assert not (summary.ingested or summary.skipped or summary.failed)
    return summary


def test_the_advice_names_the_sites_events(
    tmp_db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("pystac")
    db = ["--db", tmp_db_url]
    assert main([*db, "site", "add", "ams", "--bbox", BBOX]) == 0
    assert main([*db, "event", "add", "ams", "2023-09-01", "Strike"]) == 0
    assert main([*db, "event", "add", "ams", "2023-09-20", "Flood"]) == 0
    capsys.readouterr()
    note = _run(tmp_db_url, monkeypatch).site_swapped
    assert note is not None
    assert "the same search finds items over the place with its longitude" in note
    assert "its 2 events would go with it: add them to the new site first" in note


def test_a_site_holding_nothing_says_so(
    tmp_db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("pystac")
    assert main(["--db", tmp_db_url, "site", "add", "ams", "--bbox", BBOX]) == 0
    capsys.readouterr()
    note = _run(tmp_db_url, monkeypatch).site_swapped
    assert note is not None
    assert "it holds no image nor event" in note
