"""A site drawn as lat,lon is named once, for the whole run (session 32).

Session 28 made each image (or STAC item) that would lie over a site drawn as lat,lon
say so in its own skip reason. The run itself still ended on "nothing ingested: all N
files were refused, for the reasons listed above", and a STAC API search, which only
returns the items that meet the site, found nothing and said "no STAC item found ...;
nothing to do": the analyst read a site with no imagery. Now the run says once what
is wrong (the site's coordinates look swapped, where it is and where it would be) and
what to do; the site itself is never changed on that guess."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pyproj import Transformer
from shapely.geometry import shape

from helpers import make_geotiff
from railwatch.cli.main import main

UTM31 = "EPSG:32631"
LON, LAT = 4.90, 52.38  # Amsterdam's yard
SWAPPED_BBOX = f"{LAT - 0.002},{LON - 0.002},{LAT + 0.002},{LON + 0.002}"  # lat,lon order


def _image(path: Path, lon: float, lat: float) -> Path:
    x, y = Transformer.from_crs("EPSG:4326", UTM31, always_xy=True).transform(lon, lat)
    return make_geotiff(
        path,
        crs=UTM31,
        origin=(x - 300.0, y + 300.0),
        gsd=1.0,
        width=600,
        height=600,
        tags={"TIFFTAG_DATETIME": "2023:10:05 02:30:00"},
    )


def _item(item_id: str, lon: float, lat: float, href: str = "ams.tif") -> dict[str, Any]:
    d = 0.004
    ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d]]
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": item_id,
        "collection": "yards",
        "geometry": {"type": "Polygon", "coordinates": [ring + ring[:1]]},
        "bbox": [lon - d, lat - d, lon + d, lat + d],
        "properties": {"datetime": "2023-10-05T02:30:00Z", "gsd": 1.0},
        "assets": {"image": {"href": href, "type": "image/tiff", "roles": ["data"]}},
        "links": [],
    }


@pytest.fixture
def db(tmp_db_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["--db", tmp_db_url, "site", "add", "ams", "--bbox", SWAPPED_BBOX]) == 0
    capsys.readouterr()
    return tmp_db_url


def _bounds(db: str, capsys: pytest.CaptureFixture[str]) -> list[float]:
    assert main(["--db", db, "site", "show", "ams", "--json"]) == 0
    return list(json.loads(capsys.readouterr().out)["bounds"])


def test_ingest_of_the_yard_says_once_that_the_site_looks_swapped(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _bounds(db, capsys)
    _image(tmp_path / "a.tif", LON, LAT)
    _image(tmp_path / "b.tif", LON + 0.001, LAT)
    code = main(["--db", db, "ingest", "ams", str(tmp_path / "a.tif"), str(tmp_path / "b.tif")])
    out, err = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in out + err
    # the last line (the error) names the cause, not "for the reasons listed above"
    assert "nothing ingested into site ams: the site's coordinates look swapped" in err
    assert "both images not ingested lie over the place with its longitude and latitude" in err
    assert "52.3800°N 4.9000°E" in " ".join(err.split())  # where it would be
    assert "railwatch site remove ams" in err
    assert "for the reasons listed above" not in err
    assert _bounds(db, capsys) == before  # the site is never changed on a guess


def test_ingest_json_carries_the_verdict(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _image(tmp_path / "a.tif", LON, LAT)
    _image(tmp_path / "rotterdam.tif", 4.47, 51.92)  # elsewhere either way
    code = main(["--db", db, "ingest", "ams", str(tmp_path), "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 1
    assert summary["site_swapped"].startswith("the site's coordinates look swapped")
    assert "1 of the 2 images not ingested lie" in summary["site_swapped"]
    flags = {Path(d["file"]).name: d.get("site_swapped") for d in summary["skipped"]}
    assert flags == {"a.tif": True, "rotterdam.tif": None}

    # an image over a site as it is: no verdict, though another lies over its mirror
    box = f"{LON - 0.002},{9.998},{LON + 0.002},{10.002}"  # 4.9 E 10 N
    assert main(["--db", db, "site", "add", "eq", "--bbox", box]) == 0
    capsys.readouterr()
    _image(tmp_path / "eq" / "here.tif", LON, 10.0)
    _image(tmp_path / "eq" / "mirror.tif", 10.0, LON)
    code = main(["--db", db, "ingest", "eq", str(tmp_path / "eq"), "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and len(summary["ingested"]) == 1
    assert summary["skipped"][0]["site_swapped"] is True  # said of that image
    assert "site_swapped" not in summary  # not of the site


def test_static_stac_items_warn_once(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("pystac")
    _image(tmp_path / "ams.tif", LON, LAT)
    doc = {"type": "FeatureCollection", "features": [_item("a", LON, LAT), _item("b", LON, LAT)]}
    (tmp_path / "items.json").write_text(json.dumps(doc))
    code = main(["--db", db, "ingest-stac", "ams", "--stac", str(tmp_path / "items.json")])
    _, err = capsys.readouterr()
    assert code == 0  # as before: skipping items is not a failure
    err = " ".join(err.split())
    assert "warning: site ams: the site's coordinates look swapped" in err
    assert "both STAC items not ingested lie over the place" in err


class _FakeSearch:
    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self.docs = docs

    def items_as_dicts(self) -> Iterator[dict[str, Any]]:
        yield from self.docs


class _FakeApi:
    """A STAC API with items over Amsterdam's yard: it returns those that meet the
    searched geometry, as an API does."""

    def __init__(self, fail_second: bool = False) -> None:
        self.calls: list[dict[str, Any]] = []
        self.fail_second = fail_second
        self.docs = [_item("a", LON, LAT, "https://example.test/a.tif")]

    def conforms_to(self, _what: str) -> bool:
        return False

    def search(self, **kwargs: Any) -> _FakeSearch:
        self.calls.append(kwargs)
        if self.fail_second and len(self.calls) > 1:
            raise OSError("connection reset")
        where = shape(kwargs["intersects"])
        return _FakeSearch([d for d in self.docs if shape(d["geometry"]).intersects(where)])


def _ingest_from(api: _FakeApi, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    from railwatch import stac
    from railwatch.storage import Database

    def items(
        url: str, site_geom: Any, collections: Any, since: Any, until: Any, *rest: Any
    ) -> stac._Search:
        return stac._search(api, url, site_geom, collections, since, until, None)

    monkeypatch.setattr(stac, "_items", items)
    return stac.ingest_stac(
        Database(db_url), "ams", "https://example.test/stac", collections=["yards"]
    )


def test_an_api_search_that_finds_nothing_asks_for_the_swapped_site(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pystac")
    api = _FakeApi()
    summary = _ingest_from(api, db, monkeypatch)
    assert not (summary.ingested or summary.skipped or summary.failed)
    assert summary.site_swapped is not None
    assert "the same search finds items over the place with its longitude" in summary.site_swapped
    # one more request, for one item, with the run's own filters
    assert len(api.calls) == 2
    assert api.calls[1]["max_items"] == 1 and api.calls[1]["collections"] == ["yards"]
    assert shape(api.calls[1]["intersects"]).intersects(shape(api.docs[0]["geometry"]))


def test_an_api_that_cannot_be_asked_again_keeps_the_outcome(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pystac")
    summary = _ingest_from(_FakeApi(fail_second=True), db, monkeypatch)
    assert summary.site_swapped is None and not summary.failed


def test_the_api_verdict_reaches_the_screen(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("pystac")
    from railwatch import stac

    api = _FakeApi()

    def items(
        url: str, site_geom: Any, collections: Any, since: Any, until: Any, *rest: Any
    ) -> stac._Search:
        return stac._search(api, url, site_geom, collections, since, until, None)

    monkeypatch.setattr(stac, "_items", items)
    code = main(["--db", db, "ingest-stac", "ams", "--stac", "https://example.test/stac"])
    out, err = capsys.readouterr()
    assert code == 0
    assert "no STAC item found" in out
    assert "warning: site ams: the site's coordinates look swapped" in " ".join(err.split())
