"""``railwatch detect`` says when an image counted car by car shows almost nothing, and
how much of it holds data (session 45).

Before, a simulated 0.5 m yard of 30 railcars at 4 % of its brightness read "0 (0-2)"
without a word, and the same yard with 70 % of the image black fill (0 in every band, no
nodata declared) over its cars read "0 (0-2)" too: an empty yard, where ``railwatch
process`` stores the first as unusable ("the image shows almost nothing over the site")
and the second as 25 % covered. Now ``imagery.quality.whole_image_quality`` gives the
share of the file with data and the image's own problems (blank or too dark,
under-exposed, upsampled), ``detect`` warns of the problems and notes a small share with
data, and ``--json`` and the GeoJSON give ``data_share`` and ``quality_problems``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio

from railwatch.cli.main import main
from railwatch.imagery.quality import assess_quality, whole_image_quality
from railwatch.imagery.read import SiteGrid, read_site_window
from railwatch.sim.io import write_scene
from railwatch.sim.params import SceneParams
from railwatch.sim.scene import render_scene


def _rewrite(src: Path, dst: Path, change: Any, *, nodata: bool = True) -> Path:
    with rasterio.open(src) as ds:
        profile, data = ds.profile, ds.read()
    if not nodata:
        profile.pop("nodata", None)
    with rasterio.open(dst, "w", **profile) as out:
        out.write(change(data).astype(data.dtype))
    return dst


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("problems")
    params = SceneParams(seed=5, gsd=0.5, size_px=(400, 400), n_cars=20)
    image = write_scene(render_scene(params), out, "clear", preview=False).image
    _rewrite(image, out / "dark.tif", lambda d: d.astype(float) * 0.04)

    def black_left(d: np.ndarray) -> np.ndarray:
        d = d.copy()
        d[:, :, : int(d.shape[2] * 0.7)] = 0
        return d

    _rewrite(image, out / "fill.tif", black_left, nodata=False)
    return out


def _detect(capsys: pytest.CaptureFixture[str], image: Path) -> tuple[dict[str, Any], str]:
    out = image.with_suffix(".out.geojson")
    code = main(["detect", str(image), "-o", str(out), "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)[0], " ".join(captured.err.split())


def test_a_dark_image_is_said_to_show_almost_nothing(
    scenes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    row, err = _detect(capsys, scenes / "dark.tif")
    assert "warning: dark.tif: the image shows almost nothing: its pixels span" in err
    assert "too dark, or blank" in err
    assert "railwatch process stores such a scene as unusable and never counts it" in err
    assert f"the count, {row['total']} railcar" in err
    assert len(row["quality_problems"]) == 1
    assert row["quality_problems"][0].startswith("the image shows almost nothing:")
    written = json.loads((scenes / "dark.out.geojson").read_text())
    assert written["quality_problems"] == row["quality_problems"]


def test_an_image_mostly_black_fill_says_how_much_holds_data(
    scenes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    row, err = _detect(capsys, scenes / "fill.tif")
    assert row["data_share"] == pytest.approx(0.3, abs=0.03)
    assert "note: fill.tif: only 30% of the image holds data (the rest is no data or " in err
    assert f"the count, {row['total']} railcar" in err and "is of that part." in err
    assert row["quality_problems"] == []


def test_a_clear_full_image_says_neither(scenes: Path, capsys: pytest.CaptureFixture[str]) -> None:
    row, err = _detect(capsys, scenes / "clear.tif")
    assert row["data_share"] == pytest.approx(1.0, abs=0.01)
    assert row["quality_problems"] == []
    assert "holds data" not in err and "shows almost nothing" not in err


def test_the_site_reasons_are_as_before(scenes: Path) -> None:
    """The same problem over a site is still worded of the site, and is among its reasons."""
    whole = whole_image_quality(scenes / "dark.tif", gsd=0.5)
    assert whole is not None and whole.problems
    with rasterio.open(scenes / "dark.tif") as ds:
        grid = SiteGrid(
            crs=ds.crs.to_string(), transform=ds.transform, width=ds.width, height=ds.height,
            gsd=0.5,
        )  # fmt: skip
    q = assess_quality(read_site_window(scenes / "dark.tif", grid))
    assert not q.usable
    assert q.image_problems and q.image_problems[0].startswith(
        "the image shows almost nothing over the site:"
    )
    assert q.image_problems[0] in q.reasons
