"""Second engineer's review of session 35's STAC intake, scale and quality-in-strips
commits (r5-review, 2026-12-06): what a first test left open.

STAC 1.1 puts a raster field that every band shares on the asset itself, not in each
band (the 1.0 -> 1.1 band migration moves it there: a 3-band reflectance asset of scale
1e-4 has ``"raster:scale": 0.0001`` beside ``bands`` without one; a single-band asset
may have no ``bands`` at all). 588b098 read ``raster:scale``/``raster:offset`` only in
the ``bands`` entries, so such an item's scale was not recorded and its bands were read
as stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pystac")

from test_stac_intake_s35 import item, reflectance, scene_rows, site_db, tif, write_items

SHARED = {"scale": [1e-4, 1e-4, 1e-4], "offset": [-0.1, -0.1, -0.1]}


def _bands(*names: str, **extra: Any) -> list[dict[str, Any]]:
    return [{"name": n, "eo:common_name": n, **extra} for n in names]


def test_a_scale_every_band_shares_on_the_asset_is_the_items(
    tmp_db_url: str, tmp_path: Path
) -> None:
    from railwatch.imagery.inspect import ITEM_SCALING_KEY
    from railwatch.stac import ingest_stac

    reflectance(tmp_path / "v.tif")
    asset = tif(
        "v.tif", "data", bands=_bands("red", "green", "blue"),
        **{"raster:scale": 1e-4, "raster:offset": -0.1},
    )  # fmt: skip
    doc = item("a", {"visual": asset}, version="1.1.0", gsd=0.5)
    db = site_db(tmp_db_url)
    summary = ingest_stac(db, "yard", write_items(tmp_path / "items.json", [doc]))
    assert not summary.failed, summary.as_dict()
    (scene,) = scene_rows(db)
    assert scene.meta[ITEM_SCALING_KEY] == SHARED


def test_a_band_of_its_own_scale_overrides_the_assets(tmp_path: Path) -> None:
    """Beside the NAME.json read by `railwatch ingest`: the asset's shared offset, one
    band's own scale."""
    from railwatch.imagery import inspect_scene
    from railwatch.imagery.inspect import ITEM_SCALING_KEY

    reflectance(tmp_path / "v.tif")
    bands = _bands("red", "green", "blue")
    bands[2]["raster:scale"] = 5e-5
    asset = tif("v.tif", "data", bands=bands, **{"raster:scale": 1e-4, "raster:offset": -0.1})
    (tmp_path / "v.json").write_text(json.dumps(item("a", {"image": asset}, version="1.1.0")))
    info = inspect_scene(tmp_path / "v.tif")
    assert info.metadata[ITEM_SCALING_KEY] == {
        "scale": [1e-4, 1e-4, 5e-5],
        "offset": [-0.1, -0.1, -0.1],
    }


def test_an_asset_without_bands_scales_every_band_of_its_file(
    tmp_db_url: str, tmp_path: Path
) -> None:
    from railwatch.imagery.inspect import ITEM_SCALING_KEY
    from railwatch.stac import ingest_stac

    reflectance(tmp_path / "v.tif")
    asset = tif("v.tif", "data", **{"raster:scale": 1e-4, "raster:offset": -0.1})
    doc = item("a", {"visual": asset}, version="1.1.0", gsd=0.5)
    db = site_db(tmp_db_url)
    summary = ingest_stac(db, "yard", write_items(tmp_path / "items.json", [doc]))
    assert not summary.failed, summary.as_dict()
    (scene,) = scene_rows(db)
    assert scene.meta[ITEM_SCALING_KEY] == SHARED


def test_a_bad_shared_scale_names_the_assets_field(tmp_db_url: str, tmp_path: Path) -> None:
    from railwatch.stac import ingest_stac

    reflectance(tmp_path / "v.tif")
    asset = tif("v.tif", "data", bands=_bands("red", "green", "blue"), **{"raster:scale": 0})
    doc = item("a", {"visual": asset}, version="1.1.0", gsd=0.5)
    db = site_db(tmp_db_url)
    summary = ingest_stac(db, "yard", write_items(tmp_path / "items.json", [doc]))
    (failed,) = summary.failed
    reason = failed["reason"]
    assert reason.startswith("its image asset's raster:scale declares a scale of 0"), reason
    assert "correct the item's raster:scale" in reason, reason
    assert scene_rows(db) == []
