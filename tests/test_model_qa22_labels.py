"""QA of reading labels for `railwatch train --labels` / `calibrate --labels` (session
22): the messages for labels in another CRS and for a damaged image."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from railwatch.errors import InputError


def _labelled_geotiff(folder: Path, crs_member: dict[str, Any] | None, cut: bool = False) -> None:
    """A 0.5 m UTM GeoTIFF with one car labelled in UTM metres, under ``crs_member``."""
    import rasterio
    from rasterio.transform import from_origin

    folder.mkdir()
    path = folder / "a.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=256,
        height=256,
        count=3,
        dtype="uint8",
        crs="EPSG:32633",
        transform=from_origin(500000, 4700000, 0.5, 0.5),
    ) as ds:
        ds.write(np.random.default_rng(0).integers(60, 140, (3, 256, 256)).astype("uint8"))
    if cut:
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 3])
    ring = [[500050, 4699950], [500065, 4699950], [500065, 4699947], [500050, 4699947]]
    fc: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"class": "boxcar"},
                "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
            }
        ],
    }
    if crs_member is not None:
        fc["crs"] = crs_member
    (folder / "a.truth.geojson").write_text(json.dumps(fc))


def test_labels_in_metres_under_epsg_4326_are_not_said_to_lack_a_crs(tmp_path: Path) -> None:
    """A label file whose 'crs' member names EPSG:4326 over UTM metres was told it 'has no
    'crs' member'; the message now fits both cases and names the image's CRS."""
    from railwatch.detect.labels import load_labelled_dir

    _labelled_geotiff(tmp_path / "L", {"type": "name", "properties": {"name": "EPSG:4326"}})
    with pytest.raises(InputError) as err:
        load_labelled_dir(tmp_path / "L")
    assert "has no 'crs' member, which means" not in str(err.value)
    assert "or with one naming EPSG:4326" in str(err.value)
    assert "the image's CRS (EPSG:32633)" in str(err.value)


def test_a_damaged_image_says_what_to_do(tmp_path: Path) -> None:
    """A truncated image gave only GDAL's 'Read failed. See previous exception'."""
    from railwatch.detect.labels import load_labelled_dir

    _labelled_geotiff(tmp_path / "L", {"type": "name", "properties": {"name": "EPSG:32633"}}, True)
    with pytest.raises(InputError, match=r"a\.tif: cannot read the pixels .*damaged or cut short"):
        load_labelled_dir(tmp_path / "L")
