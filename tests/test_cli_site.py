"""``railwatch site`` and ``railwatch scene``: commands, messages and exit codes."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import Polygon, box, mapping

from railwatch.cli import _common
from railwatch.cli.main import main
from railwatch.storage import Database

BBOX = "130.60,42.28,130.63,42.30"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, " ".join(out.split()), " ".join(err.split())


def write(tmp_path: Path, name: str, data: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


def test_add_list_show_remove(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal: remove does not ask
    # the table's layout at 80 columns (the tags wrap under the name), whatever the
    # terminal or COLUMNS of the run: wider, the row reads "tumangang (dprk, border)"
    monkeypatch.setattr(_common.console, "width", 80)
    db = ("--db", tmp_db_url)
    code, out, err = run(
        capsys, *db, "site", "add", "tumangang", "--bbox", BBOX, "-d", "Tumangang yard",
        "--tag", "dprk", "--tag", "border",
    )  # fmt: skip
    assert code == 0, err
    assert "Added site tumangang: 5.4" in out and "EPSG:32652" in out

    code, out, _ = run(capsys, *db, "site", "list")
    assert code == 0 and "│ tumangang │ 5.497 │ 0 │ 0 │ - │ - │ 0 │" in out and "dprk" in out
    assert "border" in out and "…" not in out  # the tags under the name: nothing cut
    code, out, _ = run(capsys, *db, "site", "list", "--json")
    listed = json.loads(out)
    assert [d["name"] for d in listed] == ["tumangang"] and listed[0]["scenes"] == 0

    code, out, _ = run(capsys, *db, "site", "show", "tumangang")
    assert code == 0 and "Tumangang yard" in out
    assert "130.600000,42.280000,130.630000,42.300000 (W,S,E,N)" in out
    code, out, _ = run(capsys, *db, "site", "show", "tumangang", "--json")
    shown = json.loads(out)
    assert shown["geometry"]["type"] == "Polygon" and shown["tags"] == ["dprk", "border"]

    code, _, err = run(capsys, *db, "site", "remove", "tumangang")
    assert code == 2
    assert "removing site 'tumangang' deletes its 0 scenes" in err and "pass --yes" in err
    code, out, _ = run(capsys, *db, "site", "list", "--json")
    assert len(json.loads(out)) == 1  # still there

    code, out, _ = run(capsys, *db, "site", "remove", "tumangang", "--yes")
    assert code == 0 and "Removed site tumangang with 0 scenes" in out
    code, out, _ = run(capsys, *db, "site", "list")
    assert "No sites yet" in out


def test_remove_cascades_through_the_cli(
    tmp_path: Path,
    tmp_db_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from helpers import make_geotiff

    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal: remove does not ask
    db = ("--db", tmp_db_url)
    run(capsys, *db, "site", "add", "tum", "--bbox", "130.608,42.29,130.612,42.294")
    img = make_geotiff(
        tmp_path / "t_20231005.tif", origin=(632_500.0, 4_683_500.0), gsd=2.0, width=300,
        height=300,
    )  # fmt: skip
    code, _, err = run(capsys, *db, "ingest", "tum", str(img))
    assert code == 0, err
    code, out, _ = run(capsys, *db, "scene", "list", "tum", "--json")
    listed = json.loads(out)
    assert code == 0 and [(d["id"], d["status"]) for d in listed] == [(1, "ingested")]
    assert listed[0]["uri"].endswith("t_20231005.tif") and 0 < listed[0]["coverage"] <= 1
    code, _, err = run(capsys, *db, "site", "remove", "tum")
    assert code == 2 and "deletes its 1 scene with its detections" in err
    code, out, _ = run(capsys, *db, "site", "remove", "tum", "--yes")
    assert code == 0 and "with 1 scene, " in out
    code, _, err = run(capsys, *db, "scene", "show", "1")
    assert code == 1 and "no scene with id 1" in err


@pytest.mark.parametrize(
    ("geojson", "expected"),
    [
        (
            mapping(Polygon([(130.60, 42.28), (130.63, 42.30), (130.63, 42.28), (130.60, 42.30)])),
            "self-intersection at lon 130.615, lat 42.29",
        ),
        (mapping(box(42.28, 130.60, 42.30, 130.63)), "looks like lat/lon order"),
        ({"type": "Polygon", "coordinates": []}, "empty"),
        ({"type": "Point", "coordinates": [130.6, 42.3]}, "got Point"),
        ({"type": "FeatureCollection", "features": []}, "no features"),
        (mapping(box(500_000, 4_680_000, 501_000, 4_681_000)), "projected coordinates"),
        (mapping(box(120, 30, 130, 40)), "2,500 km² limit"),
    ],
)
def test_bad_geojson_is_one_clear_line(
    tmp_path: Path,
    tmp_db_url: str,
    capsys: pytest.CaptureFixture[str],
    geojson: dict[str, Any],
    expected: str,
) -> None:
    path = write(tmp_path, "site.geojson", geojson)
    code, out, err = run(capsys, "--db", tmp_db_url, "site", "add", "bad", "--geojson", path)
    assert code == 2 and out == ""
    assert err.startswith("error: site GeoJSON") and expected in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("bbox", "expected"),
    [
        ("42.28,130.60,42.30,130.63", "looks like lat/lon order"),
        ("130.6,42.3,130.63,42.28", "south 42.3 is north of north 42.28"),
        ("130.6,42.28,130.6,42.30", "degenerate"),
        ("130.6,42.28", "needs 4 numbers"),
    ],
)
def test_bad_bbox(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str], bbox: str, expected: str
) -> None:
    code, _, err = run(capsys, "--db", tmp_db_url, "site", "add", "bad", f"--bbox={bbox}")
    assert code == 2 and expected in err


def test_usage_errors(tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    db = ("--db", tmp_db_url)
    Database(tmp_db_url).dispose()  # an empty database (a missing one is refused)
    code, _, err = run(capsys, *db, "site", "add", "x")
    assert code == 2 and "exactly one of --geojson FILE or --bbox" in err
    path = write(tmp_path, "s.geojson", mapping(box(130.6, 42.28, 130.63, 42.3)))
    code, _, err = run(capsys, *db, "site", "add", "x", "--bbox", BBOX, "--geojson", path)
    assert code == 2 and "exactly one" in err
    code, _, err = run(capsys, *db, "site", "add", "a/b", "--bbox", BBOX)
    assert code == 2 and "invalid site name 'a/b'" in err
    code, _, err = run(capsys, *db, "site", "add", "x", "--geojson", str(tmp_path / "nope.json"))
    assert code == 2 and "file not found" in err
    code, _, err = run(capsys, *db, "site", "show", "nope")
    assert code == 1 and "no site named 'nope' (no sites yet)" in err
    code, _, err = run(capsys, *db, "site", "remove", "nope", "--yes")
    assert code == 1 and "no site named 'nope'" in err
    code, _, err = run(capsys, *db, "scene", "list", "nope")
    assert code == 1 and "no site named 'nope'" in err


def test_duplicate_name(tmp_db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    db = ("--db", tmp_db_url)
    assert run(capsys, *db, "site", "add", "tum", "--bbox", BBOX)[0] == 0
    code, _, err = run(capsys, *db, "site", "add", "tum", "--bbox", BBOX)
    assert code == 1 and "site 'tum' already exists" in err and "--yes" in err


def test_tracks_and_multipolygon(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {}, "geometry": mapping(b)}
            for b in (box(130.60, 42.28, 130.62, 42.30), box(130.63, 42.28, 130.64, 42.29))
        ],
    }
    tracks = {"type": "LineString", "coordinates": [[130.601, 42.29], [130.619, 42.291]]}
    code, out, err = run(
        capsys, "--db", tmp_db_url, "site", "add", "two", "--geojson", write(tmp_path, "s", fc),
        "--tracks", write(tmp_path, "t", tracks), "--json",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert (
        data["geometry"]["type"] == "MultiPolygon" and data["tracks"]["type"] == "MultiLineString"
    )
    code, out, _ = run(capsys, "--db", tmp_db_url, "site", "show", "two")
    assert "MultiPolygon (2 parts)" in out and "tracks yes" in out


def test_db_from_environment(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAILWATCH_DB", tmp_db_url)
    assert run(capsys, "site", "add", "env", "--bbox", BBOX)[0] == 0
    _, out, _ = run(capsys, "--db", tmp_db_url, "site", "list", "--json")
    assert [d["name"] for d in json.loads(out)] == ["env"]


def test_scene_list_filters(tmp_db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    db = ("--db", tmp_db_url)
    run(capsys, *db, "site", "add", "tum", "--bbox", BBOX)
    code, out, _ = run(capsys, *db, "scene", "list", "tum")
    assert code == 0 and "No scenes for site tum: add some with `railwatch ingest tum" in out
    code, out, _ = run(capsys, *db, "scene", "list", "tum", "--usable-only", "--json")
    assert code == 0 and json.loads(out) == []
    code, _, err = run(capsys, *db, "scene", "list", "tum", "--status", "done")
    assert code == 2 and "unknown status 'done'" in err


def test_geojson_from_stdin(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr(
        "sys.stdin", io.StringIO(json.dumps(mapping(box(130.6, 42.28, 130.63, 42.3))))
    )
    code, out, err = run(capsys, "--db", tmp_db_url, "site", "add", "piped", "--geojson", "-")
    assert code == 0 and "Added site piped" in out, err


def test_geojson_that_is_a_folder_or_not_utf8_says_what_to_give(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder, or a file that is not UTF-8 text, for --geojson or --tracks said
    "cannot read ... [Errno 21] Is a directory" or the codec's error, not what to give."""
    db = ("--db", tmp_db_url)
    folder = tmp_path / "shapes"
    folder.mkdir()
    latin = tmp_path / "latin.geojson"
    text = json.dumps({"type": "Feature", "properties": {"name": "Tumangang \xe9"},
                       "geometry": mapping(box(130.6, 42.28, 130.63, 42.3))})  # fmt: skip
    latin.write_bytes(text.replace("\\u00e9", "\xe9").encode("latin-1"))
    code, _, err = run(capsys, *db, "site", "add", "x", "--geojson", str(folder))
    assert code == 2 and "Errno" not in err
    assert f"site GeoJSON {folder} is a folder: give the path of a GeoJSON file" in err
    code, _, err = run(capsys, *db, "site", "add", "x", "--geojson", str(latin))
    assert code == 2 and f"site GeoJSON file {latin} is not UTF-8 text (byte 0xe9" in err
    assert "give a GeoJSON file, saved as UTF-8" in err
    code, _, err = run(capsys, *db, "site", "add", "x", "--bbox", BBOX, "--tracks", str(folder))
    assert code == 2 and f"tracks {folder} is a folder: give the path of a GeoJSON file" in err
    # nothing was added: the database was not even created
    assert not (tmp_path / "railwatch-test.db").exists()


def test_edit_each_field(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`site edit` changes tracks, description and tags in place (there was no command:
    an analyst had to remove the site, losing its scenes, counts, events and alerts)."""
    db = ("--db", tmp_db_url)
    code, _, err = run(
        capsys, *db, "site", "add", "tum", "--bbox", BBOX, "-d", "old", "-t", "a", "-t", "b"
    )
    assert code == 0, err
    tracks = write(
        tmp_path, "t.geojson",
        {"type": "LineString", "coordinates": [[130.601, 42.29], [130.619, 42.291]]},
    )  # fmt: skip

    code, out, err = run(capsys, *db, "site", "edit", "tum", "--tracks", tracks)
    assert code == 0, err
    assert "Edited site tum: track centrelines added (1 line)." in out
    assert "No counted scene to count again." in out
    code, out, _ = run(capsys, *db, "site", "show", "tum", "--json")
    shown = json.loads(out)
    assert shown["tracks"]["coordinates"] == [[[130.601, 42.29], [130.619, 42.291]]]
    assert shown["description"] == "old" and shown["tags"] == ["a", "b"]  # left as they were

    code, out, err = run(capsys, *db, "site", "edit", "tum", "-d", "Tumangang yard")
    assert code == 0 and "Edited site tum: description changed." in out, err
    code, out, err = run(capsys, *db, "site", "edit", "tum", "-t", "dprk", "--tag", "border")
    assert code == 0 and "Edited site tum: tags dprk, border." in out, err
    code, out, _ = run(capsys, *db, "site", "show", "tum")
    assert "Tumangang yard" in out and "tags dprk, border" in out and "tracks yes" in out

    code, out, err = run(capsys, *db, "site", "edit", "tum", "--no-tags", "-d", "", "--no-tracks")
    assert code == 0, err
    assert "track centrelines removed; description cleared; tags removed." in out
    code, out, _ = run(capsys, *db, "site", "show", "tum", "--json")
    shown = json.loads(out)
    assert (shown["tracks"], shown["description"], shown["tags"]) == (None, "", [])


def test_edit_bad_input_changes_nothing(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ("--db", tmp_db_url)
    assert run(capsys, *db, "site", "add", "tum", "--bbox", BBOX, "-d", "kept")[0] == 0
    line = {"type": "LineString", "coordinates": [[130.601, 42.29], [130.619, 42.291]]}
    inside = write(tmp_path, "in.geojson", line)
    outside = write(
        tmp_path, "out.geojson", {**line, "coordinates": [[131.601, 42.29], [131.619, 42.291]]}
    )
    polygon = write(tmp_path, "poly.geojson", mapping(box(130.61, 42.285, 130.62, 42.29)))
    not_json = tmp_path / "bad.geojson"
    not_json.write_text("{not json")

    def edit(*args: str) -> tuple[int, str]:
        code, _, err = run(capsys, *db, "site", "edit", *args)
        return code, err

    code, err = edit("nope", "-d", "x")
    assert code == 1 and "no site named 'nope' (known sites: tum)" in err
    code, err = edit("tum", "--tracks", inside, "--no-tracks")
    assert code == 2 and "give --tracks FILE or --no-tracks, not both" in err
    code, err = edit("tum", "--tag", "a", "--no-tags")
    assert code == 2 and "give --tag T or --no-tags, not both" in err
    code, err = edit("tum")
    assert code == 2 and "nothing to change: give --tracks FILE" in err
    assert "polygon cannot be changed" in err
    code, err = edit("tum", "--tracks", outside, "-d", "new")
    assert code == 2 and "none of the track lines touch the site polygon" in err
    code, err = edit("tum", "--tracks", polygon)
    assert code == 2 and "is a Polygon: track centrelines must be LineString" in err
    code, err = edit("tum", "--tracks", str(not_json))
    assert code == 2 and "bad.geojson" in err
    code, err = edit("tum", "--tracks", str(tmp_path / "missing.geojson"))
    assert code == 2 and "file not found" in err
    code, err = edit("tum", "-d", "x" * 10_001)
    assert code == 2 and "description" in err
    code, out, _ = run(capsys, *db, "site", "show", "tum", "--json")
    shown = json.loads(out)
    assert (shown["tracks"], shown["description"], shown["tags"]) == (None, "kept", [])
