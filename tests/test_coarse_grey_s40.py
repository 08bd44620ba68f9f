"""A coarse image without colour is a gap, never a count (2026-12-06, session 40).

The occupied length (1.5-10 m) reads cars by their colour against the empty track: a
grey image (one band, or three equal ones) reads too few, often 0 (simulated 3 m yards
of 40 cars read 0.0-27.3 in grey, 34.6-45.6 in colour), and its interval does not reach
the truth, so a grey scene stored as a count read as a drop. ``railwatch process`` and
``railwatch.assess_file`` now judge it unusable with the reason; grey images counted car
by car (finer than 1.5 m; the detector was trained on grey crops too) are judged as
before."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio

import railwatch
from imagery_helpers import scene_site_and_tracks, write_geotiff
from railwatch.ingest import ingest_paths
from railwatch.pipeline import process_site
from railwatch.sim import SceneParams, render_scene
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo


def _yard(out: Path, gsd: float, n: int, seed: int) -> dict[str, Any]:
    """A simulated yard in colour and as one luminance band; its site (the central 70 %)
    and tracks in lon/lat."""
    scene = render_scene(SceneParams(seed=seed, size_px=(n, n), gsd=gsd, n_cars=40, noise=2.0))
    img, T, crs = scene.image, scene.transform, scene.crs
    rgb = np.moveaxis(img, -1, 0)
    grey = np.round(0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]).astype(np.uint8)
    paths = {
        "colour": write_geotiff(out / "20240501_colour.tif", rgb, crs=crs, transform=T),
        "grey": write_geotiff(out / "20240502_grey.tif", grey[None], crs=crs, transform=T),
    }
    site, tracks = scene_site_and_tracks(scene)
    return {"paths": paths, "site": site, "tracks": tracks}


@pytest.fixture(scope="module")
def coarse(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _yard(tmp_path_factory.mktemp("grey3m"), 3.0, 300, 4)


def _scenes(db: Database, site: str) -> dict[str, Any]:
    with db.session() as s:
        points = {p.scene_id: p.count for p in repo.count_series(s, site)}
        return {
            Path(sc.uri).stem.split("_", 1)[1]: {
                "status": sc.status,
                "reasons": list(sc.reasons or ()),
                "count": points.get(sc.id),
            }
            for sc in repo.list_scenes(s, site)
        }


def test_a_grey_3_m_scene_is_a_gap_with_its_reason(tmp_path: Path, coarse: dict[str, Any]) -> None:
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    with db.session() as s:
        repo.add_site(s, SiteSpec(name="yard", geometry=coarse["site"], tracks=coarse["tracks"]))
    summary = ingest_paths(db, "yard", list(coarse["paths"].values()))
    assert len(summary.ingested) == 2, summary.failed
    process_site(db, "yard")
    got = _scenes(db, "yard")
    assert got["colour"]["status"] == "processed" and got["colour"]["count"] is not None
    assert got["grey"]["status"] == "unusable" and got["grey"]["count"] is None
    first = got["grey"]["reasons"][0]
    assert first.startswith("no colour") and "ingest a colour product" in first


def test_a_grey_3_m_scene_with_an_all_clear_mask_is_not_counted(
    tmp_path: Path, coarse: dict[str, Any]
) -> None:
    """With a quality mask the pixels' haze estimate (which calls most of a grey image
    hazy) does not judge: before, the grey scene was usable and its low count stored."""
    src = coarse["paths"]["grey"]
    grey = tmp_path / src.name
    grey.write_bytes(src.read_bytes())
    with rasterio.open(src) as ds:
        clear = np.zeros((1, ds.height, ds.width), np.uint8)  # 0: clear (the mask codes)
        write_geotiff(
            tmp_path / (src.stem + ".mask.tif"), clear, crs=ds.crs, transform=ds.transform
        )
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    with db.session() as s:
        repo.add_site(s, SiteSpec(name="yard", geometry=coarse["site"], tracks=coarse["tracks"]))
    summary = ingest_paths(db, "yard", [grey])
    assert len(summary.ingested) == 1, summary.failed
    process_site(db, "yard")
    got = _scenes(db, "yard")["grey"]
    assert got["status"] == "unusable" and got["count"] is None
    assert got["reasons"][0].startswith("no colour")


def test_assess_file_judges_a_grey_coarse_image_unusable(coarse: dict[str, Any]) -> None:
    spec = SiteSpec(name="yard", geometry=coarse["site"], tracks=coarse["tracks"])
    grey = railwatch.assess_file(coarse["paths"]["grey"], spec)
    assert not grey.usable and grey.reasons[0].startswith("no colour")
    colour = railwatch.assess_file(coarse["paths"]["colour"], spec)
    assert not any(r.startswith("no colour") for r in colour.reasons)


def test_a_grey_image_counted_car_by_car_is_judged_as_before(tmp_path: Path) -> None:
    """At 0.5 m the detector reads grey images (it was trained on grey crops): no such
    reason."""
    fine = _yard(tmp_path, 0.5, 300, 4)
    spec = SiteSpec(name="yard", geometry=fine["site"], tracks=fine["tracks"])
    grey = railwatch.assess_file(fine["paths"]["grey"], spec)
    assert not any(r.startswith("no colour") for r in grey.reasons)
