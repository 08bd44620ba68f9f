"""Ingest of a simulator's folder, as a new analyst met it (session 37 walkthrough).

``railwatch simulate`` writes ``NAME.preview.png`` beside each image: ``ingest SITE
folder/*`` listed every preview as a bad file and exited 1. A folder's PNG and JPEG
files (a screenshot, a browse image) were dropped without a word, and so were its
sidecars. Now the preview is a sidecar, named or found in a folder; a folder's sidecars
are counted; its pictures are passed over with why and what to do (``passed_over``),
without failing the run.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from PIL import Image

from imagery_helpers import UTM52, image_box_wgs84, write_geotiff, yard_scene
from railwatch.cli.main import main
from railwatch.errors import InputError
from railwatch.imagery.scan import is_sidecar, scan
from railwatch.ingest import ingest_paths
from railwatch.sim.io import scene_paths
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo

SIZE = 160


def _db(url: str) -> Database:
    db = Database(url)
    with db.session() as s:
        repo.add_site(
            s, SiteSpec(name="yard", geometry=image_box_wgs84(10, 10, SIZE - 10, SIZE - 10))
        )
    return db


def _png(path: Path) -> Path:
    Image.fromarray(np.full((40, 40, 3), 90, np.uint8)).save(path)
    return path


def _sim_folder(folder: Path) -> list[Path]:
    """A folder laid out as ``railwatch simulate`` writes it (its own names), the
    image dated by its name: the image, its mask, truth, tracks and preview."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = scene_paths(folder, "yard_2024-05-01")
    write_geotiff(paths.image, yard_scene(SIZE, SIZE))
    write_geotiff(paths.mask, np.zeros((1, SIZE, SIZE), np.uint8))
    paths.truth.write_text('{"type": "FeatureCollection", "features": []}')
    assert paths.tracks is not None and paths.preview is not None
    paths.tracks.write_text('{"type": "FeatureCollection", "features": []}')
    _png(paths.preview)
    return [paths.image, paths.mask, paths.truth, paths.tracks, paths.preview]


def _georeferenced_png(path: Path) -> Path:
    """A PNG that GDAL reads as georeferenced (its geotransform and CRS in
    ``NAME.png.aux.xml``), over the site."""
    tif = write_geotiff(path.with_suffix(".tif"), yard_scene(SIZE, SIZE))
    with rasterio.open(tif) as src:
        data, transform = src.read(), src.transform
    tif.unlink()
    with rasterio.open(
        path, "w", driver="PNG", width=SIZE, height=SIZE, count=3, dtype="uint8",
        crs=UTM52, transform=transform,
    ) as dst:  # fmt: skip
        dst.write(data)
    return path


def test_the_simulator_preview_is_a_sidecar() -> None:
    assert is_sidecar(Path("myyard_2024-03-01.preview.png"))
    assert is_sidecar(Path("A.PREVIEW.PNG"))
    assert not is_sidecar(Path("screenshot.png"))


def test_a_folder_scan_returns_its_sidecars_and_pictures_apart(tmp_path: Path) -> None:
    _sim_folder(tmp_path / "sim")
    _png(tmp_path / "sim" / "screenshot.png")
    _png(tmp_path / "sim" / ".hidden.png")
    (tmp_path / "sim" / "notes.txt").write_text("x")
    found = scan([tmp_path / "sim"])
    assert [p.name for p in found.files] == ["yard_2024-05-01.tif"]
    assert [p.name for p in found.sidecars] == [
        "yard_2024-05-01.mask.tif",
        "yard_2024-05-01.preview.png",
        "yard_2024-05-01.tracks.geojson",
        "yard_2024-05-01.truth.geojson",
    ]
    assert [p.name for p in found.pictures] == ["screenshot.png"]


def test_a_glob_over_a_simulator_folder_fails_no_file(tmp_path: Path, tmp_db_url: str) -> None:
    named = _sim_folder(tmp_path / "sim")  # as the shell expands sim/*
    db = _db(tmp_db_url)
    summary = ingest_paths(db, "yard", named)
    db.dispose()
    assert summary.failed == []
    assert [Path(r["file"]).name for r in summary.ingested] == ["yard_2024-05-01.tif"]
    preview = [d for d in summary.sidecars if d["file"].endswith(".preview.png")]
    assert len(summary.sidecars) == 4 and len(preview) == 1
    assert "preview picture" in preview[0]["reason"]
    assert "railwatch simulate" in preview[0]["reason"]


def test_a_folder_says_what_it_passed_over(tmp_path: Path, tmp_db_url: str) -> None:
    folder = tmp_path / "sim"
    _sim_folder(folder)
    shot = _png(folder / "screenshot.png")
    geo = _georeferenced_png(folder / "browse_2024-05-01.png")
    db = _db(tmp_db_url)
    summary = ingest_paths(db, "yard", [folder])
    db.dispose()
    assert summary.failed == [] and len(summary.ingested) == 1
    # the simulator's four, and the PNG's .aux.xml
    assert sorted(Path(f).name for f in summary.folder_sidecars) == [
        "browse_2024-05-01.png.aux.xml",
        "yard_2024-05-01.mask.tif",
        "yard_2024-05-01.preview.png",
        "yard_2024-05-01.tracks.geojson",
        "yard_2024-05-01.truth.geojson",
    ]
    reasons = {Path(d["file"]).name: d["reason"] for d in summary.passed_over}
    assert set(reasons) == {shot.name, geo.name}
    assert reasons[shot.name].startswith("not georeferenced (no world file screenshot.pgw")
    assert f"`railwatch detect {shot} --gsd M`" in reasons[shot.name]
    assert "screenshot.png.aux.xml" in reasons[shot.name]
    assert reasons[geo.name].startswith("georeferenced, but a folder's PNG")
    assert f"`railwatch ingest yard {geo}`" in reasons[geo.name]
    as_json = summary.as_dict()
    assert as_json["passed_over"] == summary.passed_over
    assert as_json["folder_sidecars"] == summary.folder_sidecars


def test_a_georeferenced_png_named_is_ingested(tmp_path: Path, tmp_db_url: str) -> None:
    """What the passed-over line tells to do works."""
    geo = _georeferenced_png(tmp_path / "browse_2024-05-01.png")
    db = _db(tmp_db_url)
    summary = ingest_paths(db, "yard", [geo])
    db.dispose()
    assert len(summary.ingested) == 1 and summary.failed == []


def test_a_folder_of_pictures_only_says_why_nothing_is_there(
    tmp_path: Path, tmp_db_url: str
) -> None:
    folder = tmp_path / "shots"
    folder.mkdir()
    _png(folder / "screenshot.png")
    db = _db(tmp_db_url)
    with pytest.raises(InputError) as err:
        ingest_paths(db, "yard", [folder])
    db.dispose()
    text = str(err.value)
    assert text.startswith(f"no image files found in {folder}")
    assert "passed over 1 picture (PNG/JPEG)" in text
    assert "screenshot.png: not georeferenced" in text


def test_cli_folder_prints_the_pictures_and_the_sidecars_and_exits_0(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "sim"
    _sim_folder(folder)
    _png(folder / "screenshot.png")
    _db(tmp_db_url).dispose()
    assert main(["--db", tmp_db_url, "ingest", "yard", str(folder)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Left out 4 sidecars found in the folders" in out
    assert "Passed over 1 picture (PNG/JPEG) found in the folders" in out
    assert "screenshot.png: not georeferenced" in out
    assert main(["--db", tmp_db_url, "ingest", "yard", str(folder), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [Path(d["file"]).name for d in data["passed_over"]] == ["screenshot.png"]
    assert len(data["folder_sidecars"]) == 4 and data["failed"] == []


def test_cli_glob_over_a_simulator_folder_exits_0(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    named = _sim_folder(tmp_path / "sim")
    _db(tmp_db_url).dispose()
    assert main(["--db", tmp_db_url, "ingest", "yard", *map(str, named)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "0 bad files" in out and "Not ingested" not in out
    assert "Left out 4 sidecars (quality masks, metadata, previews," in out
