"""Review r2 of e49257f (session 38), `railwatch ingest-stac` and the nodata a STAC item
declares:

- a float32 image's lowest value, the commonest float nodata, written as tools write it
  (``-3.4028235e+38``: float32's own shortest form, as numpy prints it; gdalinfo's
  ``-3.40282346638529e+38``), is a double just beyond float32's range that rounds to
  that value: GDAL takes it so, and `ingest-stac` failed the whole item ("is outside the
  range of float32 pixels"); it is read as the float32 value it rounds to (a value that
  rounds beyond the range still fails the item);
- a scene given its item's nodata at a re-run (``_take_nodata``) had its coverage
  measured anew, said in its line's words, while the line's ``coverage`` (``--json``)
  kept the old one (1.0 where the words said 84.2 %)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from affine import Affine

from railwatch.imagery.read import ITEM_NODATA_KEY, item_nodata_of, read_site_window, site_grid
from railwatch.storage import Database, repo

pytest.importorskip("pystac")

from test_scene_identity_s29 import stac_item, write_items
from test_stac import GSD, ORIGIN, SIZE, site_db
from test_stac_nodata_s38 import FILL, item, write_image

#: float32's lowest value (what GDAL and rasterio give as such a file's nodata).
LOWEST = float(np.finfo(np.float32).min)


def _float_image(path: Path, *, file_nodata: float | None = None) -> Path:
    """A 1-band float32 GeoTIFF of reflectances whose columns before 80 (the left half
    of test_stac's site) hold :data:`LOWEST`, declaring ``file_nodata``."""
    rng = np.random.default_rng(3)
    data = rng.uniform(0.05, 0.6, size=(1, SIZE, SIZE)).astype(np.float32)
    data[:, :, :80] = LOWEST
    with rasterio.open(
        path, "w", driver="GTiff", width=SIZE, height=SIZE, count=1, dtype="float32",
        crs="EPSG:32652", transform=Affine(GSD, 0, ORIGIN[0], 0, -GSD, ORIGIN[1]),
        nodata=file_nodata,
    ) as dst:  # fmt: skip
        dst.write(data)
    return path


def _float_item(image: Path, nodata: Any) -> dict[str, Any]:
    doc = stac_item("f", str(image))
    doc["assets"]["image"]["raster:bands"] = [{"data_type": "float32", "nodata": nodata}]
    return doc


def _scenes(db: Database) -> list[Any]:
    with db.session(readonly=True) as s:
        return list(repo.list_scenes(s, "yard"))


@pytest.mark.parametrize("written", ["-3.4028235e+38", "-3.40282346638529e+38"])
def test_a_float32_images_lowest_value_as_tools_write_it_is_its_nodata(
    tmp_path: Path, tmp_db_url: str, written: str
) -> None:
    from railwatch.stac import ingest_stac

    db = site_db(tmp_db_url)
    image = _float_image(tmp_path / "f.tif")
    items = write_items(tmp_path / "i.json", _float_item(image, float(written)))
    summary = ingest_stac(db, "yard", items)
    assert not summary.failed, summary.failed
    [scene] = _scenes(db)
    assert item_nodata_of(scene.meta) == LOWEST
    assert scene.coverage == pytest.approx(0.5, abs=0.03)  # the fill is no data
    # and process reads it with it (the warp's source nodata)
    with db.session(readonly=True) as s:
        geom = repo.get_site(s, "yard").geometry
    raster = read_site_window(image, site_grid(geom, GSD), site_geom=geom, nodata=LOWEST)
    assert raster.valid[raster.inside].mean() == pytest.approx(0.5, abs=0.03)


def test_the_same_lowest_value_in_the_file_and_the_item_is_no_disagreement(
    tmp_path: Path, tmp_db_url: str
) -> None:
    """The file declares float32's lowest value, the item the same as gdalinfo writes
    it: nothing to warn of, nothing failed, the file's read."""
    from railwatch.stac import ingest_stac

    db = site_db(tmp_db_url)
    image = _float_image(tmp_path / "f.tif", file_nodata=LOWEST)
    items = write_items(tmp_path / "i.json", _float_item(image, -3.40282346638529e38))
    summary = ingest_stac(db, "yard", items)
    assert not summary.failed, summary.failed
    [entry] = summary.ingested
    assert "warning" not in entry, entry["warning"]
    [scene] = _scenes(db)
    assert ITEM_NODATA_KEY not in scene.meta


def test_a_value_that_rounds_beyond_float32_still_fails_the_item(
    tmp_path: Path, tmp_db_url: str
) -> None:
    from railwatch.stac import ingest_stac

    db = site_db(tmp_db_url)
    image = _float_image(tmp_path / "f.tif")
    summary = ingest_stac(db, "yard", write_items(tmp_path / "i.json", _float_item(image, -1e39)))
    [failed] = summary.failed
    assert "is outside the range of float32 pixels" in failed["reason"]
    assert _scenes(db) == []


def test_the_line_of_a_scene_that_takes_its_items_nodata_gives_its_new_coverage(
    tmp_path: Path, tmp_db_url: str
) -> None:
    from railwatch.stac import ingest_stac

    db = site_db(tmp_db_url)
    catalog = write_items(tmp_path / "i.json", item(write_image(tmp_path / "a.tif")))
    ingest_stac(db, "yard", catalog)
    with db.session() as s:  # as registered before session 38
        (scene,) = repo.list_scenes(s, "yard")
        scene.meta = {k: v for k, v in scene.meta.items() if k != ITEM_NODATA_KEY}
        scene.coverage = 1.0
    [dup] = ingest_stac(db, "yard", catalog).duplicates
    assert dup["nodata_taken"] == FILL
    [after] = _scenes(db)
    assert after.coverage == pytest.approx(0.5, abs=0.03)
    assert dup["coverage"] == round(after.coverage, 4)
