"""Places where two parts of railwatch said or did one thing two ways (session 41,
2026-12-06), one test group each.

1. ``railwatch restore`` into an existing database file of 0 bytes asked for --yes
   "to replace the database", though nothing is replaced (as into a missing file,
   49cbe2b); a file with anything in it is still asked about.
2. ``PATCH /api/sites/SITE`` with ``tracks`` refused the GeoJSON of the site's polygon
   and its lines together that ``railwatch site edit --tracks FILE`` takes since
   18478e4: it reads it with the same functions now
   (``sites.load_tracks_of_stored_site``, ``sites.check_stored_site_polygon``), and says
   what is wrong in the API's words (``web.errors.API_HINTS``).
3. A report none of whose alerts has images draws its latest image with a count of
   cars (``builder.lone_image``); its caveats spoke of the latest image with any count,
   a 10 m presence image too, which is not drawn. One rule now
   (``report.model.latest_car_image``). And an info alert's image, never drawn, got a
   dated caveat of its covered loads (and the image drawn none): the dated caveats
   follow the images drawn, as cbffdde made the coarse caveat do."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from railwatch.cli.main import main
from railwatch.errors import GeometryError
from railwatch.report.builder import lone_image
from railwatch.report.caveats import build_caveats
from railwatch.report.model import AlertRow, ChipImage, Evidence, SceneRow
from railwatch.sites import (
    check_stored_site_polygon,
    load_tracks_of_stored_site,
    site_from_bbox,
    site_from_geojson,
)
from railwatch.storage import Database, repo
from railwatch.storage.backup import backup, restore
from test_leftovers_s41 import web  # noqa: F401 (the fixture: the app over a new database)


def _database(path: Path) -> str:
    url = f"sqlite:///{path}"
    with Database(url) as db, db.session() as s:
        repo.add_site(s, site_from_bbox("yard", (130.60, 42.40, 130.61, 42.41)))
    return url


# ------------------------------------------------------------ 1. restore into an empty file


def test_restore_into_an_empty_file_asks_nothing_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tmp_path = tmp_path.resolve()
    saved = backup(_database(tmp_path / "live.db"), tmp_path / "bk.db").path
    empty = tmp_path / "empty.db"
    empty.touch()
    # standard input is not a terminal here: a question would refuse it (status 2)
    assert main(["--db", f"sqlite:///{empty}", "restore", str(saved)]) == 0
    out = capsys.readouterr().out
    assert f"restored {empty} from" in out
    assert "the database file there was empty (0 bytes): nothing was replaced" in out
    assert "kept in" not in out
    with Database(f"sqlite:///{empty}") as db, db.session(readonly=True) as s:
        assert [site.name for site in repo.list_sites(s)] == ["yard"]
    # now it holds a database: asked again, refused without --yes
    assert main(["--db", f"sqlite:///{empty}", "restore", str(saved)]) == 2
    assert "pass --yes to confirm" in capsys.readouterr().err


def test_restore_json_into_an_empty_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tmp_path = tmp_path.resolve()
    saved = backup(_database(tmp_path / "live.db"), tmp_path / "bk.db").path
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    assert main(["--db", f"sqlite:///{empty}", "restore", str(saved), "--json"]) == 0
    said = json.loads(capsys.readouterr().out)
    assert said["created"] is True and said["was_empty"] is True and said["kept"] is None


def test_restore_into_a_non_empty_file_still_asks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tmp_path = tmp_path.resolve()
    saved = backup(_database(tmp_path / "live.db"), tmp_path / "bk.db").path
    other = tmp_path / "other.db"
    other.write_bytes(b"x")  # one byte: not a database, but not nothing either
    assert main(["--db", f"sqlite:///{other}", "restore", str(saved)]) == 2
    assert "pass --yes to confirm" in capsys.readouterr().err
    assert other.read_bytes() == b"x"
    # 0 bytes beside a write-ahead log that holds something: may hold a database
    walled = tmp_path / "walled.db"
    walled.touch()
    (tmp_path / "walled.db-wal").write_bytes(b"x")
    assert main(["--db", f"sqlite:///{walled}", "restore", str(saved)]) == 2
    assert "pass --yes to confirm" in capsys.readouterr().err


def test_library_restore_into_an_empty_file_says_created(tmp_path: Path) -> None:
    saved = backup(_database(tmp_path / "live.db"), tmp_path / "bk.db").path
    empty = tmp_path / "empty.db"
    empty.touch()
    result = restore(f"sqlite:///{empty}", saved)
    assert result.created and result.was_empty and result.kept is None
    again = restore(f"sqlite:///{empty}", saved)  # a database now: kept, not created
    assert not again.created and not again.was_empty and again.kept is not None


# ------------------------------------------------------------ 2. PATCH a site's tracks

_YARD = [[8.50, 47.37], [8.52, 47.37], [8.52, 47.38], [8.50, 47.38], [8.50, 47.37]]
_OTHER = [[8.50, 47.37], [8.53, 47.37], [8.53, 47.38], [8.50, 47.38], [8.50, 47.37]]
#: what only the command line or Python has: the web API has none of them
_CLI_WORDS = ("--geojson", "--tracks", "site add", "site edit", "FILE", "tracks file")


def _mixed(lines: list[list[list[float]]], ring: list[list[float]] = _YARD) -> dict[str, Any]:
    """One GeoJSON of a yard's polygon and its track lines, as geojson.io writes it."""
    features = [{"type": "Polygon", "coordinates": [ring]}] + [
        {"type": "LineString", "coordinates": line} for line in lines
    ]
    return {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {}, "geometry": g} for g in features],
    }


def _lines(site: dict[str, Any]) -> list[list[list[float]]]:
    tracks = site["tracks"]
    assert tracks["type"] == "MultiLineString"
    return [[list(p) for p in line] for line in tracks["coordinates"]]


def test_patch_takes_the_lines_of_the_geojson_the_site_was_made_from(web: Any) -> None:  # noqa: F811
    first = _mixed([[[8.501, 47.375], [8.519, 47.375]]])
    made = web.post("/api/sites", json={"name": "yard", "geometry": first, "tracks": first})
    assert made.status_code == 201, made.text
    # the same GeoJSON, its lines redrawn: its lines replace the site's
    two = [[[8.501, 47.374], [8.519, 47.374]], [[8.501, 47.376], [8.519, 47.376]]]
    patched = web.patch("/api/sites/yard", json={"tracks": _mixed(two)})
    assert patched.status_code == 200, patched.text
    assert _lines(patched.json()) == two
    assert _lines(web.get("/api/sites/yard").json()) == two


def test_patch_refuses_another_polygon_in_the_apis_words(web: Any) -> None:  # noqa: F811
    first = _mixed([[[8.501, 47.375], [8.519, 47.375]]])
    made = web.post("/api/sites", json={"name": "yard", "geometry": first, "tracks": first})
    assert made.status_code == 201, made.text
    other = _mixed([[[8.501, 47.376], [8.529, 47.376]]], _OTHER)
    refused = web.patch("/api/sites/yard", json={"tracks": other})
    assert refused.status_code == 422, refused.text
    detail = refused.json()["detail"]
    assert "`tracks` holds a site polygon" in detail
    assert "not the polygon of site 'yard'" in detail and "polygon cannot be changed" in detail
    assert "remove the polygons from `tracks` to give only its lines" in detail
    assert "POST /api/sites with it as both `geometry` and `tracks`" in detail
    assert not [w for w in _CLI_WORDS if w in detail], detail
    # the CLI's message (the same check), in the API's words
    from railwatch.web.errors import api_words

    stored = site_from_geojson("yard", first, tracks=first).geometry
    with pytest.raises(GeometryError) as info:
        _, polygons = load_tracks_of_stored_site(other)
        check_stored_site_polygon(polygons, stored, "yard")
    assert api_words(str(info.value)) == detail
    assert "the tracks file holds" in str(info.value)  # the CLI keeps its words
    assert _lines(web.get("/api/sites/yard").json()) == [[[8.501, 47.375], [8.519, 47.375]]]


# ------------------------------------------------------------ 3. the image the caveats name


def _row(i: int, gsd: float, method: str, total: float, covered: int | None = None) -> SceneRow:
    return SceneRow(
        scene_id=i,
        when=datetime(2024, 3, 1, tzinfo=UTC) + timedelta(days=10 * i),
        sensor="S",
        gsd=gsd,
        usable=True,
        clear_fraction=0.95,
        coverage=1.0,
        total=total,
        low=total if method == "presence" else total - 2,
        high=total if method == "presence" else total + 2,
        covered=covered,
        method=method,
    )


def _dated(caveats: tuple[str, ...], row: SceneRow) -> list[str]:
    return [c for c in caveats if c.startswith(f"{row.day.isoformat()}:")]


@pytest.mark.parametrize(
    ("gsd", "method", "words"),
    [(3.0, "length", "car-equivalents"), (0.5, "objects", "contents cannot be identified")],
)
def test_caveats_name_the_image_the_report_draws_not_a_later_presence_image(
    gsd: float, method: str, words: str
) -> None:
    counted = _row(0, gsd, method, 20.0, covered=3 if method == "objects" else None)
    presence = _row(1, 10.0, "presence", 1.0)  # later: a long-train flag, no count of cars
    rows = [counted, presence]
    drawn = lone_image(rows, set())  # what the report draws (no alert has images)
    assert drawn is counted
    caveats = build_caveats(rows)
    said = _dated(caveats, drawn)
    assert len(said) == 1 and words in said[0], caveats
    assert not _dated(caveats, presence), caveats  # not drawn: no caveat of its own
    # the builder's own call, with the image it draws
    assert build_caveats(rows, (), lone=drawn) == caveats


def _info(row: SceneRow) -> Evidence:
    alert = AlertRow(f"k{row.scene_id}", "shift", "info", row.when, "all", row.total or 0.0, "x")
    return Evidence(alert, None, None, after_row=row)  # an info alert never gets images


def test_info_alerts_images_get_no_dated_covered_caveat_the_drawn_image_does() -> None:
    rows = [_row(i, 0.5, "objects", 20.0, covered=2 + i) for i in range(3)]
    evidence = [_info(rows[0]), _info(rows[1])]
    caveats = build_caveats(rows, evidence)
    assert lone_image(rows, set()) is rows[2]  # drawn: the latest, no info alert's
    assert _dated(caveats, rows[2]) == [
        f"{rows[2].day}: contents cannot be identified for 4 of 20 cars (20 %): their loads "
        "are under tarpaulins or sheets."
    ]
    assert not _dated(caveats, rows[0]) and not _dated(caveats, rows[1]), caveats
    # what is covered at the info alerts' images is still said, of no day
    assert any(
        c.startswith("At the 2 other alert images, contents cannot be identified for 5 of 40")
        for c in caveats
    ), caveats


def test_an_alert_with_images_keeps_its_dated_caveat() -> None:
    rows = [_row(i, 0.5, "objects", 20.0, covered=2) for i in range(2)]
    chip = ChipImage(np.zeros((8, 8, 3), np.uint8), 0.5, (), "t", ("a", "b"), (0, 8, 0, 8))
    alert = AlertRow("k0", "record", "high", rows[0].when, "all", 20.0, "x")
    caveats = build_caveats(rows, [Evidence(alert, chip, None, after_row=rows[0])])
    assert len(_dated(caveats, rows[0])) == 1
    assert not _dated(caveats, rows[1]), caveats  # an alert has images: no lone image
