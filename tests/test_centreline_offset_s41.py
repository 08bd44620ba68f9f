"""`railwatch process` says which of a site's track centrelines lie off their tracks,
from the cars detected on its fine images (session 41: a 3 m count needs its lines
within about 0.5 m of the track's middle, and nothing said when one was 2 m off)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shapely.geometry import LineString, mapping
from shapely.geometry.base import BaseGeometry

from railwatch.analysis.centrelines import (
    centreline_offsets,
    compass,
    lean_shift,
    usable_view,
)
from railwatch.cli.main import main
from railwatch.imagery._geo import WGS84, project, utm_crs_for
from railwatch.sites import load_tracks

# a small simulated 0.5 m yard (800 x 800 px): 42 cars, 5 of its 17 lines with cars
_SIMULATE = ["--scene", "--gsd", "0.5", "--cars", "40", "--seed", "5", "--size", "800x800"]
_BBOX = "130.6056,42.4195,130.6106,42.4233"
# its line with the most cars (18), 0-based
_MOVED = 3


@pytest.fixture(scope="module")
def yard(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fine_yard")
    assert main(["simulate", *_SIMULATE, "--name", "yard", "-o", str(out / "img")]) == 0
    # the same lines with one moved 2 m across its track (to its left as drawn)
    lines: list[BaseGeometry] = list(load_tracks(out / "img" / "yard.tracks.geojson").geoms)
    crs = utm_crs_for(lines[_MOVED])
    metres = project(lines[_MOVED], WGS84, crs)
    assert isinstance(metres, LineString)
    lines[_MOVED] = project(metres.offset_curve(2.0), crs, WGS84)
    feats = [{"type": "Feature", "properties": {}, "geometry": mapping(g)} for g in lines]
    (out / "moved.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return out


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, " ".join(err.split())


def test_process_names_the_line_moved_2_m(
    yard: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'rw.sqlite'}"]
    tracks = {"exact": yard / "img" / "yard.tracks.geojson", "moved": yard / "moved.geojson"}
    for site, path in tracks.items():
        assert main([*db, "site", "add", site, "--bbox", _BBOX, "--tracks", str(path)]) == 0
        assert main([*db, "ingest", site, str(yard / "img")]) == 0
    code, out, err = _run(capsys, *db, "process", "exact", "moved", "--json")
    assert code == 0, err
    rows = {r["site"]: r for r in json.loads(out)}
    # the exact lines: all near their cars, no warning
    exact = rows["exact"]["centrelines"]
    assert exact is not None and exact["scene_ids"]
    judged = [line for line in exact["lines"] if line["cars"] >= 5]
    assert len(judged) >= 3
    assert not any(line["off"] or line["shares_cars_with"] for line in exact["lines"])
    assert all(abs(line["offset_m"]) < 0.75 for line in judged), judged
    assert "site exact" not in err
    # the moved line: 2 m from its cars, which stand to its right; the others are right
    moved = rows["moved"]["centrelines"]["lines"]
    assert [line["line"] for line in moved if line["off"]] == [_MOVED + 1]
    assert moved[_MOVED]["offset_m"] == pytest.approx(-2.0, abs=0.5)
    n = _MOVED + 1
    assert f"site moved: track centreline {n} (the 4th line of its tracks) looks 2." in err
    assert "m off its track" in err
    assert f"stand {abs(moved[_MOVED]['offset_m']):.1f} m {moved[_MOVED]['toward']} of it" in err
    assert "redraw that line on an image of 1 m or finer" in err
    assert "railwatch site edit moved --tracks FILE" in err
    assert err.count("warning: site moved") == 1, err


def test_process_says_nothing_without_a_fine_scene(
    yard: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'rw.sqlite'}"]
    path = yard / "moved.geojson"
    assert main([*db, "site", "add", "bare", "--bbox", _BBOX, "--tracks", str(path)]) == 0
    code, out, err = _run(capsys, *db, "process", "bare", "--json")
    assert code == 0, err
    assert json.loads(out)[0]["centrelines"] is None
    assert "centreline" not in err


def _track(y: float) -> LineString:
    return LineString([(0.0, y), (200.0, y)])


def _cars(y: float, n: int = 8) -> list[tuple[float, float]]:
    return [(10.0 + 20.0 * k, y + (0.1 if k % 2 else -0.1)) for k in range(n)]


def test_offsets_of_lines_against_cars() -> None:
    """Three tracks 4.75 m apart (west to east lines, y north): the lines on them read
    about 0, a line 2 m south of its cars is off (its cars lie north), one with too few
    cars is not judged, and a line drawn on the next track shares that track's cars."""
    cars = _cars(0.0) + _cars(4.75) + _cars(9.5, 3)
    got = centreline_offsets([_track(0.0), _track(2.75), _track(9.5)], cars)
    exact, moved, few = got.lines
    assert exact.off is False and exact.offset_m == pytest.approx(0.0, abs=0.2)
    assert moved.off is True and moved.offset_m == pytest.approx(2.0, abs=0.2)
    assert moved.toward == "N" and moved.cars == 8
    assert few.off is False and few.cars == 3
    assert [line.index for line in got.off] == [1]
    one_track = centreline_offsets([_track(0.0), _track(0.5)], _cars(0.0))
    assert one_track.lines[0].shares_with == (1,) and one_track.lines[1].shares_with == (0,)
    assert centreline_offsets([_track(0.0), _track(4.75)], cars).shared == ()


def test_lean_and_view() -> None:
    """A roof 3 m up at 20 degrees off nadir leans 1.09 m toward the view azimuth; the
    lean is taken back only where the azimuth is known, and an image far off nadir
    without it is not used."""
    east, north = lean_shift(20.0, 90.0)
    assert east == pytest.approx(1.092, abs=0.01) and north == pytest.approx(0.0, abs=1e-9)
    assert lean_shift(20.0, None) == (0.0, 0.0)
    assert usable_view(None, None) and usable_view(8.0, None) and usable_view(25.0, 10.0)
    assert not usable_view(25.0, None)
    assert compass(1.0, 1.0) == "NE" and compass(0.0, -1.0) == "S"
