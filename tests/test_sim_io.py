"""Simulator outputs on disk: COG, quality mask, STAC sidecar, truth GeoJSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
from shapely.geometry import shape

from railwatch.cli.main import main
from railwatch.sim import RenderedScene, SceneParams, ScenePaths, render_scene, write_scene


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[RenderedScene, ScenePaths]:
    out = tmp_path_factory.mktemp("sim")
    p = SceneParams(
        seed=9,
        gsd=0.5,
        size_px=(600, 400),
        n_cars=25,
        cloud_cover=0.2,
        coverage=0.85,
        date=datetime(2023, 10, 5, 2, 0, tzinfo=UTC),
        yard_angle=5.0,
        n_tracks=6,
    )
    scene = render_scene(p)
    paths = write_scene(scene, out, "yard")
    return scene, paths


def test_files_and_cog(written: tuple[RenderedScene, ScenePaths]) -> None:
    scene, paths = written
    assert {p.name for p in paths.all()} == {
        "yard.tif",
        "yard.mask.tif",
        "yard.json",
        "yard.truth.geojson",
        "yard.tracks.geojson",
        "yard.preview.png",
    }
    with rasterio.open(paths.image) as ds:
        assert ds.count == 3 and ds.dtypes[0] == "uint8"
        assert ds.crs.to_epsg() == 32652
        assert ds.transform == scene.transform
        assert ds.nodata == 0
        assert ds.profile["tiled"] and ds.overviews(1)
        img = ds.read()
        assert np.array_equal(img.transpose(1, 2, 0), scene.image)
    with rasterio.open(paths.mask) as ds:
        assert ds.count == 1 and ds.transform == scene.transform
        m = ds.read(1)
        assert np.array_equal(m, scene.mask)
        assert set(np.unique(m)) <= {0, 1, 2, 3, 4, 255}


def test_stac_sidecar(written: tuple[RenderedScene, ScenePaths]) -> None:
    scene, paths = written
    item = json.loads(paths.stac.read_text())
    props = item["properties"]
    assert props["datetime"] == "2023-10-05T02:00:00Z"
    assert props["gsd"] == 0.5
    assert props["platform"] == "SkySat-sim"
    assert 0 < props["eo:cloud_cover"] < 100
    for key in ("view:off_nadir", "view:sun_elevation", "view:sun_azimuth", "constellation"):
        assert key in props
    assert item["assets"]["image"]["href"] == "yard.tif"
    assert item["assets"]["mask"]["href"] == "yard.mask.tif"
    assert item["assets"]["mask"]["roles"] == ["quality"]
    fp = shape(item["geometry"])
    assert fp.is_valid and fp.contains(shape({"type": "Point", "coordinates": [130.6081, 42.4214]}))
    assert props["railwatch:truth_counts"] == scene.truth_counts()


def test_truth_geojson(written: tuple[RenderedScene, ScenePaths]) -> None:
    scene, paths = written
    fc = json.loads(paths.truth.read_text())
    assert fc["crs"]["properties"]["name"] == "EPSG:32652"
    assert fc["gsd"] == 0.5
    assert len(fc["features"]) == len(scene.truth) == 25
    for feat, t in zip(fc["features"], scene.truth, strict=True):
        assert feat["properties"]["class"] == t.cls
        assert feat["properties"]["covered"] == t.covered
        assert shape(feat["geometry"]).equals_exact(t.polygon_crs, 1e-6)
    with rasterio.open(paths.image) as ds:
        left, bottom, right, top = ds.bounds
    for feat in fc["features"]:
        x0, y0, x1, y1 = shape(feat["geometry"]).bounds
        assert left < x0 and x1 < right and bottom < y0 and y1 < top


def test_imagery_reads_the_sidecar(written: tuple[RenderedScene, ScenePaths]) -> None:
    _, paths = written
    inspect = pytest.importorskip("railwatch.imagery").inspect_scene
    info = inspect(paths.image)
    assert info.date_source == "stac"
    assert info.acquired == datetime(2023, 10, 5, 2, 0, tzinfo=UTC)
    assert info.gsd == pytest.approx(0.5)
    assert info.mask_uri is not None and info.mask_uri.endswith("yard.mask.tif")


def test_cli_scene(tmp_path: Path) -> None:
    code = main(
        [
            "simulate",
            "--scene",
            "--gsd",
            "3",
            "--cars",
            "12",
            "--seed",
            "7",
            "--size",
            "200x150",
            "--out",
            str(tmp_path),
            "--name",
            "s",
        ]
    )
    assert code == 0
    fc = json.loads((tmp_path / "s.truth.geojson").read_text())
    assert len(fc["features"]) == 12
    with rasterio.open(tmp_path / "s.tif") as ds:
        assert (ds.width, ds.height) == (200, 150)
    assert main(["simulate", "--out", str(tmp_path)]) == 2  # neither --scene nor --scenario


def test_cli_scene_name_must_be_a_file_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--name ../../x wrote x.tif and four more files two folders above --out."""
    out = tmp_path / "a" / "b"
    assert main(["simulate", "--scene", "--name", "../../x", "--out", str(out)]) == 2
    assert "not a plain file name" in capsys.readouterr().err
    assert not list(tmp_path.rglob("x.*"))


@pytest.mark.parametrize("gsd", ["0", "nan", "-1", "31"])
def test_cli_scene_bad_gsd_is_an_error(
    tmp_path: Path, gsd: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--gsd 0 was a ZeroDivisionError and nan a ValueError (internal errors, status 70)."""
    code = main(["simulate", "--scene", "--gsd", gsd, "--out", str(tmp_path / "o")])
    assert code == 2  # a bad option value (session 46: was 1, a settings problem)
    # the option named (session 46: "out of range: use 0.05 to 30 m per pixel")
    assert f"--gsd {gsd}: the simulator renders 0.05 to 30 m per pixel" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
