"""A quality mask whose values are none of railwatch's codes is named at ingest (review
r3, 2026-12-06, session 39). One band is read as 0 clear, 1 cloud, 2 haze, 3 snow,
4 cloud shadow, 255 no data, and any other value as no data: a mask in another
convention (a 0/128 cloud mask, confidence percentages) made its pixels no data without
a word until `railwatch process` judged the scene unusable for "no data"."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import mapping

from imagery_helpers import ORIGIN_X, ORIGIN_Y, utm_box_wgs84, write_geotiff, yard_scene
from railwatch.cli.main import main
from railwatch.ingest import ingest_paths
from railwatch.storage import Database, repo

N = 120


@pytest.fixture()
def site(tmp_path: Path, tmp_db_url: str) -> Database:
    geo = tmp_path / "site.geojson"
    box = utm_box_wgs84(ORIGIN_X + 5, ORIGIN_Y - 55, ORIGIN_X + 55, ORIGIN_Y - 5)
    geo.write_text(json.dumps(mapping(box)))
    assert main(["--db", tmp_db_url, "site", "add", "yard", "--geojson", str(geo)]) == 0
    return Database(tmp_db_url)


def _ingest(db: Database, tmp_path: Path, mask: np.ndarray | None, seed: int) -> dict[str, object]:
    image = write_geotiff(tmp_path / f"yard{seed}_20240617T020000.tif", yard_scene(N, N, seed=seed))
    if mask is not None:
        write_geotiff(tmp_path / f"yard{seed}_20240617T020000.mask.tif", mask[None])
    summary = ingest_paths(db, "yard", [image])
    (line,) = summary.ingested
    with db.session(readonly=True) as s:
        (scene,) = [sc for sc in repo.list_scenes(s, "yard") if sc.uri.endswith(image.name)]
        assert (scene.mask_uri is not None) is (mask is not None)  # the mask was taken
    return line


def test_mask_values_outside_the_codes_are_named(site: Database, tmp_path: Path) -> None:
    mask = np.zeros((N, N), np.uint8)
    mask[:40] = 128  # a 0/128 cloud mask
    mask[40:50] = 7
    line = _ingest(site, tmp_path, mask, 1)
    warning = " ".join(str(line.get("warning", "")).split())
    assert "quality mask yard1_20240617T020000.mask.tif" in warning
    assert "7, 128" in warning and "read as no data" in warning
    assert "0 clear, 1 cloud, 2 haze, 3 snow, 4 cloud shadow, 255 no data" in warning


@pytest.mark.parametrize("codes", [(0,), (0, 1, 2, 3, 4, 255)])
def test_a_mask_in_the_codes_says_nothing(
    site: Database, tmp_path: Path, codes: tuple[int, ...]
) -> None:
    mask = np.zeros((N, N), np.uint8)
    for i, code in enumerate(codes):
        mask[i * 10 : i * 10 + 10] = code
    line = _ingest(site, tmp_path, mask, 2 + len(codes))
    assert "quality mask" not in str(line.get("warning", ""))


def test_no_mask_says_nothing(site: Database, tmp_path: Path) -> None:
    line = _ingest(site, tmp_path, None, 9)
    assert "quality mask" not in str(line.get("warning", ""))
