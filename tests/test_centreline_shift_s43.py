"""The centreline check takes each image's own misregistration out (session 43).

`railwatch process` on the demo's database called six correctly drawn lines 1.6-2.2 m
off its track: the demo's visits are misregistered by N(0, 2.5 m) per axis, as
commercial images are by metres, and the check read every image's shift as the lines'.
A shift common to the lines of one image is now measured (`image_shift`) and taken out
of that image's cars; a line off its track among lines on theirs is still named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shapely.geometry import LineString, mapping
from shapely.geometry.base import BaseGeometry

from railwatch.analysis.centrelines import centreline_offsets, image_shift
from railwatch.cli.main import main
from railwatch.imagery._geo import WGS84, project, utm_crs_for
from railwatch.sites import load_tracks
from test_centreline_offset_s41 import _BBOX, _MOVED, _SIMULATE, _cars, _run, _track

SPACING = 4.75


def _yard(
    shift_north: float, moved: float = 0.0
) -> tuple[list[LineString], list[tuple[float, float]]]:
    """Five west-east tracks; the cars of one image stand ``shift_north`` m north of
    them (its misregistration); the middle line is drawn ``moved`` m south of its track."""
    lines = [_track(k * SPACING - (moved if k == 2 else 0.0)) for k in range(5)]
    cars = [c for k in range(5) for c in _cars(k * SPACING + shift_north)]
    return lines, cars


def test_a_shift_common_to_the_lines_is_the_images() -> None:
    lines, cars = _yard(2.0)
    assert len(centreline_offsets(lines, cars).off) == 5  # before: every line "off"
    east, north = image_shift(lines, cars)
    assert north == pytest.approx(2.0, abs=0.1) and abs(east) < 0.1
    moved_back = [(x - east, y - north) for x, y in cars]
    assert centreline_offsets(lines, moved_back).off == ()


def test_a_line_off_among_lines_on_their_tracks_is_still_named() -> None:
    lines, cars = _yard(2.0, moved=2.0)
    east, north = image_shift(lines, cars)
    assert north == pytest.approx(2.0, abs=0.1)  # the moved line does not pull it
    got = centreline_offsets(lines, [(x - east, y - north) for x, y in cars])
    (off,) = got.off
    assert off.index == 2 and off.offset_m == pytest.approx(2.0, abs=0.2)


def test_too_few_lines_give_no_shift() -> None:
    lines, cars = _yard(2.0)
    assert image_shift(lines[:2], cars) == (0.0, 0.0)  # one line off, or the image?
    assert image_shift(lines, []) == (0.0, 0.0)


@pytest.fixture(scope="module")
def shifted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session-41 yard with every line moved 2 m across its track (the image's
    misregistration, as the check sees it) and one line 2 m further."""
    out = tmp_path_factory.mktemp("shifted_yard")
    assert main(["simulate", *_SIMULATE, "--name", "yard", "-o", str(out / "img")]) == 0
    lines: list[BaseGeometry] = list(load_tracks(out / "img" / "yard.tracks.geojson").geoms)
    crs = utm_crs_for(lines[_MOVED])
    moved = []
    for i, line in enumerate(lines):
        metres = project(line, WGS84, crs)
        assert isinstance(metres, LineString)
        # offset_curve's side follows each line's drawing: shift all the same way instead
        dx, dy = (0.0, 2.0 + (2.0 if i == _MOVED else 0.0))
        moved.append(project(LineString([(x + dx, y + dy) for x, y in metres.coords]), crs, WGS84))
    feats = [{"type": "Feature", "properties": {}, "geometry": mapping(g)} for g in moved]
    (out / "shifted.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": feats})
    )
    return out


def test_process_names_only_the_line_off_among_shifted_ones(
    shifted: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'rw.sqlite'}"]
    path = shifted / "shifted.geojson"
    assert main([*db, "site", "add", "yard", "--bbox", _BBOX, "--tracks", str(path)]) == 0
    assert main([*db, "ingest", "yard", str(shifted / "img")]) == 0
    code, out, err = _run(capsys, *db, "process", "yard", "--json")
    assert code == 0, err
    lines = json.loads(out)[0]["centrelines"]["lines"]
    judged = [line for line in lines if line["cars"] >= 5]
    assert len(judged) >= 3
    assert [line["line"] for line in lines if line["off"]] == [_MOVED + 1], judged
    assert "each image's own shift taken out" in err
