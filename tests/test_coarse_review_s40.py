"""Review of the coarse-resolution path as a user meets it (session 40, 2026-12-06):
``railwatch detect`` on coarse GeoTIFFs and ``railwatch process`` on coarse scenes."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest
import rasterio
from affine import Affine
from shapely.geometry import box

from railwatch.cli import _common
from railwatch.cli.main import main
from railwatch.counting import SceneCount
from railwatch.detect.api import detect_file
from railwatch.errors import InputError
from railwatch.sites import SiteSpec, load_tracks
from railwatch.storage import Database, repo
from report_db import CRS, IMG_H_M, IMG_W_M, SITE_UTM, X0, Y0, FakeInfo, FakeQuality, to_wgs84
from test_detect_coarse import GSD, _yard


def _length_scene_db(tmp_path: Path, gsd: float) -> tuple[str, int]:
    """A site with one scene of ``gsd`` metres counted by occupied track length."""
    url = f"sqlite:///{tmp_path / 'coarse.db'}"
    db = Database(url)
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name="yard", geometry=to_wgs84(SITE_UTM)))
        info = FakeInfo(
            uri="/imagery/yard_7m.tif",
            content_hash=f"{7:064d}",
            acquired=datetime(2024, 7, 1, 2, 0, tzinfo=UTC),
            crs=CRS,
            footprint=to_wgs84(box(X0, Y0 - IMG_H_M, X0 + IMG_W_M, Y0)),
            gsd=gsd,
            width=40,
            height=20,
        )
        scene, _ = repo.add_scene(s, site, info, 1.0)
        count = SceneCount(
            21.5, 9.0, 48.0, {"railcar": (21.5, 9.0, 48.0)}, 0, "length",
            track_m=640.0, tracks="found",
        )  # fmt: skip
        repo.record_scene_result(s, scene.id, FakeQuality(0.97), [], count, "test", "1")
        scene_id = int(scene.id)
    db.dispose()
    return url, scene_id


def test_scene_list_legend_covers_a_7_m_length_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 7 m scene is counted by occupied length (below 10 m, ``method_for_gsd``); the
    legend under ``scene list`` said "(1.5-5 m imagery)" for it."""
    url, _ = _length_scene_db(tmp_path, 7.0)
    monkeypatch.setattr(_common.console, "width", 200)
    assert main(["--db", url, "scene", "list", "yard"]) == 0
    out = capsys.readouterr().out
    assert "≈21.5" in out
    assert "car equivalents from occupied track length (1.5–10 m imagery)" in out, out
    assert "1.5-5 m" not in out


def test_process_note_on_found_lines_names_the_length_range(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The note after ``railwatch process`` on images counted along lines found in the
    image covers every length-count resolution (a 7 m one among them), not "1.5-5 m"."""
    from railwatch.cli.process import _say_tracks_found

    _say_tracks_found({"yard": 2})
    err = " ".join(capsys.readouterr().err.split())
    assert "2 images (1.5–10 m) of site yard were counted along track lines found" in err, err


def test_review_of_a_length_count_by_class_names_the_length_range() -> None:
    """An analyst's count by class of a scene counted by occupied length is refused (it
    tells no type); the refusal said such scenes are "at 1.5-5 m" (a 7 m one is too)."""
    with pytest.raises(InputError) as err:
        repo._checked_review_counts({"all": 20, "boxcar": 5}, "length", 7)
    assert "1.5-10 m imagery" in str(err.value)
    assert "1.5-5 m" not in str(err.value)


@pytest.mark.parametrize("gsd", [1.5, 6.0, 7.0, 9.5])
def test_quality_reason_of_a_length_scene_says_length_not_presence(gsd: float) -> None:
    """A 1.5-10 m scene is counted by occupied track length (``method_for_gsd``), but the
    quality reason of one of 5-10 m said "only the presence of long trains can be
    reported", and one of 1.5 m said nothing of its method."""
    from imagery_helpers import yard_scene
    from railwatch.detect.coarse import method_for_gsd
    from railwatch.imagery import assess_quality
    from test_imagery_quality import raster_of

    assert method_for_gsd(gsd) == "length"
    q = assess_quality(raster_of(yard_scene(120, 120), gsd=gsd))
    assert q.usable
    length = (
        f"resolution {gsd:.1f} m: cars are not separable, counts come from occupied track length"
    )
    assert length in q.reasons, q.reasons
    assert not any("presence" in r for r in q.reasons), q.reasons


def test_quality_and_the_estimate_agree_where_presence_begins() -> None:
    """The quality step's resolution reasons begin presence where the estimate does."""
    from railwatch.detect.coarse import PRESENCE_GSD
    from railwatch.imagery.quality import _PRESENCE_GSD

    assert _PRESENCE_GSD == PRESENCE_GSD


# ---- the lead's files (detect/api.py, cli/detect.py, imagery/quality.py) ----


def _yard_tif(path: Path) -> tuple[Path, np.ndarray]:
    """A 3 m GeoTIFF of a simulated yard (UTM 52N) and its image."""
    img, _ = _yard(30.0, [140.0, 280.0])
    with rasterio.open(
        path, "w", driver="GTiff", width=img.shape[1], height=img.shape[0], count=3,
        dtype="uint8", crs="EPSG:32652", transform=Affine(GSD, 0, 630_000, 0, -GSD, 4_700_000),
    ) as ds:  # fmt: skip
        ds.write(img.transpose(2, 0, 1))
    return path, img


def _lines_file(path: Path, lines: list[list[tuple[float, float]]]) -> Path:
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": {"type": "LineString", "coordinates": line},
                    }
                    for line in lines
                ],
            }
        )
    )
    return path


def test_tracks_on_an_image_without_georeferencing_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``detect yard.png --gsd 3 --tracks lines.geojson``: the lines (lon/lat) cannot be
    placed on a PNG. They were dropped without a word, the yard read along lines found in
    the image, and a note then told the user to give the centrelines with --tracks."""
    _, img = _yard_tif(tmp_path / "yard.tif")
    png = tmp_path / "yard.png"
    assert cv2.imwrite(str(png), img[..., ::-1])
    lines = _lines_file(tmp_path / "lines.geojson", [[(130.60, 42.42), (130.61, 42.42)]])
    with pytest.raises(InputError, match="not georeferenced") as err:
        detect_file(png, gsd=3.0, tracks=load_tracks(lines))
    assert "track" in str(err.value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the rails' scale check finds no rails at 3 m
        assert detect_file(png, gsd=3.0).tracks == "found"  # without lines, as before
    code = main(["detect", str(png), "--gsd", "3", "--tracks", str(lines), "--no-scale-check"])
    err_text = " ".join(capsys.readouterr().err.split())
    assert code != 0
    assert "not georeferenced" in err_text and "give the centrelines with --tracks" not in err_text


def test_geojson_of_a_file_where_no_track_was_read_has_no_count(tmp_path: Path) -> None:
    """Tracks given wholly outside a 3 m file: the summary said "no track read" (total
    null), but its GeoJSON's coarse block said 0 car equivalents, 0-1, and ``present``
    false: an empty yard to whoever reads the file."""
    path, _ = _yard_tif(tmp_path / "yard.tif")
    far = _lines_file(tmp_path / "far.geojson", [[(10.0, 50.0), (10.01, 50.0)]])
    out = tmp_path / "out.geojson"
    assert main(["detect", str(path), "--tracks", str(far), "-o", str(out)]) == 0
    coarse = json.loads(out.read_text())["coarse"]
    assert coarse["tracks"] == "given" and coarse["track_m"] == 0.0
    assert coarse["car_equivalents"] is None and coarse["low"] is None, coarse
    assert coarse["high"] is None and coarse["present"] is None, coarse
    # a file read along lines found in it keeps its estimate
    assert main(["detect", str(path), "-o", str(out)]) == 0
    found = json.loads(out.read_text())["coarse"]
    assert found["track_m"] > 0 and found["car_equivalents"] is not None


def test_detect_note_on_found_lines_names_the_length_range(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``railwatch detect``'s note on images read along lines found in them said
    "(1.5-5 m)" of a 7 m image too."""
    from railwatch.cli.detect import _say_tracks_found

    _say_tracks_found(
        [{"image": "seven.tif", "method": "length", "tracks": "found", "track_m": 900.0}]
    )
    err = " ".join(capsys.readouterr().err.split())
    assert "note: seven.tif (1.5–10 m) was measured along track lines found" in err, err


def _tif_at(path: Path, crs: str, img: np.ndarray) -> tuple[float, float, float, float]:
    """``img`` written as a GeoTIFF at 3 m in ``crs`` (origin 630 km E, 4700 km N); its
    bounds in longitude/latitude."""
    from rasterio.warp import transform_bounds

    with rasterio.open(
        path, "w", driver="GTiff", width=img.shape[1], height=img.shape[0], count=3,
        dtype="uint8", crs=crs, transform=Affine(GSD, 0, 630_000, 0, -GSD, 4_700_000),
        nodata=0,
    ) as ds:  # fmt: skip
        ds.write(img.transpose(2, 0, 1))
        return tuple(transform_bounds(ds.crs, "EPSG:4326", *ds.bounds))


@pytest.mark.parametrize(
    ("where", "said"),
    [
        ("outside", "lie wholly outside it"),
        ("swapped", "would cross it with the two numbers of each position swapped"),
        ("no data", "cross it only where it has no data"),
    ],
)
def test_detect_says_why_no_track_was_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str, said: str
) -> None:
    """--tracks that read nothing: the table said "no track read" and nothing said why:
    lines of another place, lines written lat,lon (both numbers within ±90, so the file
    is not refused), or lines over the image's no-data part."""
    img, _ = _yard(30.0, [140.0, 280.0])
    img = np.maximum(img, 1)  # 0 is the file's nodata
    if where == "no data":
        img[:, :, :] = 1
        img[:, 100:, :] = 0  # the right half has no data
    west, south, east, north = _tif_at(tmp_path / "yard.tif", "EPSG:32632", img)  # ~11°E 42°N
    mid = (south + north) / 2
    line = [(west + 0.6 * (east - west), mid), (west + 0.9 * (east - west), mid)]
    if where == "outside":
        line = [(x + 1.0, y) for x, y in line]
    elif where == "swapped":
        line = [(y, x) for x, y in line]
    lines = _lines_file(tmp_path / "lines.geojson", [line])
    out = tmp_path / "out.geojson"
    assert main(["detect", str(tmp_path / "yard.tif"), "--tracks", str(lines), "-o", str(out)]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "yard.tif: no track read: " in err and said in err, err


@pytest.mark.parametrize(("gsd", "piece_m"), [(3.0, 2.0), (10.0, 12.0)])
def test_a_site_whose_centrelines_are_too_short_is_told_so(gsd: float, piece_m: float) -> None:
    """A site whose only centreline is shorter than two pixels reads no track in any
    coarse image: every clear image failed with "the site's track centrelines lie wholly
    under cloud, haze or no data in it (or outside the image)"."""
    from pyproj import Transformer
    from shapely.geometry import LineString, MultiLineString

    from railwatch.counting import count_scene
    from railwatch.errors import DetectionError
    from railwatch.imagery.quality import Quality
    from railwatch.imagery.read import SiteGrid, SiteRaster
    from railwatch.sim import SceneParams, render_scene

    n = 120
    sc = render_scene(SceneParams(seed=4, size_px=(n, n), gsd=gsd, n_cars=30))
    track = max(sc.tracks, key=lambda t: t.length)
    middle = track.interpolate(0.5, normalized=True)
    ahead = track.interpolate(track.project(middle) + piece_m)
    to_wgs = Transformer.from_crs(sc.crs, "EPSG:4326", always_xy=True)
    short = MultiLineString([LineString([to_wgs.transform(p.x, p.y) for p in (middle, ahead)])])
    grid = SiteGrid(sc.crs, sc.transform, n, n, gsd)
    raster = SiteRaster(sc.image, sc.valid, np.ones((n, n), bool), None, grid)
    clear = Quality(1.0, 1.0, 0.0, 0.0, 0.0, 0.0, gsd, True, (), "mask")
    with pytest.raises(DetectionError) as err:
        count_scene([], raster, clear, tracks_wgs84=short)
    said = str(err.value)
    assert "too short to read" in said and "cloud" not in said, said
    # the site's whole centrelines are read, as before (at 10 m, 1.2 km of image, no
    # line may hold a train's length in one piece: that is said as before)
    whole = MultiLineString(
        [LineString([to_wgs.transform(*xy) for xy in t.coords]) for t in sc.tracks]
    )
    try:
        assert count_scene([], raster, clear, tracks_wgs84=whole).track_m
    except DetectionError as other:
        assert "too short to read" not in str(other) and "300 m stretch" in str(other)


def test_tracks_other_than_lines_are_refused_and_collections_of_lines_read() -> None:
    """The Python API took any geometry as track centrelines: a polygon (the site's, by
    mistake) or a point ended in shapely's NotImplementedError from deep inside the
    estimate, and lines inside a geometry collection the same."""
    from shapely.geometry import GeometryCollection, MultiLineString, Point, Polygon

    from railwatch.detect.coarse import estimate_occupancy

    img, tracks = _yard(30.0, [140.0, 280.0])
    lines = MultiLineString(list(getattr(tracks, "geoms", [tracks])))
    plain = estimate_occupancy(img, GSD, None, lines)
    collected = estimate_occupancy(img, GSD, None, GeometryCollection([lines]))
    assert plain.track_m and collected.track_m == plain.track_m
    assert collected.car_equivalents == plain.car_equivalents
    for wrong in (
        Polygon([(0, 0), (100, 0), (100, 100)]),
        GeometryCollection([lines, Point(5, 5)]),
    ):
        with pytest.raises(InputError, match="must be lines"):
            estimate_occupancy(img, GSD, None, wrong)


@pytest.mark.parametrize("drawn", ["twice", "doubling back"])
def test_a_track_drawn_twice_is_read_once(drawn: str) -> None:
    """The same centrelines twice in a file, or each doubling back on itself, read about
    twice the car equivalents (47 -> 81 or 96 on the review's 3 m yard of 40 cars),
    their interval above the truth."""
    from shapely.geometry import LineString, MultiLineString

    from railwatch.detect.coarse import estimate_occupancy

    img, tracks = _yard(30.0, [140.0, 280.0, 0.0, 420.0], seed=5)
    lines = list(getattr(tracks, "geoms", [tracks]))
    once = estimate_occupancy(img, GSD, None, MultiLineString(lines))
    if drawn == "twice":
        again = MultiLineString(lines + lines)
    else:
        again = MultiLineString(
            [LineString([*line.coords, *list(line.coords)[::-1][1:]]) for line in lines]
        )
    read = estimate_occupancy(img, GSD, None, again)
    assert once.car_equivalents > 10
    assert read.car_equivalents == pytest.approx(once.car_equivalents, rel=0.05, abs=0.5)
    assert read.track_m == pytest.approx(once.track_m, rel=0.02)
    assert read.high == pytest.approx(once.high, rel=0.05, abs=0.5)
