"""Small faults a walkthrough of session 41 (2026-12-06) found, one test group each.

1. ``railwatch --db sqlite:///new.db restore bk.db`` into a database that does not
   exist yet asked for --yes because restoring "replaces the database": nothing is
   replaced there. Backup and restore also printed the backup's path as given,
   un-normalised (``/abs/exp5/../bk.db``), beside the database's resolved path."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import MultiLineString

from railwatch.cli import _common
from railwatch.cli.main import main
from railwatch.report.caveats import build_caveats
from railwatch.report.format import fmt_count
from railwatch.report.model import AlertRow, ChipImage, Evidence, SceneRow
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo
from railwatch.storage.backup import backup
from railwatch.storage.models import from_wkb
from report_db import FakeCount
from test_scene_review import _scene


def _database(path: Path) -> str:
    url = f"sqlite:///{path}"
    with Database(url) as db, db.session() as s:
        repo.add_site(s, site_from_bbox("yard", (130.60, 42.40, 130.61, 42.41)))
    return url


# ------------------------------------------------------------ 1. backup and restore


def test_restore_into_a_database_that_does_not_exist_asks_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tmp_path = tmp_path.resolve()  # the database path is said resolved
    saved = backup(_database(tmp_path / "live.db"), tmp_path / "bk.db").path
    new = tmp_path / "new.db"
    # standard input is not a terminal here: a question would refuse it (status 2)
    assert main(["--db", f"sqlite:///{new}", "restore", str(saved)]) == 0
    out = capsys.readouterr().out
    assert f"restored {new} from" in out and "there was no database there: it was created" in out
    with Database(f"sqlite:///{new}") as db, db.session(readonly=True) as s:
        assert [site.name for site in repo.list_sites(s)] == ["yard"]
    # into the database now there, it asks again (and is refused without --yes)
    assert main(["--db", f"sqlite:///{new}", "restore", str(saved)]) == 2
    assert "pass --yes to confirm" in capsys.readouterr().err


def test_restore_json_says_whether_it_created_the_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tmp_path = tmp_path.resolve()  # the database path is said resolved
    saved = backup(_database(tmp_path / "live.db"), tmp_path / "bk.db").path
    new = tmp_path / "new.db"
    assert main(["--db", f"sqlite:///{new}", "restore", str(saved), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["created"] is True
    assert main(["--db", f"sqlite:///{new}", "restore", str(saved), "--json", "--yes"]) == 0
    said = json.loads(capsys.readouterr().out)
    assert said["created"] is False and said["kept"]


def test_backup_and_restore_print_the_backup_path_normalised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp_path = tmp_path.resolve()
    url = _database(tmp_path / "live.db")
    (tmp_path / "exp5").mkdir()
    monkeypatch.chdir(tmp_path)
    assert main(["--db", url, "backup", "exp5/../bk.db"]) == 0
    out = capsys.readouterr().out
    assert f"to {tmp_path / 'bk.db'} " in out and ".." not in out
    assert main(["--db", url, "backup", "exp5/../bk2.db", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["backup"] == str(tmp_path / "bk2.db")
    # refused without --yes: the question's words name it so too
    assert main(["--db", url, "restore", "exp5/../bk.db"]) == 2
    err = capsys.readouterr().err
    assert f"with {tmp_path / 'bk.db'};" in err and ".." not in err
    assert main(["--db", url, "restore", "exp5/../bk.db", "--yes"]) == 0
    out = capsys.readouterr().out
    assert f"from {tmp_path / 'bk.db'} " in out and "/../" not in out
    assert main(["--db", url, "restore", "./exp5/../bk2.db", "--yes", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["backup"] == str(tmp_path / "bk2.db")


# ------------------------------------------------------------ 2. the covered count


def test_scene_show_prints_the_covered_count_without_an_interval(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("RAILWATCH_DB", url)
    monkeypatch.setattr(_common.console, "width", 300)
    with Database(url) as db:
        sid = _scene(db, count=FakeCount(20, 17, 24, {"boxcar": (20, 17, 24)}, 15))
    assert main(["scene", "show", str(sid), "--json"]) == 0
    stored = json.loads(capsys.readouterr().out)["counts"]
    assert stored["covered"]["low"] == stored["covered"]["high"] == 15  # no interval
    assert main(["scene", "show", str(sid)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "counts" in x)
    assert "covered 15" in line and "[15-15]" not in line
    assert "all 20 [17-24]" in line and "boxcar 20 [17-24]" in line  # real ones stay
    # as the report prints it
    cov = stored["covered"]
    assert fmt_count(cov["count"], cov["low"], cov["high"]) == "15"


# ------------------------------------------------------------ 3. site edit --tracks

YARD = [[8.50, 47.37], [8.52, 47.37], [8.52, 47.38], [8.50, 47.38], [8.50, 47.37]]


def _mixed(lines: list[list[list[float]]], ring: list[list[float]] = YARD) -> str:
    """One GeoJSON file of a yard's polygon and its track lines, as geojson.io writes it."""
    features = [{"type": "Polygon", "coordinates": [ring]}] + [
        {"type": "LineString", "coordinates": line} for line in lines
    ]
    return json.dumps(
        {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": {}, "geometry": g} for g in features],
        }
    )


def _tracks(url: str) -> list[list[tuple[float, ...]]]:
    with Database(url) as db, db.session(readonly=True) as s:
        site = repo.get_site(s, "yard")
        assert site.tracks_wkb is not None
        lines = from_wkb(site.tracks_wkb)
        assert isinstance(lines, MultiLineString)
        return [list(line.coords) for line in lines.geoms]


def test_site_edit_takes_the_lines_of_the_file_site_add_takes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    monkeypatch.setenv("RAILWATCH_DB", url)
    first = tmp_path / "yard.geojson"
    first.write_text(_mixed([[[8.501, 47.375], [8.519, 47.375]]]))
    assert main(["site", "add", "yard", "--geojson", str(first), "--tracks", str(first)]) == 0
    assert _tracks(url) == [[(8.501, 47.375), (8.519, 47.375)]]
    # the same file, its lines redrawn in geojson.io: site edit takes its lines
    redrawn = tmp_path / "yard2.geojson"
    two = [[[8.501, 47.374], [8.519, 47.374]], [[8.501, 47.376], [8.519, 47.376]]]
    redrawn.write_text(_mixed(two))
    capsys.readouterr()
    code = main(["site", "edit", "yard", "--tracks", str(redrawn)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "track centrelines replaced (2 lines)" in out
    assert _tracks(url) == [[tuple(p) for p in line] for line in two]


def test_site_edit_refuses_a_file_whose_polygon_is_another_site(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    monkeypatch.setenv("RAILWATCH_DB", url)
    first = tmp_path / "yard.geojson"
    first.write_text(_mixed([[[8.501, 47.375], [8.519, 47.375]]]))
    assert main(["site", "add", "yard", "--geojson", str(first), "--tracks", str(first)]) == 0
    bigger = [[8.50, 47.37], [8.53, 47.37], [8.53, 47.38], [8.50, 47.38], [8.50, 47.37]]
    other = tmp_path / "other.geojson"
    other.write_text(_mixed([[[8.501, 47.376], [8.529, 47.376]]], bigger))
    capsys.readouterr()
    assert main(["site", "edit", "yard", "--tracks", str(other)]) != 0
    err = " ".join(capsys.readouterr().err.split())
    assert "not the polygon of site 'yard'" in err and "polygon cannot be changed" in err
    assert _tracks(url) == [[(8.501, 47.375), (8.519, 47.375)]]  # unchanged


# ------------------------------------------------------------ 4. the coarse caveat


def _coarse_row(i: int, total: float) -> SceneRow:
    return SceneRow(
        scene_id=i,
        when=datetime(2024, 3, 1, tzinfo=UTC) + timedelta(days=10 * i),
        sensor="S",
        gsd=3.0,
        usable=True,
        clear_fraction=0.95,
        coverage=1.0,
        total=total,
        low=total - 3,
        high=total + 3,
        method="length",
    )


def test_info_alerts_alone_give_no_caveat_of_alert_images() -> None:
    rows = [_coarse_row(i, 20.0 + i) for i in range(3)]
    # info alerts never get images (builder._with_images): the report draws its latest
    # image alone
    evidence = [
        Evidence(AlertRow(f"k{i}", "shift", "info", r.when, "all", r.total or 0.0, "x"),
                 None, None, after_row=r)
        for i, r in enumerate(rows)
    ]  # fmt: skip
    caveats = build_caveats(rows, evidence)
    assert not any("alert image" in c for c in caveats), caveats
    # the image drawn, the latest, is said to be car-equivalents, as a lone image is
    latest = rows[-1].day.isoformat()
    assert any(c.startswith(f"{latest}: at 3 m") and "car-equivalents" in c for c in caveats)
    assert not any(c.startswith(rows[0].day.isoformat()) for c in caveats)
    # and every coarse count is still said to be an estimate
    assert any("3 of 3 counts come from images coarser than" in c for c in caveats)


def test_alert_images_shown_are_still_said_too_coarse() -> None:
    rows = [_coarse_row(i, 20.0 + i) for i in range(3)]
    chip = ChipImage(np.zeros((8, 8, 3), np.uint8), 3.0, (), "t", ("a", "b"), (0, 8, 0, 8))
    evidence = [
        Evidence(AlertRow(f"k{i}", "record", "high", r.when, "all", r.total or 0.0, "x"),
                 chip if i else None, None, after_row=r)
        for i, r in enumerate(rows)
    ]  # fmt: skip
    coarse = [c for c in build_caveats(rows, evidence) if "too coarse" in c]
    # the two drawn, not the one without its images
    days = f"{rows[1].day}, {rows[2].day}"
    assert len(coarse) == 1 and f"The alert images of {days} are too coarse" in coarse[0]
