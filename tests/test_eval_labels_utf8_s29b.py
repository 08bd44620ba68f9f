"""A label image's sidecar ``NAME.json`` (its gsd, its radiometry) is read as UTF-8: it
was read in the locale's encoding, so a STAC sidecar with a non-ASCII title broke
``train --labels`` and ``eval --truth`` under a non-UTF-8 locale, and a file that is
not UTF-8 ended in a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from railwatch.detect.labels import load_labelled_dir
from railwatch.errors import InputError

#: a STAC item (as the simulator writes it): eval reads only an item's gsd (session 31)
SIDECAR = {
    "type": "Feature",
    "stac_version": "1.0.0",
    "properties": {"title": "Tumangang – Khasan yard, 31 °C", "gsd": 0.5},
}


def _labelled(folder: Path) -> Path:
    """A 200 x 200 px PNG with one car in pixel coordinates and no gsd of its own."""
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((200, 200, 3), 90, np.uint8)).save(folder / "a.png")
    ring = [[50.0, 90.0], [78.0, 90.0], [78.0, 96.4], [50.0, 96.4], [50.0, 90.0]]
    fc = {
        "type": "FeatureCollection",
        "crs": None,
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {"class": "tank"},
            }
        ],
    }
    (folder / "a.truth.geojson").write_text(json.dumps(fc), encoding="utf-8")
    return folder / "a.json"


def test_a_sidecar_that_is_not_utf8_says_so(tmp_path: Path) -> None:
    side = _labelled(tmp_path)
    side.write_bytes(json.dumps(SIDECAR, ensure_ascii=False).encode("latin-1", "replace"))
    with pytest.raises(InputError, match=r"a\.json: not UTF-8 text .*: save it as UTF-8"):
        load_labelled_dir(tmp_path)


def test_a_utf8_sidecar_is_read_under_an_ascii_locale(tmp_path: Path) -> None:
    side = _labelled(tmp_path)
    side.write_text(json.dumps(SIDECAR, ensure_ascii=False), encoding="utf-8")
    env = dict(os.environ, LC_ALL="C", LANG="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    code = (
        "import locale, sys\n"
        "from railwatch.detect.labels import load_labelled_dir\n"
        "assert locale.getpreferredencoding(False) != 'UTF-8', 'the locale is UTF-8'\n"
        f"print(load_labelled_dir({str(tmp_path)!r}).images[0].native_gsd)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "0.5"


def test_the_stac_gsd_beside_a_truth_is_read_under_an_ascii_locale(tmp_path: Path) -> None:
    """eval reads a simulator truth's gsd from the STAC item NAME.json beside it: under
    a non-UTF-8 locale a non-ASCII title made it no gsd at all (resolution unknown)."""
    from railwatch.detect.base import Detection, OrientedBox
    from railwatch.detect.geojson import to_feature_collection, write_geojson

    cars = [Detection(OrientedBox(100.0, 100.0, 14.0, 3.2, 0.0), cls="tank")]
    for folder, suffix in (("truth", ".truth.geojson"), ("pred", ".detections.geojson")):
        write_geojson(tmp_path / folder / f"s1{suffix}", to_feature_collection(cars, crs=None))
    (tmp_path / "truth" / "s1.json").write_text(
        json.dumps(SIDECAR, ensure_ascii=False), encoding="utf-8"
    )
    env = dict(os.environ, LC_ALL="C", LANG="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    code = (
        "import locale\n"
        "from railwatch.detect.eval import evaluate_dirs\n"
        "assert locale.getpreferredencoding(False) != 'UTF-8', 'the locale is UTF-8'\n"
        f"(s,) = evaluate_dirs({str(tmp_path / 'truth')!r}, pred_dir={str(tmp_path / 'pred')!r})\n"
        "print(s.gsd)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "0.5"
