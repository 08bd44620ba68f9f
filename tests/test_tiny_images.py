"""An image smaller than one railcar (railwatch.imagery.size) is never "0 railcars":
``railwatch detect`` refuses it, the pipeline stores its scene as unusable with the
reason. Before, a 1 x 1 px GeoTIFF read as 0 railcars (status 0), and a 15 m x 15 m
image over a small site was stored as a processed scene counting 0."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from imagery_helpers import ORIGIN_X, ORIGIN_Y, utm_box_wgs84, write_geotiff
from railwatch.cli.main import main
from railwatch.detect.api import detect_file
from railwatch.imagery.size import (
    MIN_IMAGE_PX,
    MIN_IMAGE_SPAN_M,
    ImageTooSmallError,
    image_too_small,
)
from railwatch.ingest import ingest_paths
from railwatch.pipeline import process_site
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from railwatch.storage.models import Count


class NoCars:
    name = "none"
    version = "1"

    def detect(self, image: Any, gsd: float, valid: Any = None) -> list[Any]:
        return []


def rgb(h: int, w: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, (3, h, w), dtype=np.uint8)


def test_the_rule() -> None:
    assert MIN_IMAGE_SPAN_M == 20.0 and MIN_IMAGE_PX == 2
    assert image_too_small(40, 40, 0.5) is None  # 20 m each way
    assert image_too_small(2, 2, 10.0) is None  # Sentinel-2: 20 m in 2 px
    assert "smaller than one railcar" in str(image_too_small(39, 400, 0.5))
    assert "too few pixels" in str(image_too_small(1, 1, 200.0))  # 200 m, one pixel
    assert "too few pixels" in str(image_too_small(200, 1, 0.5))


@pytest.mark.parametrize(
    ("h", "w", "res", "says"),
    [
        (1, 1, 0.5, "1 × 1 px at 0.5 m per pixel (0.5 m × 0.5 m on the ground), too few"),
        (30, 30, 0.5, "30 × 30 px at 0.5 m per pixel (15 m × 15 m on the ground), smaller"),
        (1, 200, 0.5, "200 × 1 px"),
        (1, 1, 200.0, "1 × 1 px at 200 m per pixel"),
    ],
)
def test_detect_refuses_an_image_smaller_than_a_railcar(
    tmp_path: Path, h: int, w: int, res: float, says: str
) -> None:
    path = write_geotiff(tmp_path / "tiny.tif", rgb(h, w), res=res)
    with pytest.raises(ImageTooSmallError) as info:
        detect_file(path, detector=NoCars())
    assert says in str(info.value)
    assert "counting needs at least 20 m and 2 px each way" in str(info.value)


def test_detect_cli_says_so_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_geotiff(tmp_path / "onepx.tif", rgb(1, 1))
    out = tmp_path / "cars.geojson"
    assert main(["detect", str(path), "-o", str(out)]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert err.startswith("error: onepx.tif: the image is 1 × 1 px at 0.5 m per pixel")
    assert "give an image of the whole yard, not a crop" in err
    assert not out.exists()
    png = tmp_path / "crop.png"
    Image.fromarray(rgb(30, 30).transpose(1, 2, 0)).save(png)
    assert main(["detect", str(png), "--gsd", "0.5", "-o", str(out)]) == 1
    assert (
        "(check the ground sample distance given, 0.5 m: gsd in Python, --gsd on"
        in capsys.readouterr().err
    )
    assert not out.exists()


def test_detect_at_the_limit_is_unchanged(tmp_path: Path) -> None:
    path = write_geotiff(tmp_path / "ok.tif", rgb(40, 40))  # 20 m x 20 m
    result = detect_file(path, detector=NoCars())
    assert result.method == "objects" and result.total == 0
    assert (result.width, result.height) == (40, 40)


def test_pipeline_stores_a_tiny_scene_as_unusable(tmp_path: Path) -> None:
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    write_geotiff(imgs / "crop_20240101.tif", rgb(30, 30))  # 15 m x 15 m at 0.5 m
    write_geotiff(imgs / "whole_20240102.tif", rgb(60, 60))  # 30 m x 30 m
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    site = utm_box_wgs84(ORIGIN_X + 1, ORIGIN_Y - 14, ORIGIN_X + 14, ORIGIN_Y - 1)  # 13 m
    with db.session() as s:
        repo.add_site(s, SiteSpec(name="yard", geometry=site))
    ingest = ingest_paths(db, "yard", [imgs])
    assert len(ingest.ingested) == 2, ingest.failed
    summary = process_site(db, "yard", detector=NoCars())
    assert not summary.failed
    assert len(summary.unusable) == 1 and len(summary.processed) == 1
    with db.session(readonly=True) as s:
        scenes = {sc.uri.rsplit("/", 1)[-1]: sc for sc in repo.list_scenes(s, "yard")}
        crop, whole = scenes["crop_20240101.tif"], scenes["whole_20240102.tif"]
        assert crop.status == "unusable" and crop.usable is False
        assert crop.reasons[0].startswith(
            "the image is 30 × 30 px at 0.5 m per pixel (15 m × 15 m on the ground), "
            "smaller than one railcar"
        )
        assert s.query(Count).filter(Count.scene_id == crop.id).count() == 0
        points = {p.scene_id: p for p in repo.count_series(s, "yard")}
        assert points[crop.id].count is None and not points[crop.id].usable  # a gap
        assert whole.status == "processed" and points[whole.id].count == 0.0
    listed = json.loads(_scene_list_json(db.url))
    assert [r["status"] for r in listed] == ["unusable", "processed"]
    db.dispose()


def _scene_list_json(url: str) -> str:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["--db", url, "scene", "list", "yard", "--json"]) == 0
    return out.getvalue()
