"""Fine-tuning labels on a display-encoded 16-bit image (a visual product x257): the
image was always read as linear data (stretched per band and gamma-encoded again), so
the network was taught on a washed-out copy of what ``detect --radiometry display``
shows it. The label file's top-level ``"radiometry"`` (what detect writes), else the
image's sidecar, now says how to read it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from imagery_helpers import write_geotiff
from railwatch.detect.labels import load_labelled_dir
from railwatch.errors import InputError

GSD = 0.5


def eight_bit() -> np.ndarray:
    """(3, 120, 120) uint8: a reddish ground (red 60..200, blue 20..90), one grey car."""
    rng = np.random.default_rng(2)
    data = np.stack(
        [
            rng.integers(60, 201, (120, 120)),
            rng.integers(40, 151, (120, 120)),
            rng.integers(20, 91, (120, 120)),
        ]
    ).astype(np.uint8)
    data[:, 56:63, 40:72] = 128  # a 16 m x 3.5 m car
    data[0, :2, :20] = 0  # enough pixels at each end for the 0.01-99.99 % range
    data[0, 2:4, :20] = 255
    return data


def labelled_dir(tmp_path: Path, **top: Any) -> tuple[Path, np.ndarray]:
    folder = tmp_path / "labels"
    folder.mkdir(parents=True)
    v = eight_bit()
    write_geotiff(folder / "yard.tif", v.astype(np.uint16) * 257, res=GSD, crs=None)
    ring = [[40, 56], [72, 56], [72, 63], [40, 63], [40, 56]]
    fc = {
        "type": "FeatureCollection",
        "crs": None,
        "gsd": GSD,
        **top,
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {"class": "boxcar"},
            }
        ],
    }
    (folder / "yard.truth.geojson").write_text(json.dumps(fc))
    return folder, np.moveaxis(v, 0, -1)


def pixels(folder: Path) -> np.ndarray:
    labelled = load_labelled_dir(folder)
    assert len(labelled.images) == 1 and len(labelled.images[0].cars) == 1
    return labelled.images[0].image.astype(int)


def test_the_label_files_radiometry_reads_the_image_as_the_8_bit_one(tmp_path: Path) -> None:
    folder, expected = labelled_dir(tmp_path, radiometry="display")
    # stored at 0.5 m (its own gsd): the same pixels as the 8-bit image
    assert np.abs(pixels(folder) - expected).max() <= 1


def test_without_it_the_image_is_read_as_linear_data(tmp_path: Path) -> None:
    folder, expected = labelled_dir(tmp_path)
    assert pixels(folder).mean() > expected.mean() + 25


def test_the_sidecar_says_it_when_the_label_file_does_not(tmp_path: Path) -> None:
    folder, expected = labelled_dir(tmp_path)
    (folder / "yard.json").write_text(
        json.dumps({"type": "Feature", "properties": {"radiometry": "display"}})
    )
    assert np.abs(pixels(folder) - expected).max() <= 1


def test_a_bad_radiometry_is_a_problem_named_with_its_file(tmp_path: Path) -> None:
    folder, _ = labelled_dir(tmp_path, radiometry="sRGB gamma")
    with pytest.raises(InputError) as err:
        load_labelled_dir(folder)
    msg = str(err.value)
    assert "yard.truth.geojson: its top-level 'radiometry' 'sRGB gamma': give 'linear'" in msg

    folder, _ = labelled_dir(tmp_path / "side")
    (folder / "yard.json").write_text(json.dumps({"radiometry": 1}))
    with pytest.raises(InputError, match=r"yard\.json: its 'radiometry' '1': give 'linear'"):
        load_labelled_dir(folder)
