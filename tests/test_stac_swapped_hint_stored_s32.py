"""A STAC API search that finds nothing says a site looks swapped only when the site
has no image yet (session 32, review of f067e5c).

Since f067e5c a search that finds no item asks the API once more over the site with its
longitude and latitude exchanged, and an item there made the run say "the site's
coordinates look swapped ... remove it (`railwatch site remove`) and add it again". Over
a global collection the exchanged place (4.9°N 52.38°E for a yard at 52.38°N 4.9°E) often
has items, so a daily ``--since`` run of a site with months of images stored, on a day
without a new image, told the analyst to remove the site (and with it every image,
count, review and event). An image stored over the site as it is shows that its
coordinates are right: the question is not asked then."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from railwatch.cli.main import main
from test_ingest_swapped_site_s32 import LAT, LON, _FakeApi, _image, _item

BBOX = f"{LON - 0.002},{LAT - 0.002},{LON + 0.002},{LAT + 0.002}"  # lon,lat: right


def _run(api: _FakeApi, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    from railwatch import stac
    from railwatch.storage import Database

    def items(
        url: str, site_geom: Any, collections: Any, since: Any, until: Any, *rest: Any
    ) -> stac._Search:
        return stac._search(api, url, site_geom, collections, since, until, None)

    monkeypatch.setattr(stac, "_items", items)
    return stac.ingest_stac(
        Database(db_url),
        "ams",
        "https://example.test/stac",
        collections=["yards"],
        since=datetime(2023, 10, 6, tzinfo=UTC),
    )


def _api_over_the_mirror_only() -> _FakeApi:
    """An API with no new item over the yard, and one over the exchanged place."""
    api = _FakeApi()
    api.docs = [_item("m", LAT, LON, "https://example.test/m.tif")]
    return api


def test_a_site_with_images_stored_is_not_said_to_look_swapped(
    tmp_db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("pystac")
    assert main(["--db", tmp_db_url, "site", "add", "ams", "--bbox", BBOX]) == 0
    _image(tmp_path / "a.tif", LON, LAT)
    assert main(["--db", tmp_db_url, "ingest", "ams", str(tmp_path / "a.tif")]) == 0
    capsys.readouterr()
    api = _api_over_the_mirror_only()
    summary = _run(api, tmp_db_url, monkeypatch)
    assert not (summary.ingested or summary.skipped or summary.failed)
    assert summary.site_swapped is None, summary.site_swapped
    assert len(api.calls) == 1  # no question over the exchanged place


def test_a_site_without_images_still_asks(
    tmp_db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The hint of f067e5c stands for a site with nothing stored (the guess it is)."""
    pytest.importorskip("pystac")
    assert main(["--db", tmp_db_url, "site", "add", "ams", "--bbox", BBOX]) == 0
    capsys.readouterr()
    api = _api_over_the_mirror_only()
    summary = _run(api, tmp_db_url, monkeypatch)
    assert summary.site_swapped is not None
    assert len(api.calls) == 2
