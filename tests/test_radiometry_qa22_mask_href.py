"""A STAC sidecar's quality-mask asset given as a ``file://`` URL: ``file://localhost/PATH``
was read as a relative folder ``localhost/``, and percent-escapes (``%20`` for a space)
were not decoded, so the mask was silently not found and the scene's quality was
estimated instead of read from it. It is read as image hrefs are
(:func:`railwatch.imagery.inspect.local_path`)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest

from imagery_helpers import write_geotiff
from railwatch.imagery import inspect_scene


def scene_with_mask_href(tmp_path: Path, href_of: str) -> tuple[Path, Path]:
    folder = tmp_path / "my scenes"  # a space: %20 in a URL
    folder.mkdir()
    image = write_geotiff(folder / "yard.tif", np.full((3, 40, 40), 90, np.uint8))
    mask = write_geotiff(folder / "yard quality.tif", np.ones((40, 40), np.uint8))
    href = {
        "localhost": "file://localhost" + quote(str(mask)),
        "escaped": "file://" + quote(str(mask)),
        "plain": "file://" + str(mask),
        "other-host": "file://fileserver" + quote(str(mask)),
    }[href_of]
    item = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": "yard",
        "properties": {"datetime": "2023-10-05T02:00:00Z"},
        "assets": {"mask": {"href": href, "roles": ["quality"]}},
    }
    image.with_suffix(".json").write_text(json.dumps(item))
    return image, mask


@pytest.mark.parametrize("href_of", ["localhost", "escaped", "plain"])
def test_a_file_url_mask_asset_is_found(tmp_path: Path, href_of: str) -> None:
    image, mask = scene_with_mask_href(tmp_path, href_of)
    assert inspect_scene(image).mask_uri == str(mask.resolve())


def test_a_file_url_of_another_host_is_not_taken_for_a_local_file(tmp_path: Path) -> None:
    image, _ = scene_with_mask_href(tmp_path, "other-host")
    assert inspect_scene(image).mask_uri is None
