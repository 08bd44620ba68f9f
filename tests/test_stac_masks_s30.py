"""STAC scenes' quality masks (session 30): an item whose mask asset names a local file
that is not there, or is no raster, fails at `ingest-stac` with what to do (the
catalog's other items are registered), where it was registered and failed only at
`process`."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio

from railwatch.ingest import MASK_STAMP_KEY, mask_stamp
from railwatch.storage import Database, repo

pytest.importorskip("pystac")
pytest.importorskip("pystac_client")

import test_scene_identity_s29
from test_integrity_stac_mask_s29 import (
    item_with_mask,
    write_mask,
)
from test_scene_identity_s29 import write_items
from test_stac import make_cog, site_db

hashes = test_scene_identity_s29.hashes  # the fixture: the files hashed from now on


def _run_cli(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> tuple[int, str]:
    from railwatch.cli.main import main

    capsys.readouterr()
    code = main(["--db", url, *args])
    captured = capsys.readouterr()
    return code, " ".join((captured.out + captured.err).split())


# ------------------------------------------------------ 2. a mask that cannot be read


def _two_items(tmp_path: Path, mask_b: Path) -> str:
    """Item ``a`` with a good mask, item ``b`` with ``mask_b``."""
    a = make_cog(tmp_path / "a.tif", 0)
    b = make_cog(tmp_path / "b.tif", 1)
    good = write_mask(tmp_path / "a.mask.tif")
    return write_items(
        tmp_path / "items.json",
        item_with_mask("a", a, good),
        item_with_mask("b", b, mask_b),
    )


def _not_a_raster(path: Path) -> Path:
    path.write_text("<html>404 Not Found</html>\n")
    return path


def _without_crs(path: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NotGeoreferencedWarning: the point here
        with rasterio.open(
            path, "w", driver="GTiff", width=8, height=8, count=1, dtype="uint8"
        ) as dst:
            dst.write(np.zeros((1, 8, 8), dtype=np.uint8))
    return path


@pytest.mark.parametrize(
    ("make", "problem", "todo"),
    [
        (
            lambda p: p,
            "does not exist",
            "check the asset's href (a relative one resolves against the item JSON's "
            "folder) or put the mask there",
        ),
        (_not_a_raster, "cannot be read as a raster (", "replace it with a mask GDAL can read"),
        (_without_crs, "has no CRS", "replace it with a mask GDAL can read"),
    ],
    ids=["missing", "not-a-raster", "no-crs"],
)
def test_an_item_whose_mask_cannot_be_read_fails_and_the_others_are_registered(
    tmp_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make: Any,
    problem: str,
    todo: str,
) -> None:
    mask_b = make(tmp_path / "b.mask.tif")
    catalog = _two_items(tmp_path, mask_b)
    site_db(tmp_db_url)
    code, text = _run_cli(capsys, tmp_db_url, "ingest-stac", "yard", "--stac", catalog)
    assert code == 1, text
    assert "1 new scene(s), 0 already there, 0 skipped, 1 failed" in text
    assert f"failed yards/b: its quality mask asset 'mask' ({mask_b}) {problem}" in text
    assert todo in text
    assert "or take the mask asset out of the item, then run `railwatch ingest-stac` again" in text
    db = Database(tmp_db_url)
    with db.session(readonly=True) as s:
        assert [sc.meta["stac_id"] for sc in repo.list_scenes(s, "yard")] == ["a"]


def test_the_failed_item_is_registered_once_its_mask_is_there(
    tmp_db_url: str, tmp_path: Path
) -> None:
    from railwatch.stac import ingest_stac

    mask_b = tmp_path / "b.mask.tif"
    catalog = _two_items(tmp_path, mask_b)
    db = site_db(tmp_db_url)
    first = ingest_stac(db, "yard", catalog)
    assert [f["file"] for f in first.failed] == ["yards/b"]
    write_mask(mask_b)
    again = ingest_stac(db, "yard", catalog)
    assert not again.failed and [e["file"] for e in again.ingested] == ["yards/b"]
    with db.session(readonly=True) as s:
        b = next(sc for sc in repo.list_scenes(s, "yard") if sc.meta["stac_id"] == "b")
        assert b.mask_uri == str(mask_b) and b.meta[MASK_STAMP_KEY] == mask_stamp(str(mask_b))
