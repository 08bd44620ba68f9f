"""``railwatch detect --tracks`` at 0.3-1.5 m keeps only the railcars within 10 m of the
lines, as ``railwatch process`` keeps a site's (session 44).

Before, the lines guided the coarse method alone and were ignored car by car without a
word: a box on a car park 50 m from every track was counted with ``--tracks`` given.
Now ``DetectionResult.off_track`` (and ``--json``'s ``off_track``) says how many were
left out, a note says so, and a warning says when none was near the lines (lines of
another image). A picture without a map grid given ``--tracks`` is refused at every
resolution, as it was at 1.5 m and coarser.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from rasterio.transform import from_origin
from shapely.geometry import LineString, MultiLineString

from railwatch.cli.main import main
from railwatch.detect.api import SquareView, _near_given_tracks, detect_file
from railwatch.detect.base import Detection, OrientedBox
from railwatch.errors import InputError
from test_detect_fakes import BrightBlobDetector

X0, Y0, GSD = 500_000.0, 4_700_000.0, 0.5  # EPSG:32652, 400 x 400 px: 200 m square


def _image(tmp_path: Path) -> Path:
    """Two bright 'cars' (14 x 3 m) on a line at y = 50 m from the top, one 60 m off it."""
    a = np.full((3, 400, 400), 60, np.uint8)
    for col, row in ((60, 100), (160, 100), (100, 220)):  # pixel (col, row) of each car
        a[:, row - 3 : row + 3, col - 14 : col + 14] = 220
    path = tmp_path / "yard.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=400, height=400, count=3, dtype="uint8",
        crs="EPSG:32652", transform=from_origin(X0, Y0, GSD, GSD),
    ) as ds:  # fmt: skip
        ds.write(a)
    return path


def _track(tmp_path: Path, y_m: float, name: str = "tracks.geojson") -> Path:
    """A centreline across the image, ``y_m`` metres below its top, in lon/lat."""
    to_wgs = Transformer.from_crs("EPSG:32652", "EPSG:4326", always_xy=True)
    pts = [to_wgs.transform(X0 + x, Y0 - y_m) for x in (0.0, 200.0)]
    path = tmp_path / name
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": [{
            "type": "Feature", "properties": {},
            "geometry": {"type": "LineString", "coordinates": [list(p) for p in pts]},
        }]})
    )  # fmt: skip
    return path


def _lines(path: Path) -> MultiLineString:
    from railwatch.sites import load_tracks

    lines = load_tracks(path, what="--tracks")
    assert isinstance(lines, MultiLineString | LineString)
    return MultiLineString([lines]) if isinstance(lines, LineString) else lines


def test_only_cars_near_the_lines_are_kept(tmp_path: Path) -> None:
    image = _image(tmp_path)
    plain = detect_file(image, detector=BrightBlobDetector(), tile_px=400)
    assert plain.total == 3 and plain.off_track is None and plain.tracks is None
    kept = detect_file(
        image, detector=BrightBlobDetector(), tile_px=400, tracks=_lines(_track(tmp_path, 52.0))
    )
    assert kept.total == 2 and kept.off_track == 1 and kept.tracks == "given"
    ys = sorted(Y0 - d.box.cy for d in kept.detections)  # in the CRS: metres
    assert ys == pytest.approx([50.0, 50.0], abs=1.0)


def test_the_cli_counts_near_the_lines_and_says_what_was_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.sim.io import write_scene
    from railwatch.sim.params import SceneParams
    from railwatch.sim.scene import render_scene

    write_scene(
        render_scene(SceneParams(seed=5, gsd=0.5, size_px=(400, 400), n_cars=20)), tmp_path, "s"
    )
    image = tmp_path / "s.tif"

    def run(*extra: str) -> tuple[dict[str, object], str]:
        code = main(["detect", str(image), "--json", "-o", str(tmp_path / "o.geojson"), *extra])
        captured = capsys.readouterr()
        assert code == 0, captured.err
        row: dict[str, object] = json.loads(captured.out)[0]
        return row, " ".join(captured.err.split())

    plain, _ = run()
    assert plain["off_track"] is None and plain["tracks"] is None
    found = plain["total"]
    assert isinstance(found, int) and found > 0
    own, _ = run("--tracks", str(tmp_path / "s.tracks.geojson"))  # the scene's own lines
    assert own["tracks"] == "given" and isinstance(own["off_track"], int)
    assert own["total"] == found - own["off_track"] and own["off_track"] < found
    far = _track(tmp_path, 5000.0, "far.geojson")  # in EPSG:32652 5 km off: not its lines
    other, err = run("--tracks", str(far))
    assert other["total"] == 0 and other["off_track"] == found
    written = json.loads((tmp_path / "o.geojson").read_text())  # the GeoJSON says so too
    assert written["off_track"] == found and "tracks" not in written
    assert written["features"] == []
    assert f"none of the {found} railcars detected lies within 10 m" in err


def test_lines_of_another_place_leave_nothing_and_say_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = _image(tmp_path)
    far = _track(tmp_path, 5000.0, "far.geojson")  # 5 km south: not this image's
    res = detect_file(image, detector=BrightBlobDetector(), tile_px=400, tracks=_lines(far))
    assert res.total == 0 and res.off_track == 3


def test_the_warning_when_no_car_is_near_the_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.cli.detect import _say_off_track

    _say_off_track(tmp_path / "x.tif", 7, 0)
    err = " ".join(capsys.readouterr().err.split())
    assert "warning: x.tif: none of the 7 railcars detected lies within 10 m" in err
    _say_off_track(tmp_path / "x.tif", 1, 6)
    err = " ".join(capsys.readouterr().err.split())
    assert "1 of the 7 railcars detected lies farther than 10 m" in err and "is left out" in err


def test_a_square_view_is_measured_in_its_own_pixels() -> None:
    # view pixel (x, y) = image pixel (2x, y): a line at image column 40 is view column 20
    line = MultiLineString([[(40.0, 0.0), (40.0, 100.0)]])
    near = Detection(OrientedBox(28.0, 50.0, 20.0, 4.0, 0.0))  # 8 view px: 4 m away
    far = Detection(OrientedBox(50.0, 50.0, 20.0, 4.0, 0.0))  # 30 view px: 15 m
    kept = _near_given_tracks([near, far], line, SquareView(60, 100, 2.0, 1.0), 0.5)
    assert kept == [near]
    # read as image pixels they would be 12 and 10 px (6 and 5 m) from the line
    assert _near_given_tracks([near, far], line, None, 0.5) == [near, far]
    assert _near_given_tracks([near], MultiLineString(), None, 0.5) == []


def test_a_picture_without_a_map_grid_refuses_tracks(tmp_path: Path) -> None:
    import cv2

    png = tmp_path / "yard.png"
    cv2.imwrite(str(png), np.full((200, 200, 3), 90, np.uint8))
    with pytest.raises(InputError, match="cannot be placed on it"):
        detect_file(
            png, gsd=0.5, detector=BrightBlobDetector(), check_scale=False,
            tracks=_lines(_track(tmp_path, 50.0)),
        )  # fmt: skip


def test_eval_scores_the_detector_alone_at_fine_resolution(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`eval --detector` gives a truth file's centrelines to coarse scenes only: with
    session 44's filter a 0.5 m scene whose truth lines lay elsewhere read 0 cars."""
    from railwatch.sim.io import write_scene
    from railwatch.sim.params import SceneParams
    from railwatch.sim.scene import render_scene

    folder = tmp_path / "ev"
    params = SceneParams(seed=3, gsd=0.5, size_px=(400, 400), n_cars=10)
    write_scene(render_scene(params), folder, "s")
    truth_path = folder / "s.truth.geojson"
    truth = json.loads(truth_path.read_text())
    assert truth["tracks"], "the simulator's truth carries its centrelines"
    truth["tracks"] = [[[x + 5000.0, y] for x, y in line] for line in truth["tracks"]]
    truth_path.write_text(json.dumps(truth))
    code = main(["eval", "--truth", str(folder), "--detector", "default", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    scored = json.loads(captured.out)
    plain = detect_file(folder / "s.tif")
    assert plain.total > 0
    hits = scored["overall"]["iou0.3"]
    assert hits["tp"] + hits["fp"] == plain.total, hits  # every box scored, none dropped
    assert hits["tp"] > 0
