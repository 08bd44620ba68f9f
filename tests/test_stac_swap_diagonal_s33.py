"""A STAC API search that finds nothing over a site near the lat = lon diagonal, while
the search over the site exchanged finds an item next door, gives no "coordinates look
swapped" advice (session 33): the exchanged place is the site's own neighbourhood, as
``ingest.swapped_site_hint`` judges an item's own skip reason."""

from __future__ import annotations

from typing import Any

import pytest

from railwatch.cli.main import main
from test_ingest_swapped_site_s32 import _FakeApi, _item


def test_an_item_next_door_to_a_site_near_the_diagonal_is_no_swap(
    tmp_db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("pystac")
    bbox = "51.380,51.360,51.395,51.370"  # lon,lat: 51.365 N 51.39 E, as meant
    assert main(["--db", tmp_db_url, "site", "add", "oral", "--bbox", bbox]) == 0
    capsys.readouterr()
    api = _FakeApi()
    api.docs = [_item("next", 51.365, 51.3875)]  # the yard next door, about 1 km NW
    summary = _run_site(tmp_db_url, api, monkeypatch, "oral")
    assert len(api.calls) == 2  # it was asked, and found the item over the exchanged site
    assert not (summary.ingested or summary.skipped or summary.failed)
    assert summary.site_swapped is None
    # far from the diagonal the advice stands: the same site drawn as lat,lon in Europe
    swapped = "52.376,4.898,52.384,4.902"  # Amsterdam's yard as lat,lon
    assert main(["--db", tmp_db_url, "site", "add", "ams2", "--bbox", swapped]) == 0
    api = _FakeApi()
    summary = _run_site(tmp_db_url, api, monkeypatch, "ams2")
    assert summary.site_swapped is not None


def _run_site(db_url: str, api: _FakeApi, monkeypatch: pytest.MonkeyPatch, site: str) -> Any:
    from railwatch import stac
    from railwatch.storage import Database

    def items(
        url: str, site_geom: Any, collections: Any, since: Any, until: Any, *rest: Any
    ) -> stac._Search:
        return stac._search(api, url, site_geom, collections, since, until, None)

    monkeypatch.setattr(stac, "_items", items)
    return stac.ingest_stac(
        Database(db_url), site, "https://example.test/stac", collections=["yards"]
    )
