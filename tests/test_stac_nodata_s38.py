"""A nodata value that only a STAC item declares for its image (the raster extension's
``raster:bands[].nodata``; STAC 1.1 ``bands[].nodata`` or the asset's ``nodata``) was
ignored by `railwatch ingest-stac`: the fill was read as dark ground, by the quality
estimate, the detector in `process` and the report chips. Now the item's value is kept
with the scene (``stac_nodata``, where the file declares none) and every reader of the
scene applies it; the file's own wins where it declares one (the item's line says so);
an invalid value fails the item, naming it and the field, with nothing stored. And a
STAC scene's coverage of its site comes from its pixels (valid ones over the site), not
from the item's footprint, which stays the quick pre-filter (2026-12-06, session 38)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from affine import Affine

from railwatch import pipeline
from railwatch.imagery import inspect as imagery_inspect
from railwatch.imagery.quality import assess_quality
from railwatch.imagery.read import ITEM_NODATA_KEY, item_nodata_of, read_site_window, site_grid
from railwatch.pipeline import pending_jobs, process_site
from railwatch.storage import Database, repo
from test_detect_fakes import BrightBlobDetector

pytest.importorskip("pystac")

from test_scene_identity_s29 import multihash, stac_item, write_items
from test_stac import GSD, ORIGIN, SIZE, footprint, site_db

#: The fill value of the image's empty part (dark: read as ground when not known).
FILL = 7
#: The site lies over the image's columns and rows 40 to 120 (test_stac.site_db); the
#: fill covers the columns before this one: the left half of the site.
EDGE = 80


def write_image(path: Path, *, file_nodata: float | None = None, empty: bool = False) -> Path:
    """A 3-band uint8 GeoTIFF of textured ground whose columns before :data:`EDGE` (all
    of it over the site with ``empty``) hold :data:`FILL`, declaring ``file_nodata``."""
    rng = np.random.default_rng(5)
    data = rng.integers(60, 200, size=(3, SIZE, SIZE), dtype=np.uint8)
    if empty:
        data[:, :160, :160] = FILL
    else:
        data[:, :, :EDGE] = FILL
    with rasterio.open(
        path, "w", driver="GTiff", width=SIZE, height=SIZE, count=3, dtype="uint8",
        crs="EPSG:32652", transform=Affine(GSD, 0, ORIGIN[0], 0, -GSD, ORIGIN[1]),
        nodata=file_nodata,
    ) as dst:  # fmt: skip
        dst.write(data)
    return path


def item(image: Path, nodata: Any = FILL, *, key: str = "raster:bands") -> dict[str, Any]:
    """An item over the whole image whose image asset declares ``nodata`` for its three
    bands (in ``key``: ``raster:bands``, ``bands``, or ``nodata`` on the asset)."""
    doc = stac_item("a", str(image))
    asset = doc["assets"]["image"]
    if key == "nodata":
        asset["nodata"] = nodata
    elif nodata is not None:
        values = nodata if isinstance(nodata, list) else [nodata] * 3
        asset[key] = [{"data_type": "uint8", "nodata": v} for v in values]
    return doc


def _scenes(db: Database) -> list[Any]:
    with db.session(readonly=True) as s:
        return list(repo.list_scenes(s, "yard"))


def _site(db: Database) -> Any:
    with db.session(readonly=True) as s:
        return repo.get_site(s, "yard").geometry


def _detector() -> BrightBlobDetector:
    det = BrightBlobDetector()
    det.name, det.version = "fake", "1"
    return det


@pytest.mark.parametrize("key", ["raster:bands", "bands", "nodata"])
def test_ingest_stac_keeps_the_items_nodata_and_measures_coverage_on_the_pixels(
    tmp_path: Path, tmp_db_url: str, key: str
) -> None:
    """The item's nodata is kept with the scene, and its coverage is where the pixels
    hold data (half the site), not the footprint's (all of it)."""
    from railwatch.stac import ingest_stac

    db = site_db(tmp_db_url)
    image = write_image(tmp_path / "a.tif")
    summary = ingest_stac(db, "yard", write_items(tmp_path / "items.json", item(image, key=key)))
    assert len(summary.ingested) == 1 and not summary.failed, summary.as_dict()
    [scene] = _scenes(db)
    assert scene.meta[ITEM_NODATA_KEY] == FILL
    assert scene.coverage == pytest.approx(0.5, abs=0.03)


def test_coverage_comes_from_the_pixels_without_an_item_nodata(
    tmp_path: Path, tmp_db_url: str
) -> None:
    """An item whose footprint covers the site, over a file that declares its own
    nodata and is empty over half the site: half covered (was 100 %, the footprint's)."""
    from railwatch.stac import ingest_stac

    db = site_db(tmp_db_url)
    image = write_image(tmp_path / "a.tif", file_nodata=FILL)
    summary = ingest_stac(db, "yard", write_items(tmp_path / "i.json", item(image, None)))
    [entry] = summary.ingested
    [scene] = _scenes(db)
    assert ITEM_NODATA_KEY not in scene.meta
    assert scene.coverage == pytest.approx(0.5, abs=0.03)
    assert entry["coverage"] == pytest.approx(0.5, abs=0.03)


def test_an_item_without_data_over_the_site_is_skipped_with_why(
    tmp_path: Path, tmp_db_url: str
) -> None:
    from railwatch.stac import ingest_stac

    db = site_db(tmp_db_url)
    image = write_image(tmp_path / "a.tif", empty=True)
    summary = ingest_stac(db, "yard", write_items(tmp_path / "i.json", item(image)))
    [skipped] = summary.skipped
    assert "holds no data over site yard" in skipped["reason"]
    assert not summary.ingested and not _scenes(db)


def test_an_item_whose_footprint_misses_the_site_is_skipped_without_reading_pixels(
    tmp_path: Path, tmp_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from railwatch.stac import ingest_stac

    def never(*args: Any, **kwargs: Any) -> float:
        raise AssertionError("the pixels of an item that misses the site were read")

    monkeypatch.setattr(imagery_inspect, "site_data_coverage", never)
    db = site_db(tmp_db_url)
    doc = item(write_image(tmp_path / "a.tif"))
    doc["geometry"] = footprint(5000.0)
    summary = ingest_stac(db, "yard", write_items(tmp_path / "i.json", doc))
    [skipped] = summary.skipped
    assert "outside the site" in skipped["reason"]


def test_the_read_and_the_quality_take_the_items_nodata(tmp_path: Path, tmp_db_url: str) -> None:
    """Read with the item's nodata, half the site is no data (the quality says so);
    read without, the fill is ground."""
    geom = _site(site_db(tmp_db_url))
    image = write_image(tmp_path / "a.tif")
    grid = site_grid(geom, GSD)
    with_it = read_site_window(image, grid, site_geom=geom, nodata=FILL)
    without = read_site_window(image, grid, site_geom=geom)
    inside = with_it.inside
    assert with_it.valid[inside].mean() == pytest.approx(0.5, abs=0.03)
    assert without.valid[inside].all()
    assert assess_quality(with_it).coverage == pytest.approx(0.5, abs=0.03)
    # the lazy read (process's fine path) reads the same
    with read_site_window(image, grid, site_geom=geom, nodata=FILL, lazy=True) as lazy:
        assert np.array_equal(lazy.valid, with_it.valid)
        assert np.array_equal(lazy.image[:, :], with_it.image)


def test_process_reads_the_scene_with_its_items_nodata(
    tmp_path: Path, tmp_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from railwatch.stac import ingest_stac

    db = site_db(tmp_db_url)
    image = write_image(tmp_path / "a.tif")
    ingest_stac(db, "yard", write_items(tmp_path / "i.json", item(image)))
    (job,) = pending_jobs(db, "yard", detector=_detector())[0]
    assert job.item_nodata == FILL
    seen: list[Any] = []
    real = pipeline.read_site_window

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("nodata"))
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "read_site_window", spy)
    assert process_site(db, "yard", detector=_detector()).total == 1
    assert seen == [FILL]
    [scene] = _scenes(db)
    assert scene.quality_coverage == pytest.approx(0.5, abs=0.03)


def test_the_files_own_nodata_wins_and_ingest_says_so(tmp_path: Path, tmp_db_url: str) -> None:
    from railwatch.stac import ingest_stac

    db = site_db(tmp_db_url)
    image = write_image(tmp_path / "a.tif", file_nodata=FILL)
    summary = ingest_stac(db, "yard", write_items(tmp_path / "i.json", item(image, 0)))
    [entry] = summary.ingested
    assert "raster:bands[0].nodata declares nodata 0" in entry["warning"]
    assert f"itself {FILL}: the file's is read" in entry["warning"]
    [scene] = _scenes(db)
    assert ITEM_NODATA_KEY not in scene.meta
    assert scene.coverage == pytest.approx(0.5, abs=0.03)  # the file's nodata
    # the same as the file's: nothing to say, nothing kept
    summary = ingest_stac(db, "yard", write_items(tmp_path / "i.json", item(image, FILL)))
    [dup] = summary.duplicates
    assert dup["reason"] == f"already ingested as scene {dup['scene_id']}"


@pytest.mark.parametrize(
    ("nodata", "field", "why"),
    [
        ("none", "raster:bands[0].nodata", "is a string, not a number"),
        ("nan", "raster:bands[0].nodata", "an integer type has no NaN"),
        (300, "raster:bands[0].nodata", "outside the range of uint8 pixels (0 to 255)"),
        (-1, "raster:bands[0].nodata", "outside the range of uint8 pixels"),
        (1.5, "raster:bands[0].nodata", "not a whole number"),
        (True, "raster:bands[0].nodata", "is a bool, not a number"),
        ([7, 7, 9], "raster:bands[2].nodata", "one nodata value for an image's bands"),
    ],
)
def test_an_invalid_nodata_fails_the_item_naming_it_and_the_field_with_nothing_stored(
    tmp_path: Path, tmp_db_url: str, nodata: Any, field: str, why: str
) -> None:
    from railwatch.stac import ingest_stac

    db = site_db(tmp_db_url)
    image = write_image(tmp_path / "a.tif")
    summary = ingest_stac(db, "yard", write_items(tmp_path / "i.json", item(image, nodata)))
    [failed] = summary.failed
    assert "STAC item a" in failed["reason"] and field in failed["reason"]
    assert why in failed["reason"]
    assert "run `railwatch ingest-stac` again" in failed["reason"]
    assert not summary.ingested and not _scenes(db)


def test_an_invalid_nodata_leaves_the_items_scene_as_it_was(
    tmp_path: Path, tmp_db_url: str
) -> None:
    """A re-run over an item corrected into an invalid nodata fails it and changes
    nothing of its scene."""
    from railwatch.stac import ingest_stac

    db = site_db(tmp_db_url)
    image = write_image(tmp_path / "a.tif")
    ingest_stac(db, "yard", write_items(tmp_path / "i.json", item(image)))
    [before] = _scenes(db)
    summary = ingest_stac(db, "yard", write_items(tmp_path / "i.json", item(image, "oops")))
    assert len(summary.failed) == 1 and not summary.duplicates
    [after] = _scenes(db)
    assert (after.meta, after.coverage, after.status) == (before.meta, before.coverage, "ingested")


@pytest.mark.parametrize("checksum", [False, True])
def test_a_scene_registered_without_it_takes_it_when_ingest_stac_runs_again(
    tmp_path: Path, tmp_db_url: str, monkeypatch: pytest.MonkeyPatch, checksum: bool
) -> None:
    """A scene registered (and counted) before session 38 takes its item's nodata, and
    its coverage from its pixels, at the next `ingest-stac`; the next `process` counts
    it again; a further re-run changes nothing and reads no pixels. With a
    ``file:checksum`` the item's scene is found by it (as a remote asset's by its
    item's identity)."""
    from railwatch.stac import NODATA_CHANGED, ingest_stac

    db = site_db(tmp_db_url)
    image = write_image(tmp_path / "a.tif")
    doc = item(image)
    if checksum:
        doc["assets"]["image"]["file:checksum"] = multihash(image)
    catalog = write_items(tmp_path / "i.json", doc)
    ingest_stac(db, "yard", catalog)
    with db.session() as s:  # as registered before session 38
        (scene,) = repo.list_scenes(s, "yard")
        scene.meta = {k: v for k, v in scene.meta.items() if k != ITEM_NODATA_KEY}
        scene.coverage = 1.0
    assert process_site(db, "yard", detector=_detector()).total == 1
    assert process_site(db, "yard", detector=_detector()).skipped == 1

    [dup] = ingest_stac(db, "yard", catalog).duplicates
    assert f"its no-data value is now {FILL}" in dup["reason"]
    assert "counts it again" in dup["reason"]
    [after] = _scenes(db)
    assert after.detector_version.endswith(NODATA_CHANGED) and after.status == "processed"
    assert item_nodata_of(after.meta) == FILL
    assert after.coverage == pytest.approx(0.5, abs=0.03)

    summary = process_site(db, "yard", detector=_detector())
    assert summary.total == 1 and summary.skipped == 0
    reads: list[Any] = []
    real = imagery_inspect.site_data_coverage

    def counted(*args: Any, **kwargs: Any) -> float:
        reads.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(imagery_inspect, "site_data_coverage", counted)
    [again] = ingest_stac(db, "yard", catalog).duplicates
    assert again["reason"] == f"already ingested as scene {again['scene_id']}"
    assert reads == []


def test_a_float_images_nan_nodata_records_nothing(tmp_path: Path, tmp_db_url: str) -> None:
    """A float image's "nan" is allowed (NaN pixels are no data already): nothing to
    keep."""
    from railwatch.stac import ingest_stac

    path = tmp_path / "f.tif"
    data = np.full((3, SIZE, SIZE), 0.2, dtype=np.float32)
    data[:, :, :EDGE] = np.nan
    with rasterio.open(
        path, "w", driver="GTiff", width=SIZE, height=SIZE, count=3, dtype="float32",
        crs="EPSG:32652", transform=Affine(GSD, 0, ORIGIN[0], 0, -GSD, ORIGIN[1]),
    ) as dst:  # fmt: skip
        dst.write(data)
    db = site_db(tmp_db_url)
    summary = ingest_stac(db, "yard", write_items(tmp_path / "i.json", item(path, "nan")))
    assert len(summary.ingested) == 1, json.dumps(summary.as_dict())
    [scene] = _scenes(db)
    assert ITEM_NODATA_KEY not in scene.meta
    assert scene.coverage == pytest.approx(0.5, abs=0.03)


def test_the_reports_chips_are_read_with_the_items_nodata(tmp_path: Path) -> None:
    """The evidence chips of a scene whose STAC item declares a nodata value show its
    fill as no data (not valid), as `process` counted it; without it, as ground."""
    from railwatch.report import build_report_data
    from report_db import populate

    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    populate(db, tmp_path / "scenes")

    def after() -> tuple[np.ndarray, Any]:
        data = build_report_data(db, "testyard")
        (ev,) = data.evidence
        assert ev.after is not None and ev.after_row is not None and ev.after.valid is not None
        return np.asarray(ev.after.valid, bool), ev.after_row

    valid, row = after()
    assert row.item_nodata is None
    with db.session() as s:
        scene = repo.get_scene(s, row.scene_id)
        path = Path(scene.uri)
        with rasterio.open(path) as ds:
            assert ds.nodata is None
            profile, pixels = ds.profile, ds.read()
        pixels[:, :, : pixels.shape[2] // 2] = FILL  # its west half: the fill
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(pixels)
    filled, _ = after()
    assert filled.mean() == pytest.approx(valid.mean())  # the fill read as ground
    with db.session() as s:
        scene = repo.get_scene(s, row.scene_id)
        scene.meta = {**(scene.meta or {}), ITEM_NODATA_KEY: FILL}
    got, row = after()
    assert row.item_nodata == FILL
    assert got.mean() < valid.mean() - 0.2
    db.dispose()


def test_label_chips_are_read_with_the_items_nodata(tmp_path: Path) -> None:
    """`export labels` chips of such a scene show its fill black (no data), as the
    pipeline reads it; without the item's nodata the fill's own value."""
    from test_label_chips_scaling_s30 import _chip, _site

    db, path, eight = _site(tmp_path, None)
    eight[:, :, : eight.shape[2] // 2] = FILL
    with rasterio.open(path) as ds:
        profile = ds.profile
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(eight)
    plain = _chip(db, tmp_path / "plain")
    assert (plain == FILL).all(axis=2).any()  # the fill, read as ground
    with db.session() as s:
        scene = repo.get_scene(s, 1)
        scene.meta = {**(scene.meta or {}), ITEM_NODATA_KEY: FILL}
    got = _chip(db, tmp_path / "item")
    fill = (plain == FILL).all(axis=2)
    assert not (got == FILL).all(axis=2).any()
    assert (got[fill] == 0).all()
    db.dispose()


def test_coverage_of_an_image_with_a_rotated_geotransform(tmp_path: Path, tmp_db_url: str) -> None:
    """The pixels over the site are found by the site's vertices in the image's pixels,
    whatever its geotransform: a rotated image over the whole site covers it all."""
    from railwatch.stac import ingest_stac

    path = tmp_path / "r.tif"
    rng = np.random.default_rng(5)
    data = rng.integers(60, 200, size=(3, SIZE, SIZE), dtype=np.uint8)
    x0, y0 = ORIGIN[0] - 40.0, ORIGIN[1] + 40.0  # the image's corner north-west of the site
    transform = Affine.translation(x0, y0) @ Affine.rotation(-10) @ Affine.scale(GSD, -GSD)
    with rasterio.open(
        path, "w", driver="GTiff", width=SIZE, height=SIZE, count=3, dtype="uint8",
        crs="EPSG:32652", transform=transform,
    ) as dst:  # fmt: skip
        dst.write(data)
    db = site_db(tmp_db_url)
    summary = ingest_stac(db, "yard", write_items(tmp_path / "i.json", item(path, None)))
    assert len(summary.ingested) == 1, summary.as_dict()
    [scene] = _scenes(db)
    assert scene.coverage == pytest.approx(1.0, abs=0.01)


def test_a_result_read_without_the_nodata_ingest_stac_took_meanwhile_is_not_recorded(
    tmp_path: Path, tmp_db_url: str
) -> None:
    """Counted before session 38; a --reprocess run reads it without its item's nodata,
    `ingest-stac` takes it (and marks the scene) before the write: the earlier result
    and the mark stay, and the next run (not --reprocess) counts it with the nodata."""
    from railwatch.pipeline import process_scene, record_outcome
    from railwatch.stac import NODATA_CHANGED, ingest_stac

    db = site_db(tmp_db_url)
    catalog = write_items(tmp_path / "i.json", item(write_image(tmp_path / "a.tif")))
    ingest_stac(db, "yard", catalog)
    with db.session() as s:  # as registered before session 38
        (scene,) = repo.list_scenes(s, "yard")
        scene.meta = {k: v for k, v in scene.meta.items() if k != ITEM_NODATA_KEY}
    assert process_site(db, "yard", detector=_detector()).total == 1
    [before] = _scenes(db)
    (job,) = pending_jobs(db, "yard", detector=_detector(), reprocess=True)[0]
    assert job.item_nodata is None
    outcome = process_scene(job, _detector())
    assert outcome.error is None and outcome.quality is not None
    ingest_stac(db, "yard", catalog)  # takes the nodata meanwhile

    got = record_outcome(db, outcome, _detector())
    assert got.error is not None
    assert "the nodata value its STAC item declares changed while it" in got.error
    assert f"it was read without one; its item declares {FILL} now" in got.error
    [after] = _scenes(db)
    assert after.detector_version.endswith(NODATA_CHANGED) and after.status == "processed"
    assert after.processed_at == before.processed_at
    summary = process_site(db, "yard", detector=_detector())  # not --reprocess
    assert summary.total == 1 and not summary.failed
    [done] = _scenes(db)
    assert not done.detector_version.endswith(NODATA_CHANGED)
    assert done.quality_coverage == pytest.approx(0.5, abs=0.03)
