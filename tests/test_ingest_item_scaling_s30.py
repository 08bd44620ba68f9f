"""``railwatch ingest FILE`` reads the STAC item ``NAME.json`` beside the file (its date,
sensor, bands, sun...) but not the scales and offsets its image asset's ``raster:bands``
declare, which ``ingest-stac`` keeps since fc1377c: bands stored with different scales
that only the item describes were read as stored, out of balance. Now ``ingest`` keeps
them too (``stac_band_scaling``), by the same rule (``imagery.inspect.item_band_scaling``:
0 or not a number, or another number of bands than the file's, refused with what to do;
8-bit read as stored; the file's own win, and the entry's ``warning`` says so where they
differ), and ``ingest`` run again over a file already ingested takes the ones its item
declares now, the scene marked ``+scale-changed`` so that the next ``process`` counts it
again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from affine import Affine

from railwatch.cli.main import main
from railwatch.imagery.read import ITEM_SCALING_KEY, item_scaling_of
from railwatch.ingest import ingest_paths
from railwatch.pipeline import pending_jobs, process_site
from railwatch.storage import Database

pytest.importorskip("pystac")

from test_scene_identity_s29 import stac_item, write_items
from test_stac import GSD, ORIGIN, SIZE, site_db
from test_stac_item_scaling_s30 import (
    OFFSETS,
    SCALES,
    _detector,
    _scene,
    declared,
    item,
    write_reflectance,
)


def sidecar(image: Path, bands: list[dict[str, Any]] | None) -> Path:
    """The STAC item ``NAME.json`` beside ``image``, its image asset (href: the file's
    name) declaring ``bands`` as its ``raster:bands`` when given."""
    doc = stac_item("a", image.name)
    if bands is not None:
        doc["assets"]["image"]["raster:bands"] = bands
    path = image.with_suffix(".json")
    path.write_text(json.dumps(doc))
    return path


def test_ingest_keeps_the_scales_the_item_beside_the_file_declares(
    tmp_path: Path, tmp_db_url: str
) -> None:
    image = write_reflectance(tmp_path / "a.tif")
    sidecar(image, declared())
    db = site_db(tmp_db_url)
    summary = ingest_paths(db, "yard", [image])
    [entry] = summary.ingested
    assert "warning" not in entry
    scene = _scene(db)
    assert scene.meta[ITEM_SCALING_KEY] == {"scale": SCALES, "offset": OFFSETS}
    assert scene.meta["sidecar"] == "a.json"  # the rest of the item is read as before
    (job,) = pending_jobs(db, "yard", detector=_detector())[0]
    assert job.item_scaling == (tuple(SCALES), tuple(OFFSETS))


@pytest.mark.parametrize(("scale", "offset"), [(0, 0.0), (float("nan"), 0.0), (1e-4, "x")])
def test_a_scale_of_zero_or_not_a_number_fails_the_file(
    tmp_path: Path, tmp_db_url: str, scale: Any, offset: Any
) -> None:
    image = write_reflectance(tmp_path / "a.tif")
    sidecar(image, declared([SCALES[0], scale, SCALES[2]], [OFFSETS[0], offset, OFFSETS[2]]))
    db = site_db(tmp_db_url)
    summary = ingest_paths(db, "yard", [image])
    [failed] = summary.failed
    assert failed["reason"].startswith(
        "the image asset's raster:bands in its STAC item a.json declares a scale of"
    )
    assert "for band 2" in failed["reason"]
    assert "correct the item's raster:bands" in failed["reason"]
    assert "run `railwatch ingest` again" in failed["reason"]
    assert not summary.ingested


def test_another_number_of_bands_fails_the_file(tmp_path: Path, tmp_db_url: str) -> None:
    image = write_reflectance(tmp_path / "a.tif")
    sidecar(image, declared()[:2])
    [failed] = ingest_paths(site_db(tmp_db_url), "yard", [image]).failed
    assert "lists 2 band(s)" in failed["reason"] and "a.tif has 3" in failed["reason"]
    assert "run `railwatch ingest` again" in failed["reason"]


def test_an_eight_bit_file_is_read_as_stored(tmp_path: Path, tmp_db_url: str) -> None:
    image = tmp_path / "a.tif"
    with rasterio.open(
        image, "w", driver="GTiff", width=SIZE, height=SIZE, count=3, dtype="uint8",
        crs="EPSG:32652", transform=Affine(GSD, 0, ORIGIN[0], 0, -GSD, ORIGIN[1]),
    ) as dst:  # fmt: skip
        dst.write(np.full((3, SIZE, SIZE), 90, dtype=np.uint8))
    sidecar(image, declared())
    db = site_db(tmp_db_url)
    [entry] = ingest_paths(db, "yard", [image]).ingested
    assert ITEM_SCALING_KEY not in _scene(db).meta and "warning" not in entry


def test_the_files_own_scales_win_and_ingest_warns(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    image = write_reflectance(tmp_path / "a.tif", SCALES, OFFSETS)
    sidecar(image, declared([1e-4] * 3, [0.0] * 3))
    site_db(tmp_db_url).dispose()
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "ingest", "yard", str(image)]) == 0
    out, err = capsys.readouterr()
    text = " ".join((out + err).split())
    assert f"warning: {image}:" in text
    assert "its STAC item a.json declares a scale of 0.0001, 0.0001, 0.0001" in text
    assert "the file itself 0.0001, 0.0002, 0.0004 and -0.1, 0, 0" in text
    assert "the file's are used" in text
    db = Database(tmp_db_url)
    assert ITEM_SCALING_KEY not in _scene(db).meta
    # the same as the file's: nothing to say, nothing kept
    sidecar(image, declared())
    [dup] = ingest_paths(db, "yard", [image]).duplicates
    assert dup["reason"] == f"already ingested as scene {dup['scene_id']}"
    assert ITEM_SCALING_KEY not in _scene(db).meta


def test_ingest_run_again_takes_the_scales_its_item_declares_now(
    tmp_path: Path, tmp_db_url: str
) -> None:
    """A file ingested (and counted) with an item that declared no scales takes those
    its item declares at the next `ingest` over it, and the next `process` (no
    --reprocess) counts it again; a further run changes nothing; an item that declares
    none any more gives them up, again counted anew."""
    from railwatch.stac import SCALE_CHANGED  # the mark ingest-stac sets, where it was

    image = write_reflectance(tmp_path / "a.tif")
    item_json = sidecar(image, None)
    db = site_db(tmp_db_url)
    assert len(ingest_paths(db, "yard", [image]).ingested) == 1
    assert ITEM_SCALING_KEY not in _scene(db).meta
    assert process_site(db, "yard", detector=_detector()).total == 1
    assert process_site(db, "yard", detector=_detector()).skipped == 1

    sidecar(image, declared())
    [dup] = ingest_paths(db, "yard", [image]).duplicates
    assert "scale and offset are now those its STAC item a.json declares" in dup["reason"]
    assert "0.0001, 0.0002, 0.0004 and -0.1, 0, 0" in dup["reason"]
    assert "counts it again (its results so far are kept until then)" in dup["reason"]
    assert dup["scaling_taken"] == {"scale": SCALES, "offset": OFFSETS}
    after = _scene(db)
    assert after.detector_version.endswith(SCALE_CHANGED) and after.status == "processed"
    assert item_scaling_of(after.meta) == (tuple(SCALES), tuple(OFFSETS))
    assert after.meta["sidecar"] == "a.json"  # the rest of its metadata is kept

    summary = process_site(db, "yard", detector=_detector())
    assert summary.total == 1 and summary.skipped == 0
    assert not _scene(db).detector_version.endswith(SCALE_CHANGED)
    [again] = ingest_paths(db, "yard", [image]).duplicates
    assert again["reason"] == f"already ingested as scene {again['scene_id']}"

    item_json.unlink()
    [gone] = ingest_paths(db, "yard", [image]).duplicates
    assert "its STAC item a.json (not there now) declares no scale or offset" in gone["reason"]
    assert ITEM_SCALING_KEY not in _scene(db).meta
    assert _scene(db).detector_version.endswith(SCALE_CHANGED)


def test_an_item_refused_at_a_run_again_leaves_the_scene_as_it_was(
    tmp_path: Path, tmp_db_url: str
) -> None:
    image = write_reflectance(tmp_path / "a.tif")
    sidecar(image, declared())
    db = site_db(tmp_db_url)
    ingest_paths(db, "yard", [image])
    before = _scene(db)
    sidecar(image, declared([0.0] * 3, [0.0] * 3))
    summary = ingest_paths(db, "yard", [image])
    [failed] = summary.failed
    assert "run `railwatch ingest` again" in failed["reason"] and not summary.duplicates
    after = _scene(db)
    assert after.meta == before.meta and after.detector_version == before.detector_version


def test_a_stac_items_scene_keeps_its_items_scales(tmp_path: Path, tmp_db_url: str) -> None:
    """A file that `ingest-stac` registered keeps the scales its catalog's item declares
    when `ingest` is run over it with another item beside it."""
    from railwatch.stac import ingest_stac

    image = write_reflectance(tmp_path / "a.tif")
    db = site_db(tmp_db_url)
    catalog = write_items(tmp_path / "cat" / "items.json", item(image, declared()))
    assert len(ingest_stac(db, "yard", catalog).ingested) == 1
    sidecar(image, declared([1e-4] * 3, [0.0] * 3))
    [dup] = ingest_paths(db, "yard", [image]).duplicates
    assert "scale and offset" not in dup["reason"]
    assert _scene(db).meta[ITEM_SCALING_KEY] == {"scale": SCALES, "offset": OFFSETS}
