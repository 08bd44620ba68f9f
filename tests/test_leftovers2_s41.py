"""Left over from session 41's review (2026-12-06).

1. A ``422`` of the web API for track lines that touch the site only with the two
   numbers of each position swapped (written as lat,lon), or not at all, said what to
   do in the command line's words: "swap the numbers of each position in the tracks
   file", "check that the bbox and the tracks file describe the same place". It names
   the API's fields now (the phrases ``railwatch.sites.SWAPPED_HOW`` and ``APART_HOW``,
   replaced by ``web.errors.API_HINTS``); the CLI keeps its words.
2. A coarse scene of a site without track centrelines stores the command to run for
   ``SITE`` (``railwatch.counting.GIVE_TRACKS``). ``scene list`` names the site in its
   table ("`railwatch site edit yard --tracks FILE`"), as ``process``, the API and the
   report's headline and table do (:func:`railwatch.counting.name_site`), but ``scene
   list --json``, ``scene show`` (its text and ``--json``), the report's caveat of
   images not counted and the counts export's ``no_count_reason`` gave ``SITE``. They
   name the site now; the stored text is as it was.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from railwatch.cli.main import main
from railwatch.sites import APART_HOW, SWAPPED_HOW
from railwatch.storage import Database, repo
from test_followup2_s40 import no_tracks  # noqa: F401 (the fixture: a site without tracks)
from test_leftovers_s41 import web  # noqa: F401 (the fixture: the app over a new database)

# ------------------------------------------------------------ 1. lat,lon tracks in the API

_RING = [[8.50, 47.37], [8.52, 47.37], [8.52, 47.38], [8.50, 47.38], [8.50, 47.37]]
_POLYGON = {"type": "Polygon", "coordinates": [_RING]}
_BBOX = [8.50, 47.37, 8.52, 47.38]
#: a track line across the yard, written lat,lon: it touches the yard swapped
_SWAPPED = {"type": "LineString", "coordinates": [[47.375, 8.501], [47.375, 8.519]]}
#: a track line 70 km away, which touches the yard neither way
_AWAY = {"type": "LineString", "coordinates": [[9.5, 47.3], [9.51, 47.31]]}
#: what only the command line or Python has: the web API has none of them
_CLI_WORDS = ("tracks file", "files", "the file", "the bbox", "--", "FILE")


def _mixed(line: dict[str, Any]) -> dict[str, Any]:
    """The yard's polygon and a line in one GeoJSON, as geojson.io writes them."""
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {}, "geometry": g} for g in (_POLYGON, line)
        ],
    }


def _detail(response: Any) -> str:
    assert response.status_code == 422, response.text
    detail = str(response.json()["detail"])
    assert detail.startswith("none of the track lines touch the site polygon"), detail
    assert not [w for w in _CLI_WORDS if w in detail], detail
    return detail


#: how the site is given in POST /api/sites, with tracks ``line``
_POSTS = {
    "file": lambda line: {"geometry": _POLYGON, "tracks": line},
    "same file": lambda line: {"geometry": _mixed(line), "tracks": _mixed(line)},
    "bbox": lambda line: {"bbox": _BBOX, "tracks": line},
}
#: the API's fields each message names
_FIELDS = {
    "file": ("`geometry`", "`tracks`"),
    "same file": ("`geometry`", "`tracks`"),
    "bbox": ("`bbox`", "`tracks`"),
}


@pytest.mark.parametrize("given", list(_POSTS))
def test_post_with_lat_lon_tracks_names_the_apis_fields(web: Any, given: str) -> None:  # noqa: F811
    said = _detail(web.post("/api/sites", json={"name": "yard", **_POSTS[given](_SWAPPED)}))
    assert "but they would with the two numbers of each position swapped" in said
    assert "written as lat,lon" in said and "swap the numbers" in said
    assert all(field in said for field in _FIELDS[given]), said
    said = _detail(web.post("/api/sites", json={"name": "yard", **_POSTS[given](_AWAY)}))
    assert "describe the same place" in said
    assert all(field in said for field in _FIELDS[given]), said
    assert web.get("/api/sites/yard").status_code == 404  # nothing was made


def test_patch_with_lat_lon_tracks_names_the_field(web: Any) -> None:  # noqa: F811
    made = web.post("/api/sites", json={"name": "yard", "geometry": _POLYGON})
    assert made.status_code == 201, made.text
    said = _detail(web.patch("/api/sites/yard", json={"tracks": _SWAPPED}))
    assert "`tracks` is written as lat,lon (or the site was)" in said
    assert "swap the numbers of each position in `tracks`" in said
    assert "add the site anew under another name with POST /api/sites" in said
    said = _detail(web.patch("/api/sites/yard", json={"tracks": _AWAY}))
    assert "check that `tracks` and the site describe the same place" in said
    assert web.get("/api/sites/yard").json()["tracks"] is None  # none was taken


def test_the_cli_keeps_its_words_for_lat_lon_tracks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    site = tmp_path / "site.geojson"
    site.write_text(json.dumps(_POLYGON), encoding="utf-8")
    bbox = ",".join(f"{v:g}" for v in _BBOX)
    for name, line in (("swapped", _SWAPPED), ("away", _AWAY)):
        (tmp_path / f"{name}.geojson").write_text(json.dumps(line), encoding="utf-8")

    def said(*args: str) -> str:
        capsys.readouterr()
        assert main(["--db", url, *args]) != 0
        return " ".join(capsys.readouterr().err.split())

    swapped, away = str(tmp_path / "swapped.geojson"), str(tmp_path / "away.geojson")
    add = ["site", "add", "yard"]
    assert SWAPPED_HOW["file"] in said(*add, "--geojson", str(site), "--tracks", swapped)
    assert APART_HOW["file"] in said(*add, "--geojson", str(site), "--tracks", away)
    assert SWAPPED_HOW["bbox"] in said(*add, "--bbox", bbox, "--tracks", swapped)
    assert APART_HOW["bbox"] in said(*add, "--bbox", bbox, "--tracks", away)
    assert main(["--db", url, *add, "--geojson", str(site)]) == 0
    assert SWAPPED_HOW["stored"] in said("site", "edit", "yard", "--tracks", swapped)
    assert APART_HOW["stored"] in said("site", "edit", "yard", "--tracks", away)
    assert "swap the numbers of each position in the tracks file" in SWAPPED_HOW["stored"]


# ------------------------------------------------------------ 2. the site named, not SITE

_NAMED = "`railwatch site edit yard --tracks FILE`"
_PLACEHOLDER = "site edit SITE"


def _cli(url: str, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert main(["--db", url, *args]) == 0
    return capsys.readouterr().out


def test_the_cli_names_the_site_in_a_scene_that_needs_tracks(
    no_tracks: dict[str, object],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from railwatch.cli._common import console

    url, sid, gone = str(no_tracks["url"]), int(str(no_tracks["tracks"])), no_tracks["gone"]
    listed = {d["id"]: d for d in json.loads(_cli(url, capsys, "scene", "list", "yard", "--json"))}
    error = listed[sid]["error"]
    assert _NAMED in error and _PLACEHOLDER not in error, error
    assert "It is not counted. Give the site its track centrelines" in error
    assert listed[gone]["error"] and _PLACEHOLDER not in listed[gone]["error"]
    shown = json.loads(_cli(url, capsys, "scene", "show", str(sid), "--json"))
    assert shown["error"] == error
    # the text, wide enough that nothing is cut (rich wraps at the console's width)
    monkeypatch.setattr(console, "width", 1000)
    text = " ".join(_cli(url, capsys, "scene", "show", str(sid)).split())
    assert _NAMED in text and _PLACEHOLDER not in text, text
    table = " ".join(_cli(url, capsys, "scene", "list", "yard").split())
    assert f"failed (needs track centrelines: {_NAMED})" in table  # as it said before
    # the store is as it was: the command for SITE
    db = Database(url)
    try:
        with db.session(readonly=True) as s:
            stored = repo.get_scene(s, sid).error or ""
    finally:
        db.dispose()
    assert "`railwatch site edit SITE --tracks FILE`" in stored


def test_the_report_caveat_names_the_site_that_needs_tracks(
    no_tracks: dict[str, object],  # noqa: F811
) -> None:
    from railwatch.report.builder import build_report_data

    db = Database(str(no_tracks["url"]))
    try:
        data = build_report_data(db, "yard")
    finally:
        db.dispose()
    (caveat,) = [c for c in data.caveats if "could not be counted" in c]
    assert "cannot be read without the site's track centrelines" in caveat
    assert _NAMED in caveat and _PLACEHOLDER not in caveat, caveat
    # as the report's table says it of the scene
    (row,) = [r for r in data.scenes if r.reasons and "track centrelines" in r.reasons[0]]
    assert _NAMED in row.reasons[0]


def test_the_counts_export_names_the_site_that_needs_tracks(
    no_tracks: dict[str, object],  # noqa: F811
    tmp_path: Path,
) -> None:
    import csv

    out = tmp_path / "counts.csv"
    url = str(no_tracks["url"])
    assert main(["--db", url, "export", "yard", "--format", "csv", "--out", str(out)]) == 0
    with out.open(encoding="utf-8", newline="") as f:
        rows = {int(r["scene_id"]): r for r in csv.DictReader(f) if r.get("scene_id")}
    why = rows[int(str(no_tracks["tracks"]))]["no_count_reason"]
    assert why.startswith("processing failed: "), why
    assert _NAMED in why and _PLACEHOLDER not in why, why
    gone = rows[int(str(no_tracks["gone"]))]["no_count_reason"]  # a plain failure
    assert gone.startswith("processing failed: ") and "no such file" in gone, gone
