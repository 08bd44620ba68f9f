"""Helpers shared by tests: tiny GeoTIFFs and the external-service policy."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest


def require_service(name: str, reason: str = "") -> None:
    """Skip the calling test because service ``name`` is missing, or fail under
    ``RAILWATCH_REQUIRE_SERVICES=1`` (CI), where every service must be present."""
    why = f"{name} is not available" + (f": {reason}" if reason else "")
    if os.environ.get("RAILWATCH_REQUIRE_SERVICES", "").strip().lower() in ("1", "true", "yes"):
        pytest.fail(f"{why} (RAILWATCH_REQUIRE_SERVICES=1 requires it)")
    pytest.skip(why)


def make_geotiff(
    path: Path,
    *,
    crs: str = "EPSG:32652",
    origin: tuple[float, float] = (500_000.0, 4_680_000.0),
    gsd: float = 0.5,
    width: int = 64,
    height: int = 48,
    bands: int = 3,
    dtype: str = "uint8",
    nodata: float | None = None,
    data: np.ndarray | None = None,
    tags: dict[str, str] | None = None,
    **profile: Any,
) -> Path:
    """Write a small north-up GeoTIFF whose top-left corner is ``origin`` (CRS units).

    Pixels are a deterministic gradient unless ``data`` (bands, H, W) is given.
    """
    import rasterio
    from affine import Affine

    if data is None:
        yy, xx = np.mgrid[0:height, 0:width]
        base = (xx * 3 + yy * 5) % 200 + 20
        data = np.stack([(base + 10 * b) for b in range(bands)]).astype(dtype)
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=width,
        height=height,
        count=bands,
        dtype=dtype,
        crs=crs,
        transform=Affine(gsd, 0.0, origin[0], 0.0, -gsd, origin[1]),
        nodata=nodata,
        **profile,
    ) as dst:
        dst.write(data)
        if tags:
            dst.update_tags(**tags)
    return path
