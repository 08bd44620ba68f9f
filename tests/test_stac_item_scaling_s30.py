"""A scale and offset that only a STAC item declares for its image's bands (the image
asset's ``raster:bands``: Sentinel-2 L2A on Earth Search, whose COGs may not carry them)
were not used: since 3be6682 a file's own scales are applied before its pixels are
mapped to 8 bits, but bands stored with different scales that only the item describes
were read as stored, out of balance. Now `ingest-stac` keeps the item's scales in the
scene's metadata (``stac_band_scaling``; 0 or not a number refused, per item, with what
to do; the file's own win where it declares any, and the item's line says so where they
differ), `process` reads the scene with them where the file declares none, and a scene
registered before that is counted again when `ingest-stac` runs again over its catalog
(``+scale-changed``)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from affine import Affine

from railwatch import pipeline
from railwatch.imagery.read import (
    ITEM_SCALING_KEY,
    item_scaling_of,
    read_site_window,
    site_grid,
)
from railwatch.pipeline import pending_jobs, process_site
from railwatch.storage import Database, repo
from test_detect_fakes import BrightBlobDetector

pytest.importorskip("pystac")

from test_scene_identity_s29 import stac_item, write_items
from test_stac import GSD, ORIGIN, SIZE, site_db

#: What each band's stored value stands for: stored × scale + offset (reflectance).
SCALES = [0.0001, 0.0002, 0.0004]
OFFSETS = [-0.1, 0.0, 0.0]


def _detector() -> BrightBlobDetector:
    det = BrightBlobDetector()
    det.name, det.version = "fake", "1"
    return det


def write_reflectance(
    path: Path, scales: list[float] | None = None, offsets: list[float] | None = None
) -> Path:
    """A 3-band uint16 COG of a grey-ish reflectance field (each band stored with its own
    scale, :data:`SCALES`, :data:`OFFSETS`), declaring ``scales``/``offsets`` itself
    when given (GDAL metadata), else none."""
    rng = np.random.default_rng(3)
    refl = 0.05 + 0.25 * rng.random((SIZE, SIZE))
    stored = np.stack(
        [np.round((refl - o) / s) for s, o in zip(SCALES, OFFSETS, strict=True)]
    ).astype(np.uint16)
    with rasterio.open(
        path, "w", driver="GTiff", width=SIZE, height=SIZE, count=3, dtype="uint16",
        crs="EPSG:32652", transform=Affine(GSD, 0, ORIGIN[0], 0, -GSD, ORIGIN[1]),
    ) as dst:  # fmt: skip
        dst.write(stored)
        if scales is not None:
            dst.scales = tuple(scales)
            dst.offsets = tuple(offsets or [0.0] * 3)
    return path


def item(image: Path, bands: list[dict[str, Any]] | None) -> dict[str, Any]:
    doc = stac_item("a", str(image))
    if bands is not None:
        doc["assets"]["image"]["raster:bands"] = bands
    return doc


def declared(scales: list[Any] = SCALES, offsets: list[Any] = OFFSETS) -> list[dict[str, Any]]:
    return [
        {"data_type": "uint16", "scale": s, "offset": o}
        for s, o in zip(scales, offsets, strict=True)
    ]


def _scene(db: Database) -> Any:
    with db.session(readonly=True) as s:
        (scene,) = repo.list_scenes(s, "yard")
        return scene


def _site(db: Database) -> Any:
    with db.session(readonly=True) as s:
        return repo.get_site(s, "yard").geometry


def test_the_read_applies_the_items_scaling_where_the_file_declares_none(
    tmp_path: Path, tmp_db_url: str
) -> None:
    """Read with the item's scales, a file that declares none reads as the same file
    declaring them does; read without, its bands stored with different scales are out
    of balance. A file's own scales win over the item's."""
    bare = write_reflectance(tmp_path / "bare.tif")
    own = write_reflectance(tmp_path / "own.tif", SCALES, OFFSETS)
    geom = _site(site_db(tmp_db_url))
    grid = site_grid(geom, GSD)
    scaling = (tuple(SCALES), tuple(OFFSETS))

    def read(path: Path, **kw: Any) -> np.ndarray:
        return read_site_window(path, grid, site_geom=geom, radiometry="display", **kw).image

    truth = read(own)
    assert np.array_equal(read(bare, item_scaling=scaling), truth)
    assert not np.array_equal(read(bare), truth)  # out of balance, as before
    other = ((1.0, 1.0, 1.0), (0.5, 0.0, 0.0))
    assert np.array_equal(read(own, item_scaling=other), truth)  # the file wins


def test_ingest_stac_keeps_the_items_scaling_and_process_reads_with_it(
    tmp_path: Path, tmp_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from railwatch.stac import ingest_stac

    image = write_reflectance(tmp_path / "a.tif")
    db = site_db(tmp_db_url)
    catalog = write_items(tmp_path / "items.json", item(image, declared()))
    summary = ingest_stac(db, "yard", catalog)
    assert len(summary.ingested) == 1 and not summary.failed, summary.as_dict()
    scene = _scene(db)
    assert scene.meta[ITEM_SCALING_KEY] == {"scale": SCALES, "offset": OFFSETS}
    (job,) = pending_jobs(db, "yard", detector=_detector())[0]
    assert job.item_scaling == (tuple(SCALES), tuple(OFFSETS))

    seen: list[Any] = []
    real = pipeline.read_site_window

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("item_scaling"))
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "read_site_window", spy)
    assert process_site(db, "yard", detector=_detector()).total == 1
    assert seen == [job.item_scaling]


@pytest.mark.parametrize(("scale", "offset"), [(0, 0.0), (float("nan"), 0.0), (1e-4, "x")])
def test_a_scale_of_zero_or_not_a_number_fails_the_item(
    tmp_path: Path, tmp_db_url: str, scale: Any, offset: Any
) -> None:
    from railwatch.stac import ingest_stac

    image = write_reflectance(tmp_path / "a.tif")
    db = site_db(tmp_db_url)
    bands = declared([SCALES[0], scale, SCALES[2]], [OFFSETS[0], offset, OFFSETS[2]])
    path = tmp_path / "items.json"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [item(image, bands)]}))
    summary = ingest_stac(db, "yard", str(path))
    [failed] = summary.failed
    assert "raster:bands declares a scale of" in failed["reason"]
    assert "for band 2" in failed["reason"]
    assert "run `railwatch ingest-stac` again" in failed["reason"]
    assert not summary.ingested


def test_another_number_of_bands_fails_the_item(tmp_path: Path, tmp_db_url: str) -> None:
    from railwatch.stac import ingest_stac

    image = write_reflectance(tmp_path / "a.tif")
    db = site_db(tmp_db_url)
    catalog = write_items(tmp_path / "items.json", item(image, declared()[:2]))
    [failed] = ingest_stac(db, "yard", catalog).failed
    assert "lists 2 band(s)" in failed["reason"] and "has 3" in failed["reason"]


def test_the_files_own_scaling_wins_and_ingest_says_so(tmp_path: Path, tmp_db_url: str) -> None:
    from railwatch.stac import ingest_stac

    image = write_reflectance(tmp_path / "a.tif", SCALES, OFFSETS)
    db = site_db(tmp_db_url)
    catalog = write_items(tmp_path / "items.json", item(image, declared([1e-4] * 3, [0.0] * 3)))
    [entry] = ingest_stac(db, "yard", catalog).ingested
    assert "the file's are used" in entry["warning"]
    assert "0.0001, 0.0002, 0.0004 and -0.1, 0, 0" in entry["warning"]
    assert ITEM_SCALING_KEY not in _scene(db).meta
    # the same as the file's: nothing to say, nothing kept
    catalog = write_items(tmp_path / "items.json", item(image, declared()))
    [dup] = ingest_stac(db, "yard", catalog).duplicates
    assert dup["reason"] == f"already ingested as scene {dup['scene_id']}"


def test_a_scene_registered_without_them_is_counted_again_when_ingest_stac_runs_again(
    tmp_path: Path, tmp_db_url: str
) -> None:
    """A scene of an item registered (and counted) before its scales were kept takes
    them at the next `ingest-stac` over the catalog, and the next `process` (no
    --reprocess) counts it again; a further re-run changes nothing."""
    from railwatch.stac import SCALE_CHANGED, ingest_stac

    image = write_reflectance(tmp_path / "a.tif")
    db = site_db(tmp_db_url)
    catalog = write_items(tmp_path / "items.json", item(image, declared()))
    ingest_stac(db, "yard", catalog)
    with db.session() as s:  # as registered before session 30
        (scene,) = repo.list_scenes(s, "yard")
        scene.meta = {k: v for k, v in scene.meta.items() if k != ITEM_SCALING_KEY}
    assert process_site(db, "yard", detector=_detector()).total == 1
    assert process_site(db, "yard", detector=_detector()).skipped == 1

    [dup] = ingest_stac(db, "yard", catalog).duplicates
    assert "scale and offset are now those its item declares" in dup["reason"]
    assert "counts it again" in dup["reason"]
    after = _scene(db)
    assert after.detector_version.endswith(SCALE_CHANGED) and after.status == "processed"
    assert item_scaling_of(after.meta) == (tuple(SCALES), tuple(OFFSETS))

    summary = process_site(db, "yard", detector=_detector())
    assert summary.total == 1 and summary.skipped == 0
    assert not _scene(db).detector_version.endswith(SCALE_CHANGED)
    [again] = ingest_stac(db, "yard", catalog).duplicates
    assert again["reason"] == f"already ingested as scene {again['scene_id']}"


def test_item_scaling_of_reads_only_what_can_be_applied() -> None:
    ok = {ITEM_SCALING_KEY: {"scale": [2, 0.5], "offset": [0, -1.0]}}
    assert item_scaling_of(ok) == ((2.0, 0.5), (0.0, -1.0))
    for bad in (
        {"scale": [0.0], "offset": [0.0]},
        {"scale": [math.nan], "offset": [0.0]},
        {"scale": [1.0], "offset": []},
        {"scale": [True], "offset": [0.0]},
        "x",
    ):
        assert item_scaling_of({ITEM_SCALING_KEY: bad}) is None
    assert item_scaling_of(None) is None
