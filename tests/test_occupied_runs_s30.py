"""Where a coarse image's cars were read: the stretches of track a length estimate took
as occupied, kept with the estimate (pixels), given by ``detect_file`` in the image's CRS
and written by ``railwatch detect`` as LineString features that readers of railcars pass
over. Before session 30 a 1.5-10 m estimate was a number with nothing to check it on."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from pyproj import Transformer
from shapely import affinity, unary_union
from shapely.geometry import LineString, MultiLineString, box
from shapely.geometry.base import BaseGeometry

from railwatch.cli.main import main
from railwatch.detect import api
from railwatch.detect.api import detect_file
from railwatch.detect.coarse import estimate_occupancy
from railwatch.detect.geojson import from_feature_collection, read_geojson
from railwatch.errors import InputError
from railwatch.storage import Database, repo
from test_detect_coarse import GSD, _yard

ORIGIN = (630_000.0, 4_700_000.0)


def _write(path: Path, img: np.ndarray) -> Path:
    h, w = img.shape[:2]
    with rasterio.open(
        path, "w", driver="GTiff", width=w, height=h, count=3, dtype="uint8",
        crs="EPSG:32652", transform=Affine(GSD, 0, ORIGIN[0], 0, -GSD, ORIGIN[1]),
    ) as ds:  # fmt: skip
        ds.write(img.transpose(2, 0, 1))
    return path


def test_runs_add_up_and_lie_on_the_strings() -> None:
    img, tracks = _yard(0.0, [240.0, 0.0, 120.0])
    est = estimate_occupancy(img, GSD, None, tracks)
    assert est.method == "length" and est.runs
    assert sum(r.length_m for r in est.runs) == pytest.approx(est.occupied_length_m, abs=0.5)
    lines = list(tracks.geoms)
    for run in est.runs:
        geom = LineString(run.coords)
        # drawn as long as counted, along one of the given lines
        assert geom.length * GSD == pytest.approx(run.length_m, rel=0.02, abs=GSD)
        assert min(ln.distance(geom) for ln in lines) < 0.5
    # the strings are on the first and third lines: no run on the empty second one
    on = {int(np.argmin([ln.distance(LineString(r.coords)) for ln in lines])) for r in est.runs}
    assert on <= {0, 2} and 0 in on


def test_runs_of_a_file_in_blocks_are_in_the_files_crs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    img, tracks_px = _yard(30.0, [140.0, 280.0, 0.0, 70.0])
    path = _write(tmp_path / "coarse.tif", img)
    to_crs = [GSD, 0, 0, -GSD, *ORIGIN]
    tracks = affinity.affine_transform(tracks_px, to_crs)
    whole = detect_file(path, tracks=tracks, tracks_crs="EPSG:32652")
    assert whole.coarse is not None and whole.occupied
    assert sum(r.length_m for r in whole.occupied) == pytest.approx(
        whole.coarse.occupied_length_m, abs=0.5
    )
    for run in whole.occupied:  # metres of EPSG:32652, on the tracks
        assert tracks.distance(LineString(run.coords)) < 0.5 * GSD
    monkeypatch.setattr(api, "COARSE_BLOCK_PX", 100)  # 200 x 200 px: four blocks
    blocks = detect_file(path, tracks=tracks, tracks_crs="EPSG:32652")
    assert blocks.coarse is not None and blocks.occupied
    union = MultiLineString([r.coords for r in whole.occupied]).buffer(2 * GSD)
    for run in blocks.occupied:  # each block's runs moved to the file's place
        assert tracks.distance(LineString(run.coords)) < 0.5 * GSD
        assert union.contains(LineString(run.coords).interpolate(0.5, normalized=True))
    lonlat = detect_file(path, tracks=tracks, tracks_crs="EPSG:32652", out_crs="EPSG:4326")
    x, y = lonlat.occupied[0].coords[0]
    assert 128 < x < 132 and 42 < y < 43.5  # UTM 52N, 4,700 km north


def test_detect_writes_runs_that_readers_pass_over(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    img, tracks_px = _yard(0.0, [240.0, 0.0, 120.0])
    path = _write(tmp_path / "yard.tif", img)
    tracks = affinity.affine_transform(tracks_px, [GSD, 0, 0, -GSD, *ORIGIN])
    tracks_file = tmp_path / "tracks.geojson"
    tracks_file.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "EPSG:32652"}},
                "features": [
                    {"type": "Feature", "properties": {}, "geometry": ln.__geo_interface__}
                    for ln in tracks.geoms
                ],
            }
        )
    )
    for wgs84 in (False, True):
        out = tmp_path / f"out{int(wgs84)}.geojson"
        args = ["detect", str(path), "--tracks", str(tracks_file), "-o", str(out)]
        assert main([*args, "--wgs84"] if wgs84 else args) == 0, capsys.readouterr()
        fc = json.loads(out.read_text())
        assert fc["method"] == "length"
        feats = fc["features"]
        assert feats and all(f["geometry"]["type"] == "LineString" for f in feats)
        assert all(f["properties"]["method"] == "length" for f in feats)
        total = sum(f["properties"]["length_m"] for f in feats)
        assert total == pytest.approx(fc["coarse"]["occupied_length_m"], abs=0.5)
        cars = sum(f["properties"]["car_equivalents"] for f in feats)
        assert cars == pytest.approx(fc["coarse"]["car_equivalents"], abs=0.05)
        got = read_geojson(out)  # eval, import-labels: no railcar, no error
        assert got.detections == () and got.method == "length"
    capsys.readouterr()


def test_other_lines_are_still_refused_as_railcars() -> None:
    line = {"type": "LineString", "coordinates": [[0, 0], [10, 0]]}
    fc = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {"class": "tank"}, "geometry": line}],
    }
    with pytest.raises(InputError, match="not a Polygon"):
        from_feature_collection(fc)


@pytest.fixture(scope="module")
def coarse_db(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Database, MultiLineString, BaseGeometry]:
    """One 3 m image of a yard of 30 cars, processed, its site with centrelines."""
    from railwatch.imagery import inspect_scene
    from railwatch.ingest import ingest_paths
    from railwatch.pipeline import process_site
    from railwatch.sim import SceneParams, render_scene, write_scene
    from railwatch.sites import SiteSpec
    from test_detect_fakes import BrightBlobDetector

    tmp_path = tmp_path_factory.mktemp("occupied")
    p = SceneParams(seed=20, layout_seed=7, size_px=(200, 200), gsd=GSD, n_cars=30)
    scene = render_scene(p)
    path = write_scene(scene, tmp_path / "imgs", "v0", preview=False).image
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    aoi = box(*inspect_scene(path).footprint.buffer(-0.001).bounds)
    # the yard's own centrelines, in lon/lat (the site's)
    tr = Transformer.from_crs(scene.crs, "EPSG:4326", always_xy=True)
    tracks = MultiLineString(
        [np.column_stack(tr.transform(*np.asarray(t.coords).T)) for t in scene.tracks]
    )
    with db.session() as s:
        repo.add_site(s, SiteSpec(name="yard", geometry=aoi, tracks=tracks))
    ingest_paths(db, "yard", [tmp_path / "imgs"])
    det = BrightBlobDetector()
    det.name, det.version = "fake", "1"
    assert len(process_site(db, "yard", detector=det).processed) == 1
    cars = unary_union([c.polygon_crs for c in scene.truth]).buffer(7.0)  # metres
    return db, tracks, shapely.transform(cars, lambda xy: np.column_stack(tr.transform(*xy.T)))


def test_process_keeps_the_runs_with_the_scenes_count(
    coarse_db: tuple[Database, MultiLineString, BaseGeometry],
) -> None:
    """``railwatch process`` keeps a 3 m scene's runs (lon/lat) with its count; they lie
    on the site's centrelines and add up to its car equivalents."""
    db, tracks, cars = coarse_db
    with db.session() as s:
        (scene,) = repo.list_scenes(s, "yard")
        runs = repo.occupied_runs_of(scene)
        (total,) = [c.count for c in scene.counts if c.cls == "all"]
    assert runs, "a yard of 30 cars read no occupied track"
    assert sum(r.length_m for r in runs) / 14.0 == pytest.approx(total, abs=0.05)
    for run in runs:  # lon/lat, on the site's centrelines (1e-4 degrees is about 8 m)
        assert tracks.distance(LineString(run.coords)) < 1e-4
    # and on the yard's cars, mostly (a 3 m reading: some length spills beside them)
    lines = MultiLineString([r.coords for r in runs])
    assert lines.intersection(cars).length / lines.length > 0.7


def test_report_chips_draw_the_runs(
    coarse_db: tuple[Database, MultiLineString, BaseGeometry],
) -> None:
    """The report's chip of a 3 m image draws its runs (green lines along the track, in
    the legend); a scene counted before they were kept says so in its caption."""
    import dataclasses

    import matplotlib.pyplot as plt

    from railwatch.report.builder import _chip_pair, _SiteInfo
    from railwatch.report.chips import chip_figure, occupied_label
    from railwatch.report.data import scene_rows
    from railwatch.report.style import OCCUPIED_COLOUR

    db, _, _ = coarse_db
    with db.session() as s:
        site = repo.get_site(s, "yard")
        info = _SiteInfo(site.name, "", site.geometry, site.utm_crs)
        (row,) = scene_rows(s, site)
    assert row.method == "length" and row.occupied
    after, _, notes = _chip_pair(info, row, None, {})
    assert after is not None and not notes
    assert len(after.occupied) == len(row.occupied)
    h, w = after.image.shape[:2]
    for line in after.occupied:  # on the chip's grid
        assert all(-1 <= x <= w + 1 and -1 <= y <= h + 1 for x, y in line)
    fig = chip_figure(after)
    ax = fig.axes[0]
    drawn = [ln for ln in ax.get_lines() if ln.get_color() == OCCUPIED_COLOUR]
    assert len(drawn) == len(after.occupied)
    labels = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert occupied_label() in labels
    plt.close(fig)
    old = dataclasses.replace(row, occupied=None)  # counted before session 30
    after, _, _ = _chip_pair(info, old, None, {})
    assert after is not None and after.occupied == ()
    assert any("not recorded" in line for line in after.caption)


@pytest.mark.parametrize("how", ["failed", "bands"])
def test_runs_go_with_a_removed_count(
    coarse_db: tuple[Database, MultiLineString, BaseGeometry], tmp_path: Path, how: str
) -> None:
    """A scene whose count is removed (processing failed again with the file changed, or
    other bands given) loses the runs of that count too: `scene show` and the
    readers of its metadata drew stale stretches for a scene with no count."""
    import sqlite3

    db, _, _ = coarse_db
    with (
        sqlite3.connect(db.url.removeprefix("sqlite:///")) as a,
        sqlite3.connect(tmp_path / "copy.db") as b,
    ):
        a.backup(b)  # the fixture's database as it is, its write-ahead log included
    copy = Database(f"sqlite:///{tmp_path / 'copy.db'}")
    with copy.session() as s:
        (scene,) = repo.list_scenes(s, "yard")
        assert repo.occupied_runs_of(scene)
        if how == "failed":
            repo.mark_scene_failed(s, scene.id, "the file changed")
        else:
            assert repo.set_scene_bands(s, scene.id, (3, 2, 1))
    with copy.session() as s:
        (scene,) = repo.list_scenes(s, "yard")
        assert repo.occupied_runs_of(scene) is None
        assert repo.COARSE_KEY not in (scene.meta or {})


def test_a_stretch_across_180_is_split_there_in_lonlat_output() -> None:
    """RFC 7946: `detect --wgs84` writes a stretch across 180 degrees as two lines,
    not one round the whole Earth (the same function as the export and the web API)."""
    from railwatch.detect.base import OccupiedRun
    from railwatch.detect.geojson import to_feature_collection

    run = OccupiedRun(((179.9995, 65.0), (-179.9995, 65.0)), 47.0)
    fc = to_feature_collection([], crs="EPSG:4326", occupied=[run])
    (feat,) = fc["features"]
    assert feat["geometry"]["type"] == "MultiLineString"
    parts = feat["geometry"]["coordinates"]
    assert all(abs(x) <= 180 for part in parts for x, _ in part)
    assert sum(abs(part[-1][0] - part[0][0]) for part in parts) == pytest.approx(0.001)
    same = to_feature_collection([], crs="EPSG:32601", occupied=[run])  # metres: as it is
    assert same["features"][0]["geometry"]["type"] == "LineString"
