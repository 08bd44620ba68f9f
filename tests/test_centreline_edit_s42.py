"""The centreline check where the analyst gives the lines (2026-12-06, session 42).

Session 41's check (railwatch.analysis.centrelines.check_site: a line more than 1.5 m
from the cars stored for the site's latest fine images, or two lines sharing their cars)
was said only by the next `railwatch process`. `railwatch site edit --tracks` and the
API's PATCH /api/sites/{site} now say it at once, from the detections already stored (no
detector is run): the edit itself still succeeds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import LineString, mapping
from shapely.geometry.base import BaseGeometry

from railwatch.cli.main import main
from railwatch.imagery._geo import WGS84, project, utm_crs_for
from railwatch.sites import load_tracks
from railwatch.storage import Database, repo
from test_leftovers_s41 import copy_db

# a small simulated 0.5 m yard (800 x 800 px), as tests/test_centreline_offset_s41.py
_SIMULATE = ["--scene", "--gsd", "0.5", "--cars", "40", "--seed", "5", "--size", "800x800"]
_BBOX = "130.6056,42.4195,130.6106,42.4233"
# its line with the most cars (18), 0-based
_MOVED = 3


def _write(lines: list[BaseGeometry], path: Path) -> Path:
    feats = [{"type": "Feature", "properties": {}, "geometry": mapping(g)} for g in lines]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


@pytest.fixture(scope="module")
def yard(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The yard processed with its exact lines; its lines with one moved 2 m across its
    track; and a site of the same yard with no image."""
    out = tmp_path_factory.mktemp("edit_yard")
    assert main(["simulate", *_SIMULATE, "--name", "yard", "-o", str(out / "img")]) == 0
    exact = out / "img" / "yard.tracks.geojson"
    lines: list[BaseGeometry] = list(load_tracks(exact).geoms)
    crs = utm_crs_for(lines[_MOVED])
    metres = project(lines[_MOVED], WGS84, crs)
    assert isinstance(metres, LineString)
    lines[_MOVED] = project(metres.offset_curve(2.0), crs, WGS84)
    moved = _write(lines, out / "moved.geojson")
    url = f"sqlite:///{out / 'rw.sqlite'}"
    db = ["--db", url]
    assert main([*db, "site", "add", "yard", "--bbox", _BBOX, "--tracks", str(exact)]) == 0
    assert main([*db, "ingest", "yard", str(out / "img")]) == 0
    assert main([*db, "process", "yard"]) == 0
    assert main([*db, "site", "add", "bare", "--bbox", _BBOX]) == 0
    return {"url": url, "exact": exact, "moved": moved, "n": len(lines)}


def _copy(url: str, tmp_path: Path) -> str:
    """A copy of the module's database (SQLite's backup, ``test_leftovers_s41.copy_db``),
    for a test to edit: its URL."""
    db = copy_db(url, tmp_path)
    db.dispose()
    return db.url


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, " ".join(out.split()), " ".join(err.split())


def test_site_edit_warns_of_a_line_moved_2_m_and_still_edits(
    yard: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _copy(yard["url"], tmp_path)
    code, out, err = _run(
        capsys, "--db", url, "site", "edit", "yard", "--tracks", str(yard["moved"])
    )
    assert code == 0, err
    assert f"track centrelines replaced ({yard['n']} lines)" in out
    n = _MOVED + 1
    assert f"warning: site yard: track centreline {n} (the 4th line of its tracks) looks 2." in err
    assert "redraw that line on an image of 1 m or finer" in err
    assert "railwatch site edit yard --tracks FILE" in err
    assert err.count("warning: site yard") == 1, err
    # the edit was made: the moved lines are the site's, its scenes to be counted again
    db = Database(url)
    try:
        with db.session(readonly=True) as s:
            tracks = repo.get_site(s, "yard").tracks
        assert tracks is not None
        assert tracks.equals_exact(load_tracks(yard["moved"]), 1e-9)
    finally:
        db.dispose()
    # --json: the check as `process --json` gives it, and the warnings
    code, out, err = _run(
        capsys, "--db", url, "site", "edit", "yard", "--tracks", str(yard["moved"]), "--json"
    )
    assert code == 0, err
    data = json.loads(out)
    lines = data["centrelines"]["lines"]
    assert [line["line"] for line in lines if line["off"]] == [n]
    assert lines[_MOVED]["offset_m"] == pytest.approx(-2.0, abs=0.5)
    assert len(data["centreline_warnings"]) == 1
    assert data["centreline_warnings"][0].startswith(f"site yard: track centreline {n} ")


def test_site_edit_with_the_exact_lines_says_they_were_checked(
    yard: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _copy(yard["url"], tmp_path)
    moved = str(yard["moved"])
    assert _run(capsys, "--db", url, "site", "edit", "yard", "--tracks", moved)[0] == 0
    code, out, err = _run(
        capsys, "--db", url, "site", "edit", "yard", "--tracks", str(yard["exact"])
    )
    assert code == 0, err
    assert "warning" not in err
    assert "Centrelines checked against the" in out
    assert "none looks more than 1.5 m off its track" in out
    # no image at all: nothing checked, nothing said of it
    code, out, err = _run(capsys, "--db", url, "site", "edit", "bare", "--tracks", moved, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["centrelines"] is None and data["centreline_warnings"] == []
    code, out, err = _run(
        capsys, "--db", url, "site", "edit", "bare", "--tracks", str(yard["exact"])
    )
    assert code == 0, err
    assert "Centrelines checked" not in out and "warning" not in err


@pytest.fixture
def web(yard: dict[str, Any], tmp_path: Path) -> Iterator[Any]:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    db = Database(_copy(yard["url"], tmp_path))
    app = create_app(Settings(db=db.url, api_token=SecretStr("t"), cache_dir=tmp_path / "c"), db)
    try:
        yield TestClient(app, headers={"Authorization": "Bearer t"})
    finally:
        db.dispose()


def test_patch_of_the_tracks_answers_the_check_in_the_apis_words(
    yard: dict[str, Any], web: Any
) -> None:
    moved = json.loads(Path(yard["moved"]).read_text())
    r = web.patch("/api/sites/yard", json={"tracks": moved})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["recount"]["changed"] is True  # the edit was made
    assert [line["line"] for line in body["centrelines"]["lines"] if line["off"]] == [_MOVED + 1]
    [said] = body["centreline_warnings"]
    assert said.startswith(f"site yard: track centreline {_MOVED + 1} (the 4th line")
    assert "PATCH /api/sites/yard with them as `tracks`" in said
    assert "railwatch site edit" not in said
    # the exact lines: checked, no warning
    exact = json.loads(Path(yard["exact"]).read_text())
    body = web.patch("/api/sites/yard", json={"tracks": exact}).json()
    assert body["centreline_warnings"] == []
    assert body["centrelines"]["scene_ids"] and not any(
        line["off"] for line in body["centrelines"]["lines"]
    )
    # a site without images: no check (null), no warning
    body = web.patch("/api/sites/bare", json={"tracks": moved}).json()
    assert body["centrelines"] is None and body["centreline_warnings"] == []
    # removing the lines, or a PATCH of the description alone: no check in the answer
    body = web.patch("/api/sites/yard", json={"tracks": None}).json()
    assert "centrelines" not in body and "centreline_warnings" not in body
    body = web.patch("/api/sites/yard", json={"description": "x"}).json()
    assert "centrelines" not in body
