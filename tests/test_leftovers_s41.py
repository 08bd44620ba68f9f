"""Small faults left by session 40's reviews (session 41).

1. The GIS exports' scenes, detections and occupied_track layers gave each image's local
   ``day`` without the zone it is in: the sites layer and the counts had ``local_zone``,
   so a scenes or detections GeoJSON loaded alone in QGIS did not say which zone its
   days were in.
2. ``railwatch export -f geojson -o x.geojson`` made a FOLDER named x.geojson, where the
   user asked for a file. GeoJSON (and GeoParquet) hold one layer per file: such a name
   is now refused, saying to give a folder, or ``--layer NAME`` for that layer alone in
   the one file named.
3. The dashboard offered "Declare unusable" for an image not counted only because its
   site has no track centrelines, right under "Its file is not at fault: give the site
   its track centrelines and process it again"; declared so, processing would skip it
   once the site has them. The form is gone there, and the API (and the CLI, through
   the same store) refuses it saying what to do.
4. The web API's words for a site GeoJSON that mixes polygons and lines (and for lines
   or a point given as the site) were the CLI's and Python's (``--geojson FILE --tracks
   FILE``, ``--bbox``, ``site edit``, ``tracks=``): they name the API's fields now
   (``geometry``, ``tracks``, ``bbox``, PATCH), the library's and the CLI's unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import box

from counted_site import LATE, LOCAL, WELLINGTON, add_counted_site, steady_then_rise
from railwatch.cli.main import main
from railwatch.storage import Database, repo
from railwatch.storage.models import Detection, to_wkb
from test_followup2_s40 import no_tracks  # noqa: F401 (the fixture: a site without tracks)

#: each layer with an image's time, and that time's column
TIMED = {"scenes": "acquired", "detections": "acquired", "occupied_track": "date", "counts": "date"}


@pytest.fixture
def zoned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    """A UTC+12 site whose last image has a car and a stretch of occupied track."""
    database = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    add_counted_site(database, "akl", WELLINGTON, steady_then_rise()[-3:])
    with database.session() as s:
        (scene,) = [sc for sc in repo.list_scenes(s, "akl") if sc.acquired_at == LATE]
        car = box(175.004, -41.296, 175.0041, -41.2959)
        s.add(
            Detection(
                scene_id=scene.id, cls="boxcar", score=0.9, geometry_wkb=to_wkb(car),
                native_wkb=to_wkb(car), native_crs="EPSG:4326",
            )
        )  # fmt: skip
        line = [[175.002, -41.295], [175.008, -41.295]]
        run = {"length_m": 500.0, "coordinates": line}
        scene.meta = {repo.COARSE_KEY: {"tracks": "given", "track_m": 500.0, "occupied": [run]}}
    monkeypatch.setenv("RAILWATCH_DB", database.url)
    return database


def test_every_timed_layer_names_the_zone_of_its_days(zoned: Database) -> None:
    from railwatch.export.layers import site_layers

    with zoned.session() as s:
        layers = site_layers(s, "akl")
    for name, column in TIMED.items():
        layer = layers[name]
        assert layer.records, name
        i = layer.columns.index(column)
        # the time, its local day, the zone that day is in: as the counts have had them
        assert layer.columns[i + 1 : i + 3] == ("day", "local_zone"), name
        assert layer.types[i + 2] == "str", name
        assert {r["local_zone"] for r in layer.records} == {"UTC+12"}, name
        last = [r for r in layer.records if r[column] == LATE]
        assert last and all(r["day"] == LOCAL for r in last), name


def test_a_geojson_layer_alone_says_its_zone(zoned: Database, tmp_path: Path) -> None:
    folder = tmp_path / "gj"
    assert main(["export", "akl", "--format", "geojson", "--out", str(folder)]) == 0
    for name in ("scenes", "detections", "occupied_track"):
        feats = json.loads((folder / f"{name}.geojson").read_text(encoding="utf-8"))["features"]
        assert feats, name
        assert all(f["properties"]["local_zone"] == "UTC+12" for f in feats), name


def _export(*args: str) -> int:
    return main(["export", "akl", *args])


@pytest.mark.parametrize(("fmt", "name"), [("geojson", "x.geojson"), ("geoparquet", "x.parquet")])
def test_a_file_name_for_every_layer_is_refused_saying_what_to_give(
    zoned: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str, name: str
) -> None:
    out = tmp_path / name
    capsys.readouterr()
    assert _export("-f", fmt, "-o", str(out)) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"--out {out} names one" in err and "one layer per file" in err
    assert f"--out {tmp_path / ('x-' + fmt)}" in err  # a folder to give
    assert "--layer with one of sites, scenes, detections, occupied_track, counts" in err
    assert not out.exists()  # no folder named x.geojson


def test_one_layer_is_one_file(
    zoned: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.geojson"
    capsys.readouterr()
    assert _export("-f", "geojson", "--layer", "scenes", "-o", str(out), "--json") == 0
    said = json.loads(capsys.readouterr().out)
    assert said["files"] == [{"path": str(out), "layer": "scenes", "bytes": out.stat().st_size}]
    fc = json.loads(out.read_text(encoding="utf-8"))
    assert fc["name"] == "scenes" and len(fc["features"]) == 3
    assert fc["features"][-1]["properties"]["local_zone"] == "UTC+12"


def test_one_layer_in_a_geoparquet_file_and_a_geopackage(zoned: Database, tmp_path: Path) -> None:
    pyogrio = pytest.importorskip("pyogrio")
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    pq = tmp_path / "cars.parquet"
    assert _export("-f", "geoparquet", "--layer", "detections", "-o", str(pq)) == 0
    assert pq.is_file() and list(pd.read_parquet(pq)["class"]) == ["boxcar"]
    gpkg = tmp_path / "track.gpkg"
    assert _export("-f", "gpkg", "--layer", "occupied_track", "-o", str(gpkg)) == 0
    assert [str(n) for n, _ in pyogrio.list_layers(gpkg)] == ["occupied_track"]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["-f", "csv", "--layer", "scenes", "-o", "c.csv"], "the CSV export is the counts"),
        (["-f", "csv", "--layer", "scenes", "-o", "-"], "the CSV export is the counts"),
        (["-f", "geojson", "--layer", "cars", "-o", "c.geojson"], "--layer 'cars' is not a layer"),
        (["-f", "geojson", "--layer", "scenes", "-o", "c"], "must end in .geojson or .json"),
        (
            ["-f", "geojson", "--layer", "scenes", "-o", "-"],
            "give --out a name, e.g. --out akl-scenes.geojson",
        ),
    ],
)
def test_a_layer_that_cannot_be_written_so_is_refused(
    zoned: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    said: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert _export(*args) == 2
    captured = capsys.readouterr()
    assert said in " ".join(captured.err.split()) and not captured.out
    assert not list(tmp_path.glob("c*"))


def test_an_earlier_exports_folder_of_that_name_is_still_written(
    zoned: Database, tmp_path: Path
) -> None:
    out = tmp_path / "x.geojson"
    out.mkdir()  # as exports before session 41 made it
    assert _export("-f", "geojson", "-o", str(out)) == 0
    assert (out / "scenes.geojson").is_file() and (out / "counts.geojson").is_file()


def _state(url: str, scene_id: int) -> tuple[str, bool, bool]:
    """A scene's status, whether its error still says it needs track centrelines, and
    whether it has a review."""
    from railwatch.counting import needs_tracks

    db = Database(url)
    try:
        with db.session(readonly=True) as s:
            scene = repo.get_scene(s, scene_id)
            reviewed = repo.get_scene_review(s, scene_id) is not None
            return scene.status, needs_tracks(scene.error), reviewed
    finally:
        db.dispose()


def test_the_api_refuses_to_declare_a_scene_that_needs_tracks_unusable(
    no_tracks: dict[str, object],  # noqa: F811
    tmp_path: Path,
) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    url, sid = str(no_tracks["url"]), int(str(no_tracks["tracks"]))
    db = Database(url)
    app = create_app(Settings(db=db.url, api_token=SecretStr("t"), cache_dir=tmp_path / "c"), db)
    try:
        client = TestClient(app)
        r = client.put(
            f"/api/scenes/{sid}/review",
            json={"unusable": "no tracks"},
            headers={"Authorization": "Bearer t"},
        )
        assert r.status_code == 422, r.text
        said = r.text
        assert "has no track centrelines, not because the image is bad" in said
        assert "Give the site its track centrelines and process it again" in said
    finally:
        db.dispose()
    assert _state(url, sid) == ("failed", True, False)  # nothing changed


def copy_db(url: str, tmp_path: Path) -> Database:
    """A copy of the SQLite database at ``url`` in ``tmp_path`` (rw.db), made by SQLite's
    own backup: a file copy misses what is still in the write-ahead log while another
    connection holds it."""
    import sqlite3

    src = sqlite3.connect(url.removeprefix("sqlite:///"))
    dst = sqlite3.connect(tmp_path / "rw.db")
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    return Database(f"sqlite:///{tmp_path / 'rw.db'}")


def test_the_cli_refuses_it_too_and_a_plain_failure_is_still_declared(
    no_tracks: dict[str, object],  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = copy_db(str(no_tracks["url"]), tmp_path).url  # the module's stays as it is
    sid, gone = str(no_tracks["tracks"]), str(no_tracks["gone"])
    capsys.readouterr()
    assert main(["--db", url, "scene", "review", sid, "--unusable", "no tracks"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"scene {sid} is not counted because its site 'yard' has no track" in err
    assert _state(url, int(sid)) == ("failed", True, False)
    assert main(["--db", url, "scene", "review", gone, "--unusable", "file lost"]) == 0
    assert _state(url, int(gone)) == ("unusable", False, True)


@pytest.mark.slow
@pytest.mark.services
def test_the_dashboard_offers_no_declaration_for_a_scene_that_needs_tracks(
    no_tracks: dict[str, object],  # noqa: F811
    browser: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The site page in headless Chromium, offline: the review box of the scene that
    needs track centrelines says what to do and has no *Declare unusable*; the scene
    whose file is gone still has it."""
    pytest.importorskip("uvicorn")
    from helpers import serve_db

    capsys.readouterr()
    db = Database(str(no_tracks["url"]))
    sid, gone = no_tracks["tracks"], no_tracks["gone"]
    try:
        with serve_db(db, Path(str(no_tracks["tmp"])) / "c2", token="t") as url:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.set_default_timeout(60_000)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{url}/sites/yard#{sid}")
            page.wait_for_selector("body[data-ready='1']")
            page.wait_for_selector("#review .review-needs-tracks")
            assert page.locator("#review #review-declare").count() == 0
            assert page.locator("#review #review-unusable").count() == 0
            page.locator(f"button.scene[data-scene='{gone}']").click()
            page.wait_for_selector("#review .review-not-counted")
            assert page.locator("#review .review-needs-tracks").count() == 0
            assert page.locator("#review #review-declare").count() == 1
            assert errors == []
    finally:
        db.dispose()


#: one GeoJSON of a yard's polygon and a track line, as geojson.io writes it
_YARD = [[130.605, 42.419], [130.611, 42.419], [130.611, 42.4238], [130.605, 42.4238]]
_LINE = [[130.6055, 42.4200], [130.6105, 42.4230]]
_MIXED = {
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon",
                                                          "coordinates": [[*_YARD, _YARD[0]]]}},
        {"type": "Feature", "properties": {}, "geometry": {"type": "LineString",
                                                          "coordinates": _LINE}},
    ],
}  # fmt: skip
#: what only the command line or Python has: the web API has none of them
_CLI_WORDS = ("--geojson", "--tracks", "--bbox", "site edit", "FILE", "in Python", "tracks=")


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Any]:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    app = create_app(Settings(db=db.url, api_token=SecretStr("t"), cache_dir=tmp_path / "c"), db)
    try:
        yield TestClient(app, headers={"Authorization": "Bearer t"})
    finally:
        db.dispose()


def _detail(response: Any) -> str:
    assert response.status_code == 422, response.text
    detail = str(response.json()["detail"])
    assert not [w for w in _CLI_WORDS if w in detail], detail
    return detail


def test_web_words_for_a_mixed_site_geojson_name_the_apis_fields(web: Any) -> None:
    bbox = [130.605, 42.419, 130.611, 42.4238]
    said = _detail(web.post("/api/sites", json={"name": "a", "geometry": _MIXED}))
    assert "holds the site's polygons and its track lines together" in said
    assert "send it as both `geometry` and `tracks`" in said
    said = _detail(web.post("/api/sites", json={"name": "b", "bbox": bbox, "tracks": _MIXED}))
    assert "send it as both `geometry` and `tracks`" in said
    # PATCH /api/sites/SITE takes the file since s41, as site edit (test_consistency_s41)
    assert "for a site given by `bbox`, remove the polygons from `tracks`" in said
    # what the words say works: the GeoJSON as both fields
    ok = web.post("/api/sites", json={"name": "c", "geometry": _MIXED, "tracks": _MIXED})
    assert ok.status_code == 201, ok.text
    # and PATCH takes it whole since s41, as site edit --tracks does (it pinned the refusal)
    patched = web.patch("/api/sites/c", json={"tracks": _MIXED})
    assert patched.status_code == 200, patched.text
    lines = {"type": "LineString", "coordinates": _LINE}
    said = _detail(web.post("/api/sites", json={"name": "d", "geometry": lines}))
    assert "give them as the site's tracks (`tracks`" in said
    point = {"type": "Point", "coordinates": _LINE[0]}
    said = _detail(web.post("/api/sites", json={"name": "e", "geometry": point}))
    assert "give W,S,E,N as `bbox` in place of `geometry`" in said


def test_the_librarys_words_are_the_clis_still() -> None:
    from railwatch.errors import GeometryError
    from railwatch.sites import site_from_bbox, site_from_geojson

    with pytest.raises(GeometryError) as info:
        site_from_geojson("a", _MIXED)
    assert "(--geojson FILE --tracks FILE; site_from_geojson(name, FILE, tracks=FILE)" in str(
        info.value
    )
    with pytest.raises(GeometryError) as info:
        site_from_bbox("b", [130.605, 42.419, 130.611, 42.4238], tracks=_MIXED)
    # site edit takes such a file since s41 (test_walkthrough_fixes_s41)
    said = str(info.value)
    assert "(for a site given by --bbox, or in Python's set_site_tracks, remove the" in said
