"""5xx bodies and failed jobs' errors name no server folder (session 27).

Before session 27 a 500 (an ``ImageryError``, a ``DetectionError``) carried the
library's message whole: a scene's image damaged on disk after ingest made every tile of
it a 500 naming the file's full path, to every reader of the API (anyone, on a server
with ``--public-reads``); and a folder name with a space (a home folder such as
``/home/Jane Doe``) kept its tail in a failed job's error as anonymous readers saw it.
The server log keeps the whole message.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("rio_tiler")

from fastapi.testclient import TestClient
from pydantic import SecretStr
from rio_tiler.io import Reader

from railwatch.errors import (
    DetectionError,
    ImageryError,
    InputError,
    MissingDependencyError,
    RailwatchError,
    StorageError,
)
from railwatch.export.redact import hide_paths
from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.web.app import create_app
from railwatch.web.errors import DATABASE_FAILED, public_detail, status_for
from railwatch.web.routes import tiles
from web_db import populate

TOKEN = "s27-token-" + "x" * 24
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def world(tmp_path: Path) -> Any:
    """A populated database whose images lie in a folder named like a user's home (with
    a space), and a server with public reads and a token."""
    folder = tmp_path / "home" / "Jane Doe" / "imagery"
    db = Database(f"sqlite:///{tmp_path / 'web.db'}")
    ids = populate(db, folder)
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "cache")
    app = create_app(settings, db)
    tiles._render_params.cache_clear()
    yield {**ids, "app": app, "db": db, "folder": folder, "tmp": tmp_path}
    tiles._render_params.cache_clear()
    db.dispose()


def _centre_tile(path: Path, z: int = 16) -> tuple[int, int, int]:
    with Reader(str(path)) as src:
        w, s, e, n = src.get_geographic_bounds(src.tms.rasterio_geographic_crs)
    lon, lat = (w + e) / 2, (s + n) / 2
    x = int((lon + 180) / 360 * 2**z)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z)
    return z, x, y


def _problem_500(r: Any) -> dict[str, Any]:
    assert r.status_code == 500, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == 500 and body["error"] == "ImageryError"
    return dict(body)


def _no_folder(text: str, world: dict[str, Any]) -> None:
    for part in (str(world["tmp"]), str(world["folder"]), "Jane Doe", "home/"):
        assert part not in text, text


@pytest.mark.parametrize("damage", ["cut short", "overwritten"])
def test_a_tile_of_an_image_damaged_after_ingest_is_a_500_without_its_path(
    world: dict[str, Any], damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    sid = world["scene_ids"][0]
    path = world["folder"] / "scene_0.tif"
    z, x, y = _centre_tile(path)
    url = f"/api/scenes/{sid}/tiles/{z}/{x}/{y}.png"
    c = TestClient(world["app"])
    assert c.get(url).status_code == 200  # readable as ingested
    tiles._render_params.cache_clear()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3] if damage == "cut short" else b"not a tiff" * 50)
    with caplog.at_level(logging.ERROR, logger="railwatch.web.errors"):
        anonymous = _problem_500(c.get(url))
        with_token = _problem_500(c.get(url, headers=AUTH))
    for body in (anonymous, with_token):  # a 5xx names no folder, whoever asks
        detail = body["detail"]
        _no_folder(detail, world)
        # what failed and what to do stay: which scene, which file, put it back
        assert f"the image of scene {sid} (scene_0.tif) cannot be read" in detail
        assert "put the original file back or ingest it again" in detail
        # rasterio's "Read failed. See previous exception for details." said nothing
        assert "See previous exception" not in detail
    if damage == "cut short":
        # GDAL's first reason, as ingest says it
        assert "scene_0.tif is corrupt or truncated (" in anonymous["detail"]
        assert "got " in anonymous["detail"] and "bytes" in anonymous["detail"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert str(world["folder"]) in logged  # the operator keeps the whole message


def test_a_job_whose_detector_cannot_load_shows_the_weights_folder_only_to_the_token(
    world: dict[str, Any],
) -> None:
    """A real job: the detector's card names no INT8 weights; the weights lie in a
    folder with a space in its name. Before session 27 anonymous readers saw
    ``Jane Doe/weights/w.onnx`` (the path was cut at the space only)."""
    from railwatch.detect.default import DefaultDetector

    weights = world["tmp"] / "home" / "Jane Doe" / "weights" / "w.onnx"
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"not onnx")
    db = world["db"]
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=world["tmp"] / "c2")
    app = create_app(
        settings, db, detector_factory=lambda: DefaultDetector(weights, precision="int8")
    )
    with TestClient(app) as c:
        r = c.post(f"/api/sites/{world['site']}/jobs", json={"reprocess": True}, headers=AUTH)
        assert r.status_code == 202, r.text
        job_id = r.json()["id"]
        app.state.jobs.wait()  # the job has run (no polling against the clock)
        anonymous = c.get(f"/api/jobs/{job_id}").json()
        full = c.get(f"/api/jobs/{job_id}", headers=AUTH).json()
    assert anonymous["status"] == "failed"
    assert anonymous["error"].startswith("the card of w.onnx names no INT8 weights")
    assert "railwatch quantize w.onnx" in anonymous["error"]
    _no_folder(anonymous["error"], world)
    assert str(weights) in full["error"]  # the token's reader sees the paths, as before


@pytest.mark.parametrize(
    "err",
    [
        ImageryError("cannot read image /srv/Jane Doe/imagery/x.tif: corrupt"),
        DetectionError("default detector weights not found at /opt/rw/weights/w.onnx: reinstall"),
        RailwatchError("cache folder ~/.cache/railwatch/tiles/x is not writable"),
        DetectionError(r"cannot load detector weights C:\Users\Jane Doe\w.onnx: bad file"),
    ],
)
def test_every_5xx_detail_cuts_paths_to_file_names(err: RailwatchError) -> None:
    status = status_for(err)
    assert status == 500
    detail = public_detail(err, status)
    for folder in ("/srv", "/opt", "~/", "Jane Doe", "Users", ".cache"):
        assert folder not in detail, detail
    assert "x.tif" in detail or "w.onnx" in detail or " x is not writable" in detail
    assert public_detail(err, status, paths=True) == str(err)  # a job's stored error


def test_a_501_names_no_folder_of_the_server() -> None:
    err = MissingDependencyError("rio_tiler", "web", "image tiles")
    detail = public_detail(err, status_for(err))
    assert status_for(err) == 501
    assert "pip install" in detail and "rio_tiler" in detail
    assert not any(p.startswith("/") and p.count("/") > 1 for p in detail.split())


def test_4xx_and_database_details_are_unchanged() -> None:
    bad = InputError("the file /srv/in/site.kml is a KML file: convert it to GeoJSON")
    assert public_detail(bad, status_for(bad)) == str(bad)  # the client's own input
    db = StorageError("cannot open postgresql://u@host/db: refused")
    assert public_detail(db, status_for(db)) == DATABASE_FAILED


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "cannot read image /home/Jane Doe/imagery/x.tif: corrupt",
            "cannot read image x.tif: corrupt",
        ),
        ("weights ~/.cache/railwatch/w.onnx missing", "weights w.onnx missing"),
        (r"C:\Users\Jane Doe\img\x.tif: bad", "x.tif: bad"),
        (r"\\nas\share\img\x.tif: bad", "x.tif: bad"),
        ("../data/img/x.tif: gone", "x.tif: gone"),
        ("'/srv/x/y.tif' is not a GeoTIFF", "'y.tif' is not a GeoTIFF"),
        ("follow it at /api/jobs/abc", "follow it at /api/jobs/abc"),  # the API's own address
        ("3/4 scenes, ratio 1/2", "3/4 scenes, ratio 1/2"),
        ("see docs/web.md", "see docs/web.md"),
    ],
)
def test_hide_paths_cuts_home_windows_and_relative_paths(text: str, shown: str) -> None:
    assert hide_paths(text) == shown
