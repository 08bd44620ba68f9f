"""``process`` reads a 0.3-1.5 m site window band by band only from
``pipeline.LAZY_WINDOW_PIXELS`` window pixels (session 36): below, the whole read peaks
lower (docs/benchmarks.md, *Memory of `process` on large site windows*)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import Polygon

from railwatch import pipeline
from railwatch.imagery.read import read_site_window
from railwatch.pipeline import SceneJob, process_scene


def _scene(tmp_path: Path) -> tuple[str, Polygon]:
    """A 400 px grey 0.5 m GeoTIFF (UTM 52N) and a site inside it."""
    path = tmp_path / "scene.tif"
    rng = np.random.default_rng(3)
    data = (120 + rng.integers(0, 20, (3, 400, 400))).astype("uint8")
    transform = from_origin(500_000.0, 4_700_000.0, 0.5, 0.5)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=400,
        height=400,
        count=3,
        dtype="uint8",
        crs="EPSG:32652",
        transform=transform,
    ) as dst:
        dst.write(data)
    from pyproj import Transformer

    to_wgs = Transformer.from_crs("EPSG:32652", "EPSG:4326", always_xy=True)
    (x0, x1), (y0, y1) = (500_020.0, 500_180.0), (4_699_820.0, 4_699_980.0)
    ring = [to_wgs.transform(x, y) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]
    return str(path), Polygon(ring)


@pytest.mark.parametrize("threshold, lazy_expected", [(32_000_000, False), (0, True)])
def test_small_windows_are_read_whole_large_ones_by_rows(
    threshold: int, lazy_expected: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri, geom = _scene(tmp_path)
    asked: list[bool] = []

    def spy(*args: Any, lazy: bool = False, **kwargs: Any) -> Any:
        asked.append(lazy)
        return read_site_window(*args, lazy=lazy, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(pipeline, "read_site_window", spy)
    monkeypatch.setattr(pipeline, "LAZY_WINDOW_PIXELS", threshold)

    class NoCars:
        name = "none"
        version = "1"

        def detect(self, image: np.ndarray, gsd: float, **kwargs: Any) -> list[Any]:
            return []

    job = SceneJob(scene_id=1, uri=uri, gsd=0.5, site_geometry=geom, usable_threshold=0.3)
    outcome = process_scene(job, NoCars())  # type: ignore[arg-type]
    assert outcome.error is None, outcome.error
    assert asked == [lazy_expected]
