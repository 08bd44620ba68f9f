"""Registering a coarse image to its site's other images (imagery.register), and the
pipeline moving the track centrelines with it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from pyproj import Transformer
from shapely.geometry import MultiLineString, box

from imagery_helpers import rendered_scene
from railwatch import pipeline
from railwatch.detect.coarse import EmptyTrack, empty_track, site_empty_track
from railwatch.imagery import inspect_scene
from railwatch.imagery.quality import QUALITY_VERSION
from railwatch.imagery.register import (
    MIN_REFERENCES,
    REGISTRATION_VERSION,
    highpass,
    register,
)
from railwatch.ingest import ingest_paths
from railwatch.pipeline import process_site
from railwatch.sim import SceneParams, render_scene, write_scene
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from railwatch.storage.repo import REGISTRATION_KEY
from test_detect_fakes import BrightBlobDetector

Q = f"+q{QUALITY_VERSION}"  # ends every processing version (session 43)

GSD = 3.0


def _ground(seed: int, shape: tuple[int, int] = (160, 200)) -> np.ndarray:
    """A textured RGB ground with a few straight edges (fields, a road)."""
    import cv2

    rng = np.random.default_rng(seed)
    base = rng.normal(0.0, 1.0, (shape[0] // 4, shape[1] // 4)).astype(np.float32)
    img = cv2.resize(base, shape[::-1], interpolation=cv2.INTER_CUBIC) * 25.0 + 120.0
    img[60:64, :] += 60.0  # a road
    img[:, 130:] -= 30.0  # a field edge
    return np.dstack([img] * 3)


def _moved(img: np.ndarray, cols: float, rows: float, seed: int) -> np.ndarray:
    import cv2

    m = np.array([[1.0, 0.0, cols], [0.0, 1.0, rows]])
    out = np.asarray(cv2.warpAffine(img, m, img.shape[1::-1], borderMode=cv2.BORDER_REFLECT_101))
    noise = np.random.default_rng(seed).normal(0.0, 4.0, out.shape).astype(np.float32)
    return np.asarray(out + noise + 10.0 * (seed % 3), dtype=np.float32)  # + a brightness change


def test_register_finds_the_shift_against_the_median_of_the_others() -> None:
    ground = _ground(1)
    refs = [
        highpass(_moved(ground, c, r, s), None, GSD)
        for s, (c, r) in enumerate([(0.3, -0.2), (-0.4, 0.1), (0.1, 0.3), (0.0, -0.2)])
    ]
    reg = register(highpass(_moved(ground, 2.5, -1.5, 9), None, GSD), refs, GSD)
    assert reg.applied and reg.references == 4
    assert reg.cols == pytest.approx(2.5, abs=0.3) and reg.rows == pytest.approx(-1.5, abs=0.3)
    # east and north in metres: content moved right and up
    assert reg.dx_m == pytest.approx(7.5, abs=1.0) and reg.dy_m == pytest.approx(4.5, abs=1.0)
    meta = reg.to_meta()
    assert meta["version"] == REGISTRATION_VERSION and "not_applied" not in meta
    assert meta["dx_m"] == pytest.approx(reg.dx_m, abs=0.01)


def test_register_refuses_too_few_references_weak_peaks_and_large_shifts() -> None:
    ground = _ground(2)
    image = highpass(_moved(ground, 1.0, 1.0, 5), None, GSD)
    few = [highpass(ground, None, GSD)] * (MIN_REFERENCES - 1)
    reg = register(image, few, GSD)
    assert not reg.applied and (reg.cols, reg.rows) == (0.0, 0.0)
    assert f"{MIN_REFERENCES} needed" in reg.reason and "not_applied" in reg.to_meta()
    # an unrelated image: no correlation peak worth the name
    other = [highpass(_ground(s), None, GSD) for s in (10, 11, 12)]
    assert "weak correlation" in register(image, other, GSD).reason
    # a shift beyond MAX_SHIFT_M (15 m = 5 px at 3 m)
    refs = [highpass(_moved(ground, 0, 0, s), None, GSD) for s in range(3)]
    far = register(highpass(_moved(ground, 9.0, 0.0, 7), None, GSD), refs, GSD)
    assert not far.applied and "beyond" in far.reason


def test_highpass_zeroes_pixels_without_data() -> None:
    img = _ground(3)
    valid = np.ones(img.shape[:2], bool)
    valid[:, :50] = False
    hp = highpass(img, valid, GSD)
    assert (hp[:, :50] == 0).all() and np.abs(hp[:, 60:]).mean() > 1.0


def test_sim_misregistration_moves_the_ground_too() -> None:
    """Until SIM_VERSION 1.3 the simulator moved what it painted but not the ground's
    texture, so that no image could be registered to another."""
    p = SceneParams(seed=3, size_px=(160, 160), gsd=GSD, n_cars=0)
    a = render_scene(p)
    b = render_scene(p.with_(misregistration_m=(6.0, -4.5)))
    ref = [highpass(a.image, a.valid, GSD)] * MIN_REFERENCES
    reg = register(highpass(b.image, b.valid, GSD), ref, GSD)
    assert reg.applied
    assert reg.dx_m == pytest.approx(6.0, abs=1.0) and reg.dy_m == pytest.approx(-4.5, abs=1.0)


def _site_tracks(p: SceneParams) -> MultiLineString:
    """The yard's own centrelines in lon/lat (rendered at the scene's size: the layout
    depends on it; at 40 x 40 px, as until session 30, they were another yard's lines,
    4.9 of the 13 km, one 791 m line more than 6 m from every track)."""
    scene = rendered_scene(p.with_(misregistration_m=(0.0, 0.0)))
    tr = Transformer.from_crs(scene.crs, "EPSG:4326", always_xy=True)
    lines = [np.column_stack(tr.transform(*np.asarray(t.coords).T)) for t in scene.tracks]
    return MultiLineString(lines)


@pytest.fixture
def coarse_site(tmp_path: Path) -> Database:
    """Five 3 m images of one yard (same layout, other days and noise), the last
    misregistered by (6, -4.5) m; the site has its track centrelines."""
    return coarse_site_at(tmp_path, f"sqlite:///{tmp_path / 'rw.db'}")


def coarse_site_at(tmp_path: Path, url: str) -> Database:
    """:func:`coarse_site` in the database at ``url``."""
    base = SceneParams(seed=20, layout_seed=7, size_px=(200, 200), gsd=GSD, n_cars=20)
    shifts = [(0.5, -0.5), (-0.5, 0.5), (0.0, 0.5), (0.0, -0.5), (6.0, -4.5)]
    imgs = tmp_path / "imgs"
    first = None
    for i, shift in enumerate(shifts):
        p = base.with_(
            seed=20 + i,
            date=datetime(2023, 6, 1, 2, tzinfo=UTC) + timedelta(days=9 * i),
            misregistration_m=shift,
        )
        path = write_scene(rendered_scene(p), imgs, f"v{i}", preview=False).image
        first = first or path
    assert first is not None
    db = Database(url)
    aoi = box(*inspect_scene(first).footprint.buffer(-0.001).bounds)
    with db.session() as s:
        repo.add_site(s, SiteSpec(name="yard", geometry=aoi, tracks=_site_tracks(base)))
    assert len(ingest_paths(db, "yard", [imgs]).ingested) == len(shifts)
    return db


def test_pipeline_registers_coarse_scenes_and_records_the_shift(coarse_site: Database) -> None:
    det = BrightBlobDetector()
    det.name, det.version = "fake", "1"
    seen: list[object] = []
    real = pipeline.count_scene

    empties: list[object] = []

    def spy(*a: object, **kw: object) -> object:
        seen.append(kw.get("track_shift_px"))
        empties.append(kw.get("site_empty"))
        return real(*a, **kw)  # type: ignore[arg-type]

    pipeline.count_scene = spy  # type: ignore[assignment]
    try:
        summary = process_site(coarse_site, "yard", detector=det)
    finally:
        pipeline.count_scene = real
    assert len(summary.processed) == 5 and all(s is not None for s in seen)
    # each scene is counted with the site's empty track from its four other images
    assert all(isinstance(e, EmptyTrack) for e in empties)
    with coarse_site.session() as s:
        scenes = {sc.uri.rsplit("/", 1)[-1]: sc for sc in repo.list_scenes(s, "yard")}
    reg = scenes["v4.tif"].meta[REGISTRATION_KEY]
    assert reg["references"] == 4 and reg["version"] == REGISTRATION_VERSION
    assert reg["dx_m"] == pytest.approx(6.0, abs=1.5) and reg["dy_m"] == pytest.approx(
        -4.5, abs=1.5
    )
    calm = scenes["v0.tif"].meta[REGISTRATION_KEY]
    assert abs(calm["dx_m"]) < 1.5 and abs(calm["dy_m"]) < 1.5
    version = scenes["v4.tif"].detector_version
    assert version is not None and version.endswith(f"+reg{REGISTRATION_VERSION}{Q}")


def test_pipeline_says_why_a_lone_coarse_scene_was_not_registered(
    coarse_site: Database, tmp_path: Path
) -> None:
    for name in ("v1", "v2", "v3"):  # the references are gone: two of five remain
        (tmp_path / "imgs" / f"{name}.tif").unlink()
    det = BrightBlobDetector()
    det.name, det.version = "fake", "1"
    process_site(coarse_site, "yard", detector=det)
    with coarse_site.session() as s:
        scenes = {sc.uri.rsplit("/", 1)[-1]: sc for sc in repo.list_scenes(s, "yard")}
    reg = scenes["v4.tif"].meta[REGISTRATION_KEY]
    assert reg["references"] == 1 and "3 needed" in reg["not_applied"]
    assert scenes["v1.tif"].status == "failed"


def test_scene_show_says_how_a_coarse_scene_was_registered(
    coarse_site: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.cli.main import main

    det = BrightBlobDetector()
    det.name, det.version = "fake", "1"
    process_site(coarse_site, "yard", detector=det)
    with coarse_site.session() as s:
        ids = {sc.uri.rsplit("/", 1)[-1]: sc.id for sc in repo.list_scenes(s, "yard")}
    assert main(["--db", coarse_site.url, "scene", "show", str(ids["v4.tif"])]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "registered content" in out and "m east" in out and "m south" in out
    assert "median of 4 other images" in out
    assert "empty track the colour the site's 4 other images predict, found in this image" in out
    assert main(["--db", coarse_site.url, "scene", "show", str(ids["v4.tif"]), "--json"]) == 0
    assert '"registration"' in capsys.readouterr().out


def test_report_says_how_the_coarse_counts_were_registered() -> None:
    from dataclasses import replace

    from railwatch.report.caveats import build_caveats
    from railwatch.report.model import SceneRow

    def row(i: int, reg: dict[str, object] | None) -> SceneRow:
        return SceneRow(
            scene_id=i,
            when=datetime(2023, 1, 1 + i, tzinfo=UTC),
            sensor=None,
            gsd=GSD,
            usable=True,
            clear_fraction=1.0,
            coverage=1.0,
            total=10.0,
            low=6.0,
            high=20.0,
            method="length",
            registration=reg,
        )

    rows = [
        row(0, {"version": "1", "references": 2, "not_applied": "2 usable reference image(s)"}),
        row(1, {"version": "1", "references": 5, "dx_m": 3.0, "dy_m": -4.0, "response": 0.9}),
        row(2, {"version": "1", "references": 6, "dx_m": 0.6, "dy_m": 0.8, "response": 0.9}),
        row(3, None),
    ]
    text = " ".join(build_caveats(rows))
    assert "2 of 3 occupied-length counts were made after registering" in text
    assert "3.0 m in the median, 5.0 m at most" in text
    assert "1 occupied-length count used the track lines as given" in text
    assert "2 usable reference image(s)" in text
    # nothing to say where no coarse image was registered
    plain = " ".join(build_caveats([replace(rows[3], scene_id=9)]))
    assert "registering" not in plain and "as given" not in plain


def test_registration_grid_widens_small_sites_and_cuts_large_ones() -> None:
    from affine import Affine

    from railwatch.imagery.read import SiteGrid
    from railwatch.imagery.register import CONTEXT_M, MAX_WINDOW_PX, registration_grid

    small = SiteGrid("EPSG:32652", Affine(3.0, 0, 300_000, 0, -3.0, 4_700_000), 100, 60, 3.0)
    g = registration_grid(small)
    ctx = round(CONTEXT_M / 3.0)
    assert (g.width, g.height) == (100 + 2 * ctx, 60 + 2 * ctx)
    # the same pixels where they overlap: the site grid's origin is a whole pixel inside
    col, row = ~g.transform @ (small.transform.c, small.transform.f)
    assert (col, row) == (ctx, ctx)
    big = SiteGrid("EPSG:32652", Affine(3.0, 0, 300_000, 0, -3.0, 4_700_000), 5000, 800, 3.0)
    g = registration_grid(big)
    assert (g.width, g.height) == (MAX_WINDOW_PX, 800 + 2 * ctx)  # only the long side cut
    col, row = ~g.transform @ (big.transform.c, big.transform.f)
    assert (col, row) == (ctx - (5000 + 2 * ctx - MAX_WINDOW_PX) // 2, ctx)


def test_process_says_how_the_coarse_scenes_were_registered(
    coarse_site: Database,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    from railwatch.cli.main import main
    from railwatch.detect import registry

    monkeypatch.setattr(registry, "get_detector", lambda name="default": BrightBlobDetector())
    assert main(["--db", coarse_site.url, "process", "yard"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "yard: coarse scenes: 5 registered to the site's other images" in out
    assert "m in the median" in out
    assert main(["--db", coarse_site.url, "process", "yard", "--reprocess", "--json"]) == 0
    (site,) = json.loads(capsys.readouterr().out)
    assert site["registered"] == 5 and site["not_registered"] == []


@pytest.mark.parametrize("window_px", [None, 90])
def test_site_empty_track_from_the_wider_references_is_the_site_windows(
    coarse_site: Database, window_px: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The references are read on the registration grid (the site grid widened, or cut
    for a large site); their empty track is taken over the site grid's part of it,
    or read again on the site grid where the cut registration grid does not hold it
    all: the same as from the site windows."""
    from railwatch.imagery import read_site_window, site_grid
    from railwatch.imagery.quality import readable_pixels
    from railwatch.imagery.register import registration_grid

    with coarse_site.session() as s:
        spec = repo.site_spec(repo.get_site(s, "yard"))
        geom, tracks = spec.geometry, spec.tracks
        uris = [sc.uri for sc in repo.list_scenes(s, "yard")]
    assert tracks is not None
    grid = site_grid(geom, GSD)
    if window_px is not None:  # a large site: the registration grid is cut inside it
        monkeypatch.setattr("railwatch.imagery.register.MAX_WINDOW_PX", window_px)
    wide = registration_grid(grid)
    assert (wide.width, wide.height) != (grid.width, grid.height)
    job = pipeline.SceneJob(
        0,
        uris[0],
        GSD,
        geom,
        tracks=tracks,
        references=tuple(pipeline.ReferenceScene(u) for u in uris),
    )
    refs = pipeline._read_references(job, grid)
    assert len(refs) == len(uris)
    got = site_empty_track([r.empty for r in refs])
    lines = pipeline.tracks_to_pixels(tracks, grid.crs, grid.transform)
    own = []
    for u in uris:
        r = read_site_window(u, grid, site_geom=geom)
        valid = readable_pixels(r.image, r.valid & r.inside, r.mask, GSD)
        own.append(empty_track(r.image, GSD, valid, lines))
    want = site_empty_track(own)
    assert tracks is not None and got is not None and want is not None
    assert got == want


def test_references_skip_unusable_images_to_the_same_sixteen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The job lists candidates nearest in time first; the first sixteen usable are
    read, whether the unusable ones among them were judged before the job was made (a
    re-run leaves them out of the list) or only when read (a site's first run): the
    same references, so the same counts, on both runs."""
    from types import SimpleNamespace

    from railwatch.imagery.register import MAX_REFERENCES

    cloudy = {f"s{i}" for i in (0, 3, 4, 9)}
    monkeypatch.setattr(pipeline, "read_site_window", lambda uri, *a, **k: uri)
    monkeypatch.setattr(
        pipeline, "assess_quality", lambda r, **k: SimpleNamespace(usable=r not in cloudy)
    )
    monkeypatch.setattr(pipeline, "_readable_highpass", lambda r: r)
    everything = tuple(pipeline.ReferenceScene(f"s{i}") for i in range(30))
    judged = tuple(r for r in everything if r.uri not in cloudy)
    picks = []
    for refs in (everything, judged):
        job = pipeline.SceneJob(0, "x", GSD, box(0, 0, 1, 1), references=refs)
        grid = pipeline.site_grid(box(130.0, 42.0, 130.01, 42.01), GSD)
        picks.append([r.highpass for r in pipeline._read_references(job, grid)])
    assert picks[0] == picks[1]
    assert len(picks[0]) == MAX_REFERENCES and not cloudy & set(picks[0])
