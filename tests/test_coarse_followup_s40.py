"""Follow-up of the coarse-path review (session 40, 2026-12-06): faults it found and left,
each as a user meets it with images from ``railwatch simulate``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from railwatch.cli import _common
from railwatch.cli.main import main
from railwatch.storage import Database, repo

# the simulated scene's centre (simulate's default, the Tumangang yard) and a site over it
_BBOX = "130.6050,42.4190,130.6110,42.4238"


def _simulate(out: Path, gsd: float, name: str, *extra: str) -> Path:
    assert main(
        ["simulate", "--scene", "--gsd", str(gsd), "--cars", "40", "--seed", "7",
         "--out", str(out), "--name", name, *extra]
    ) == 0  # fmt: skip
    return out / f"{name}.tif"


@pytest.fixture(scope="module")
def sims(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 10 m and a 3 m simulated image of one yard (40 cars)."""
    out = tmp_path_factory.mktemp("sims")
    _simulate(out, 10.0, "g10")
    _simulate(out, 3.0, "g3")
    return out


def test_10_m_scene_of_a_site_without_centrelines_is_not_blamed_on_its_file(
    sims: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 10 m image of a site without track centrelines cannot be read (the long-train
    flag is read along them only). ``process`` listed it as failed like a broken file,
    and when another scene was counted its closing line said to fix "a missing, moved or
    corrupt file". It is listed apart, with the command that makes it count, the closing
    line says the same, and it is stored without a count (not 0)."""
    monkeypatch.setattr(_common.console, "width", 250)
    url = f"sqlite:///{tmp_path / 'f1.db'}"
    assert main(["--db", url, "site", "add", "yard", "--bbox", _BBOX]) == 0
    assert main(["--db", url, "ingest", "yard", str(sims / "g10.tif"), str(sims / "g3.tif")]) == 0
    capsys.readouterr()
    assert main(["--db", url, "process", "yard"]) == 1  # a scene is not counted
    cap = capsys.readouterr()
    out, err = " ".join(cap.out.split()), " ".join(cap.err.split())
    assert "not counted, the site has no track centrelines" in out, out
    assert "railwatch site edit yard --tracks FILE" in out
    assert "failed:" not in out
    assert "missing, moved or corrupt" not in err, err
    assert "cannot be read without the site's track centrelines" in err, err
    assert "`railwatch site edit yard --tracks FILE`" in err
    assert "the other 1 was recorded" in err  # the 3 m scene, counted along found lines

    db = Database(url)
    with db.session(readonly=True) as s:
        by_gsd = {round(sc.gsd): sc for sc in repo.list_scenes(s, "yard")}
        assert by_gsd[10].status == "failed" and not by_gsd[10].counts  # no 0 stored
        assert by_gsd[3].status == "processed"
    db.dispose()

    assert main(["--db", url, "scene", "list", "yard"]) == 0
    listed = " ".join(capsys.readouterr().out.split())
    assert "failed (needs track centrelines: `railwatch site edit yard --tracks FILE`)" in listed

    assert main(["--db", url, "process", "yard", "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert [f["needs_tracks"] for f in rows[0]["failed"]] == [True]


@pytest.mark.parametrize("gsd", [15.0, 30.0])
def test_detect_gives_no_long_train_flag_coarser_than_10_m(
    gsd: float, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Above 10 m ``process`` stores an image as unusable ("too coarse to count
    railcars", quality.MAX_COUNT_GSD), and the long-train flag was measured at 10 m only;
    ``detect --tracks`` said "no long train" (or "long train present") of it. Now no
    flag, with a note saying why."""
    img = _simulate(tmp_path, gsd, "coarse")
    capsys.readouterr()
    out = tmp_path / "out.geojson"
    args = ["detect", str(img), "--tracks", str(tmp_path / "coarse.tracks.geojson")]
    assert main([*args, "--json", "-o", str(out)]) == 0
    cap = capsys.readouterr()
    (row,) = json.loads(cap.out)
    assert row["present"] is None and row["too_coarse"] is True, row
    assert json.loads(out.read_text())["coarse"]["present"] is None
    err = " ".join(cap.err.split())
    assert "too coarse to count railcars" in err and "measured on 10 m images only" in err, err
    assert main(args) == 0
    table = capsys.readouterr().out
    assert "too coarse" in table and "long train" not in table, table


def test_count_scene_refuses_an_image_coarser_than_10_m() -> None:
    """The Python count of a 15 m image along given lines has no flag either (the
    pipeline never asks: its quality check stores the image as unusable)."""
    import numpy as np
    from pyproj import Transformer
    from shapely.geometry import LineString, MultiLineString

    from railwatch.counting import count_scene
    from railwatch.errors import DetectionError
    from railwatch.imagery.quality import Quality
    from railwatch.imagery.read import SiteGrid, SiteRaster
    from railwatch.sim import SceneParams, render_scene

    sc = render_scene(SceneParams(seed=7, size_px=(40, 40), gsd=15.0, n_cars=40))
    to_wgs = Transformer.from_crs(sc.crs, "EPSG:4326", always_xy=True)
    wgs = MultiLineString(
        [LineString([to_wgs.transform(*xy) for xy in t.coords]) for t in sc.tracks]
    )
    raster = SiteRaster(
        sc.image,
        sc.valid,
        np.ones((40, 40), bool),
        None,
        SiteGrid(sc.crs, sc.transform, 40, 40, 15.0),
    )
    quality = Quality(1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 15.0, True, (), "mask")
    with pytest.raises(DetectionError, match="too coarse to count railcars"):
        count_scene([], raster, quality, tracks_wgs84=wgs)


def test_presence_geojson_has_no_car_count_and_eval_still_scores_its_flag(
    sims: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 10 m image has no count, only the long-train flag; its GeoJSON's ``coarse``
    block still gave car equivalents with an interval (60.71, 14.9-141.8) from the
    occupied length summed, which reads each string on several lines, and a longest
    string (0.0) where no flag was read. ``railwatch eval`` scores the flag as before."""
    tracks = str(sims / "g10.tracks.geojson")
    given, found = tmp_path / "given.geojson", tmp_path / "found.geojson"
    assert main(["detect", str(sims / "g10.tif"), "--tracks", tracks, "-o", str(given)]) == 0
    assert main(["detect", str(sims / "g10.tif"), "-o", str(found)]) == 0
    capsys.readouterr()
    block = json.loads(given.read_text())["coarse"]
    assert block["car_equivalents"] is None and block["low"] is None and block["high"] is None
    assert isinstance(block["present"], bool) and block["longest_string_m"] is not None
    assert block["occupied_length_m"] > 0  # the measurement itself is kept
    block = json.loads(found.read_text())["coarse"]
    assert block["present"] is None and block["longest_string_m"] is None, block
    assert block["car_equivalents"] is None

    truth_dir, pred_dir = tmp_path / "truth", tmp_path / "pred"
    truth_dir.mkdir()
    pred_dir.mkdir()
    (truth_dir / "g10.truth.geojson").write_bytes((sims / "g10.truth.geojson").read_bytes())
    (pred_dir / "g10.detections.geojson").write_bytes(given.read_bytes())
    assert main(["eval", "--truth", str(truth_dir), "--pred", str(pred_dir), "--json"]) == 0
    presence = json.loads(capsys.readouterr().out)["overall"]["presence"]
    assert presence["scenes"] == 1 and presence["unknown"] == 0, presence


def _grey_copy(src: Path, dst: Path) -> None:
    """``src`` as a single-band (luminance) GeoTIFF at ``dst``."""
    import numpy as np
    import rasterio

    with rasterio.open(src) as ds:
        rgb = ds.read().astype(np.float64)
        profile = ds.profile
    grey = np.round(0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]).astype(np.uint8)
    profile.update(count=1)
    profile.pop("photometric", None)
    with rasterio.open(dst, "w", **profile) as out:
        out.write(grey, 1)


def test_grey_3_m_image_is_said_to_have_no_colour_not_a_crowded_yard(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A single-band 3 m image of a yard of 40 cars read 0 (0-198) along its centrelines
    with the note "the yard looks crowded": the cause is the missing colour (cars are
    read by their colour against the empty track). It is said so, and the colour image
    of the same yard gets no such warning."""
    img = _simulate(tmp_path, 3.0, "yard", "--seed", "4")
    _grey_copy(img, tmp_path / "grey.tif")
    tracks = str(tmp_path / "yard.tracks.geojson")
    capsys.readouterr()
    rows = {}
    for name in ("yard", "grey"):
        args = ["detect", str(tmp_path / f"{name}.tif"), "--tracks", tracks, "--json"]
        assert main([*args, "-o", str(tmp_path / f"{name}.out.geojson")]) == 0
        cap = capsys.readouterr()
        (rows[name],) = json.loads(cap.out)
        rows[name]["err"] = " ".join(cap.err.split())
    assert rows["grey"]["grey"] is True and rows["yard"]["grey"] is False
    assert "has no colour" in rows["grey"]["err"] and "reads low" in rows["grey"]["err"]
    assert "looks crowded" not in rows["grey"]["err"], rows["grey"]["err"]
    assert "has no colour" not in rows["yard"]["err"]
    assert rows["grey"]["total"] < rows["yard"]["total"]  # what the warning is about


def test_coarse_picture_gets_no_rails_scale_check_note(
    sims: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 3 m PNG with --gsd 3 was always told "not checked against the rails: no rail
    pairs found ... The detector needs the scale to about ±10 %": rails cannot be seen
    at 1.5 m and coarser, and the detector is not what reads it. It is told that the
    scale cannot be checked there and what it does to the estimate."""
    import cv2
    import numpy as np
    import rasterio

    with rasterio.open(sims / "g3.tif") as ds:
        rgb = np.moveaxis(ds.read(), 0, -1)
    png = tmp_path / "yard.png"
    cv2.imwrite(str(png), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert main(["detect", str(png), "--gsd", "3", "-o", str(tmp_path / "out.geojson")]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "no rail pairs found" not in err and "The detector needs the scale" not in err, err
    assert "--gsd 3 cannot be checked against the rails" in err, err
    assert "car equivalents" in err


def test_non_square_pixels_warning_for_a_coarse_image_speaks_of_track_length(
    sims: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 3 m image in lon/lat at 42° N (pixels 2.2 x 3.0 m on the ground) was warned
    that "the detector takes square pixels, so cars look 26 % shorter one way": at 3 m
    no detector reads it, the occupied length is measured with one pixel size."""
    import rasterio
    from rasterio.transform import from_origin

    with rasterio.open(sims / "g3.tif") as ds:
        data = ds.read()
    deg = 3.0 / 111_320
    img = tmp_path / "lonlat.tif"
    with rasterio.open(
        img, "w", driver="GTiff", width=data.shape[2], height=data.shape[1], count=3,
        dtype="uint8", crs="EPSG:4326", transform=from_origin(130.604, 42.424, deg, deg),
    ) as out:  # fmt: skip
        out.write(data)
    assert main(["detect", str(img), "-o", str(tmp_path / "out.geojson")]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "not square" in err, err
    assert "the detector takes square pixels" not in err and "cars look" not in err, err
    assert "track lengths" in err and "% off depending on the track's direction" in err
