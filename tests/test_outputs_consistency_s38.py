"""Small inconsistencies between railwatch's outputs, fixed in session 38 (2026-12-06).

1. ``railwatch analyze SITE --json`` gave the alerts without the stored alert's id,
   which the table shows and ``railwatch alert ack ID`` takes.
2. ``railwatch export SITE``: a row of an unusable image says so in every format
   (``usable`` false, ``no_count_reason`` ``unusable: `` and its reasons, the scenes
   layer's ``usable`` and ``reasons``), its counts empty, never zeros. Checked in
   session 38: the export already wrote this (since session 24; GeoParquet was tested
   by no test); these tests pin it.
3. A quality (silence) alert's dates (its key's day, ``when``/``day``,
   ``metrics.last_usable``, ``gap_until``, ``latest_image``) meant what no text said:
   docs/alerts.md, *The dates of a quality alert*, says it, and these tests check it.
4. The counts CSVs (``railwatch export --format csv``, the API's ``format=csv``) wrote
   ``clear_fraction`` (and ``coverage``) as stored, ``0.8123456789``: now to 4 decimals;
   the JSON and the other export formats keep full precision.
5. The REST counts API took the series' class as ``class`` (the query) and answered it
   as ``cls``: its JSON and CSV now name it ``class``; the JSON keeps ``cls`` beside it
   (documented, read by clients), and ``analyze --counts`` reads either CSV.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from railwatch.analysis import Alert, CountPoint, analyze_series
from railwatch.cli.main import main
from railwatch.export.gis import export_site
from railwatch.storage import Database
from railwatch.storage.models import Scene
from test_cli_analyze import _csv, _store_counts
from test_export_reviewed_s37 import site  # noqa: F401


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    capsys.readouterr()
    assert main(list(args)) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    _store_counts(url)
    return url


def test_analyze_site_json_gives_each_stored_alert_its_id(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _json(capsys, "--db", db_url, "analyze", "yard", "--json")
    alerts = out["alerts"]
    assert len(alerts) >= 2
    stored = _json(capsys, "--db", db_url, "alerts", "yard", "--json", "--all")
    ids = {a["key"]: a["id"] for a in stored}
    assert [a["id"] for a in alerts] == [ids[a["key"]] for a in alerts]
    assert all(isinstance(a["id"], int) for a in alerts)
    assert next(iter(alerts[0])) == "id"  # first, as in `railwatch alerts --json`
    # the id is the one `railwatch alert ack ID` takes
    spike = next(a for a in alerts if a["kind"] == "spike")
    acked = _json(capsys, "--db", db_url, "alert", "ack", str(spike["id"]), "--json")
    assert acked["id"] == spike["id"] and acked["key"] == spike["key"]
    assert acked["acknowledged"] is True


def test_analyze_look_back_ids_only_where_stored(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _json(capsys, "--db", db_url, "analyze", "yard", "--json")
    # a look-back stores nothing: its alerts have no id (null, the key is there)
    back = _json(capsys, "--db", db_url, "analyze", "yard", "--as-of", "2024-01-01", "--json")
    assert back["stored"] is False and back["alerts"]
    assert all(a["id"] is None for a in back["alerts"])
    # with --store they are the stored alerts, with their ids
    kept = _json(
        capsys, "--db", db_url, "analyze", "yard", "--as-of", "2024-01-01", "--store", "--json"
    )
    stored = _json(capsys, "--db", db_url, "alerts", "yard", "--json", "--all")
    ids = {a["key"]: a["id"] for a in stored}
    assert kept["stored"] is True and kept["alerts"]
    assert [a["id"] for a in kept["alerts"]] == [ids[a["key"]] for a in kept["alerts"]]


def test_analyze_counts_json_id_is_null(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    alerts = _json(capsys, "analyze", "--counts", str(_csv(tmp_path)), "--json")
    assert alerts and all("id" in a and a["id"] is None for a in alerts)


#: The export's images that are unusable (test_export_reviewed_s37's site): by the
#: quality check, and declared so by an analyst; with what their rows say why.
UNUSABLE = {
    "refused": "clouds cover 70 % of the site",
    "declared": "unusable by analyst review: night image",
}
#: The counts of a row: empty (null) for an unusable image, never 0.
COUNT_COLUMNS = ("count", "low", "high", "covered", "count_boxcar", "count_tank")


def _check_unusable_rows(rows: dict[int, dict[str, Any]], ids: dict[str, int]) -> None:
    for name, reasons in UNUSABLE.items():
        row = rows[ids[name]]
        assert row["usable"] is False and row["status"] == "unusable", name
        assert row["no_count_reason"] == f"unusable: {reasons}", name
        assert all(row[c] is None for c in COUNT_COLUMNS), (name, row)
    counted = rows[ids["counted"]]
    assert counted["usable"] is True and counted["count"] == 61.0 and counted["count_tank"] == 21


def _check_unusable_scenes(rows: dict[int, dict[str, Any]], ids: dict[str, int]) -> None:
    for name, reasons in UNUSABLE.items():
        assert (rows[ids[name]]["usable"], rows[ids[name]]["reasons"]) == (False, reasons)
    assert (rows[ids["counted"]]["usable"], rows[ids["counted"]]["reasons"]) == (True, "")


def _typed_csv(value: str) -> Any:
    """A CSV cell as the other formats give it: empty None, true/false, numbers."""
    if value == "":
        return None
    if value in ("true", "false"):
        return value == "true"
    try:
        return float(value)
    except ValueError:
        return value


def test_csv_export_says_an_unusable_image_is_one(
    site: tuple[Database, dict[str, int]],  # noqa: F811
    tmp_path: Path,
) -> None:
    db, ids = site
    out = export_site(db, "yard", "csv", tmp_path / "counts.csv")
    with out.open(newline="") as fh:
        rows = {
            int(r["scene_id"]): {k: _typed_csv(v) for k, v in r.items()} for r in csv.DictReader(fh)
        }
    _check_unusable_rows(rows, ids)


def test_geojson_export_says_an_unusable_image_is_one(
    site: tuple[Database, dict[str, int]],  # noqa: F811
    tmp_path: Path,
) -> None:
    db, ids = site
    out = export_site(db, "yard", "geojson", tmp_path / "gj")

    def rows(layer: str) -> dict[int, dict[str, Any]]:
        doc = json.loads((out / f"{layer}.geojson").read_text(encoding="utf-8"))
        return {f["properties"]["scene_id"]: f["properties"] for f in doc["features"]}

    _check_unusable_rows(rows("counts"), ids)
    _check_unusable_scenes(rows("scenes"), ids)


def test_geopackage_export_says_an_unusable_image_is_one(
    site: tuple[Database, dict[str, int]],  # noqa: F811
    tmp_path: Path,
) -> None:
    db, ids = site
    out = export_site(db, "yard", "gpkg", tmp_path / "yard.gpkg")
    con = sqlite3.connect(out)
    con.row_factory = sqlite3.Row
    try:

        def rows(layer: str) -> dict[int, dict[str, Any]]:
            found = {}
            for r in con.execute(f"SELECT * FROM {layer}"):
                row = dict(r)
                # GeoPackage stores a boolean as an integer 0/1
                row["usable"] = None if row["usable"] is None else bool(row["usable"])
                found[int(row["scene_id"])] = row
            return found

        _check_unusable_rows(rows("counts"), ids)
        _check_unusable_scenes(rows("scenes"), ids)
    finally:
        con.close()


def test_geoparquet_export_says_an_unusable_image_is_one(
    site: tuple[Database, dict[str, int]],  # noqa: F811
    tmp_path: Path,
) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    db, ids = site
    out = export_site(db, "yard", "geoparquet", tmp_path / "pq")

    def rows(layer: str) -> dict[int, dict[str, Any]]:
        table = pq.read_table(out / f"{layer}.parquet")
        return {r["scene_id"]: r for r in table.to_pylist()}

    _check_unusable_rows(rows("counts"), ids)
    _check_unusable_scenes(rows("scenes"), ids)


#: A site 9 hours east of UTC: its days are local days, its images at 18:00 there.
ZONE = timedelta(hours=9)
FIRST = date(2021, 3, 1)


def _at(day: date) -> datetime:
    return datetime.combine(day, time(9), tzinfo=UTC)  # 18:00 at the site


def _weekly(n: int) -> list[CountPoint]:
    """``n`` usable images a week apart from FIRST (median gap 7: expected 45 days)."""
    return [CountPoint(when=_at(FIRST + timedelta(days=7 * k)), count=20.0) for k in range(n)]


def _unusable(*days: date) -> list[CountPoint]:
    return [CountPoint(when=_at(d), count=None, usable=False) for d in days]


def _silence(points: list[CountPoint], as_of: date) -> Alert:
    alerts = analyze_series(points, as_of=_at(as_of), utc_offset=ZONE)
    (silence,) = [a for a in alerts if a.kind == "quality"]
    return silence


def _alert_day(alert: Alert) -> date:
    """The alert's ``day``: its time's local day; ``when`` is that day's local midnight."""
    local = alert.when.astimezone(UTC) + ZONE
    assert local.time() == time(0), alert.when
    return local.date()


def test_quality_alert_dates_of_an_ongoing_low_silence() -> None:
    last = FIRST + timedelta(days=7 * 9)
    points = _weekly(10) + _unusable(last + timedelta(days=20), last + timedelta(days=50))
    a = _silence(points, last + timedelta(days=60))
    assert (a.severity, a.metrics["ongoing"]) == ("low", "yes")
    assert a.key == f"quality:all:{last}" and a.metrics["last_usable"] == str(last)
    assert _alert_day(a) == last + timedelta(days=45)  # the silence became unexpected
    # not the as-of day: the day the explanation states the silence on, the alert's date
    assert a.metrics["gap_until"] == str(last + timedelta(days=45)) == str(_alert_day(a))
    assert a.metrics["gap_days"] == 45.0
    assert a.metrics["latest_image"] == str(last + timedelta(days=50))


def test_quality_alert_dates_of_an_ongoing_medium_silence() -> None:
    last = FIRST + timedelta(days=7 * 9)
    a = _silence(_weekly(10), last + timedelta(days=200))
    assert (a.severity, a.metrics["ongoing"]) == ("medium", "yes")
    assert _alert_day(a) == last + timedelta(days=45)
    # the day it reached twice the expected gap, whatever the as-of day
    assert a.metrics["gap_until"] == str(last + timedelta(days=90))
    assert a.metrics["gap_days"] == 90.0
    assert a.metrics["latest_image"] == ""  # the site has no later image


def test_quality_alert_dates_of_an_ended_silence() -> None:
    last = FIRST + timedelta(days=7 * 9)
    back = last + timedelta(days=60)
    points = [*_weekly(10), *_unusable(last + timedelta(days=30))]
    points.append(CountPoint(when=_at(back), count=20.0))
    a = _silence(points, back + timedelta(days=5))
    assert a.metrics["ongoing"] == "no" and a.severity == "info"
    assert a.key == f"quality:all:{last}" and a.metrics["last_usable"] == str(last)
    assert _alert_day(a) == last + timedelta(days=45)
    assert a.metrics["gap_until"] == str(back)  # the usable image that ended it
    assert a.metrics["gap_days"] == 60.0
    assert "latest_image" not in a.metrics


def test_quality_alert_dates_of_a_site_never_seen() -> None:
    days = [FIRST + timedelta(days=10 * k) for k in range(3)]
    a = _silence(_unusable(*days), FIRST + timedelta(days=200))
    assert a.key == f"quality:all:{FIRST}"  # the first image's day
    assert a.metrics["last_usable"] == ""
    assert _alert_day(a) == FIRST + timedelta(days=45)
    assert a.metrics["gap_until"] == str(FIRST + timedelta(days=90))  # medium
    assert a.metrics["latest_image"] == str(days[-1])


def test_docs_name_every_date_of_a_quality_alert() -> None:
    text = (Path(__file__).parents[1] / "docs" / "alerts.md").read_text(encoding="utf-8")
    section = text.split("**The dates of a quality alert.**", 1)[1].split("\n\n", 2)[1]
    for name in ("quality:all:DAY", "`when`, `day`", "last_usable", "gap_until", "latest_image"):
        assert name in section, name


CLEAR, COVERAGE = 0.8123456789, 0.27341234567


@pytest.fixture
def fractions(
    site: tuple[Database, dict[str, int]],  # noqa: F811
) -> tuple[Database, dict[str, int]]:
    """test_export_reviewed_s37's site, its counted and refused images measured to the
    last digit, as the quality check stores them."""
    db, ids = site
    with db.session() as s:
        for name in ("counted", "refused"):
            scene = s.get(Scene, ids[name])
            assert scene is not None
            scene.clear_fraction, scene.quality_coverage = CLEAR, COVERAGE
    return db, ids


def test_export_csv_writes_fractions_to_4_decimals(
    fractions: tuple[Database, dict[str, int]], tmp_path: Path
) -> None:
    db, ids = fractions
    out = export_site(db, "yard", "csv", tmp_path / "counts.csv")
    with out.open(newline="") as fh:
        rows = {int(r["scene_id"]): r for r in csv.DictReader(fh)}
    for name in ("counted", "refused"):
        row = rows[ids[name]]
        assert (row["clear_fraction"], row["coverage"]) == ("0.8123", "0.2734"), name
    assert rows[ids["failed"]]["coverage"] == "1.0"  # not written as 1.0000
    # the GeoJSON export keeps the full value
    gj = export_site(db, "yard", "geojson", tmp_path / "gj")
    doc = json.loads((gj / "counts.geojson").read_text(encoding="utf-8"))
    props = {f["properties"]["scene_id"]: f["properties"] for f in doc["features"]}
    assert props[ids["counted"]]["clear_fraction"] == CLEAR
    assert props[ids["counted"]]["coverage"] == COVERAGE


def test_api_counts_csv_writes_fractions_to_4_decimals(
    fractions: tuple[Database, dict[str, int]], tmp_path: Path
) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    db, ids = fractions
    settings = Settings(db=db.url, api_token=SecretStr("t"), cache_dir=tmp_path / "cache")
    client = TestClient(create_app(settings, db))
    auth = {"Authorization": "Bearer t"}
    r = client.get("/api/sites/yard/counts", params={"format": "csv"}, headers=auth)
    assert r.status_code == 200, r.text
    rows = {int(row["scene_id"]): row for row in csv.DictReader(io.StringIO(r.text))}
    for name in ("counted", "refused"):
        row = rows[ids[name]]
        assert (row["clear_fraction"], row["coverage"]) == ("0.8123", "0.2734"), name
    # the JSON keeps full precision
    r = client.get("/api/sites/yard/counts", headers=auth)
    assert r.status_code == 200, r.text
    items = {p["scene_id"]: p for p in r.json()["items"]}
    assert items[ids["counted"]]["clear_fraction"] == CLEAR
    assert items[ids["counted"]]["coverage"] == COVERAGE


def _client(db: Database, tmp_path: Path) -> Any:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    settings = Settings(db=db.url, api_token=SecretStr("t"), cache_dir=tmp_path / "cache")
    client = TestClient(create_app(settings, db))
    client.headers["Authorization"] = "Bearer t"
    return client


def test_api_counts_name_the_class_as_the_query_does(
    site: tuple[Database, dict[str, int]],  # noqa: F811
    tmp_path: Path,
) -> None:
    db, _ = site
    client = _client(db, tmp_path)
    for cls in ("all", "tank"):
        r = client.get("/api/sites/yard/counts", params={"class": cls})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["class"] == cls and body["cls"] == cls  # the old name kept
        assert body["items"]
        for item in body["items"]:
            assert item["class"] == item["cls"] == cls
            keys = list(item)
            assert keys.index("cls") == keys.index("class") + 1
        r = client.get("/api/sites/yard/counts", params={"class": cls, "format": "csv"})
        header, *rows = list(csv.reader(io.StringIO(r.text)))
        assert "class" in header and "cls" not in header
        assert {row[header.index("class")] for row in rows} == {cls}
    # the query's name is class: cls is refused, naming class, as it was before
    r = client.get("/api/sites/yard/counts", params={"cls": "tank"})
    assert r.status_code == 422 and "class" in r.text


def test_api_counts_schema_declares_class(
    site: tuple[Database, dict[str, int]],  # noqa: F811
    tmp_path: Path,
) -> None:
    db, _ = site
    spec = _client(db, tmp_path).get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    for name in ("CountPoint", "CountSeries"):
        props = schemas[name]["properties"]
        assert "class" in props and "cls" in props, name
        assert "class" in schemas[name]["required"], name


def test_api_counts_csv_reads_back_with_its_class(
    site: tuple[Database, dict[str, int]],  # noqa: F811
    tmp_path: Path,
) -> None:
    from railwatch.analysis.csvio import read_counts_csv

    db, ids = site
    r = _client(db, tmp_path).get(
        "/api/sites/yard/counts", params={"class": "tank", "format": "csv"}
    )
    path = tmp_path / "tank.csv"
    path.write_text(r.text, encoding="utf-8")
    points = [p for series in read_counts_csv(path).values() for p in series]
    assert points and {p.cls for p in points} == {"tank"}
    usable = {p.scene_id: p.count for p in points if p.is_usable}
    assert usable == {ids["counted"]: 21.0, ids["count_reviewed"]: 21.0}
