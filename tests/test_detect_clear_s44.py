"""``railwatch detect`` says how much of an image counted car by car is clear ground, and
refuses a quality mask given as an image (session 44).

Before, at 0.3-1.5 m ``detect`` judged nothing: a simulated 0.5 m scene 95 % under cloud
(40 railcars) read "13 (10-25)" without a word, and its quality mask ``NAME.mask.tif``
given as the image read "0 (0-2)", an empty yard. Now the image is judged as
``railwatch process`` judges a site (``imagery.quality.whole_image_quality``: by the mask beside
it, else estimated) and a note (or, under the usable threshold, a warning) says what
the count is of; ``--json`` gives ``clear_share`` and ``quality_mask`` for it as for a
coarse image.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio

from railwatch.cli.main import main
from railwatch.imagery.inspect import quality_mask_of
from railwatch.imagery.quality import whole_image_quality
from railwatch.sim.io import write_scene
from railwatch.sim.params import SceneParams
from railwatch.sim.scene import render_scene


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clear")
    base = SceneParams(seed=5, gsd=0.5, size_px=(400, 400), n_cars=20)
    for name, changes in (
        ("clear", {}),
        ("cloudy", {"cloud_cover": 0.95, "thin_cloud": 0.0}),
        ("some", {"cloud_cover": 0.05, "thin_cloud": 0.0, "seed": 11}),
    ):
        write_scene(render_scene(base.with_(**changes)), out, name)
    return out


def _detect(
    capsys: pytest.CaptureFixture[str], image: Path, *extra: str
) -> tuple[dict[str, Any], str]:
    out = image.with_suffix(".out.geojson")
    code = main(["detect", str(image), "-o", str(out), "--json", *extra])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    rows = json.loads(captured.out)
    return rows[0], captured.err


def _mask_share(image: Path) -> float:
    mask = quality_mask_of(image)
    assert mask is not None
    with rasterio.open(mask) as ds:
        m = ds.read(1)
    ok = m != 255
    return float(np.mean(m[ok] == 0))


def test_a_cloudy_image_is_said_to_be_so(scenes: Path, capsys: pytest.CaptureFixture[str]) -> None:
    row, err = _detect(capsys, scenes / "cloudy.tif")
    assert row["clear_share"] == pytest.approx(_mask_share(scenes / "cloudy.tif"), abs=0.01)
    assert row["clear_share"] < 0.1
    assert row["quality_mask"] is not None and row["quality_mask"].endswith("cloudy.mask.tif")
    text = " ".join(err.split())
    assert "warning: cloudy.tif: only" in text
    assert "of the image is clear ground" in text
    assert "by its quality mask cloudy.mask.tif" in text
    assert "Cars under cloud or haze are not seen, so the count," in text
    assert f"so the count, {row['total']} railcar" in text and "short of the yard's." in text
    assert "railwatch process stores a scene with less than 80% of its site clear" in text
    written = json.loads((scenes / "cloudy.out.geojson").read_text())  # the GeoJSON too
    assert written["clear_share"] == row["clear_share"]
    assert written["quality_mask"] == "cloudy.mask.tif"


def test_without_a_mask_it_is_estimated(
    scenes: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = tmp_path / "alone.tif"
    shutil.copy(scenes / "cloudy.tif", image)
    row, err = _detect(capsys, image)
    assert row["quality_mask"] is None
    assert row["clear_share"] < 0.2
    text = " ".join(err.split())
    assert "warning: alone.tif" in text and "as estimated from its pixels" in text


def test_part_cloud_is_a_note(scenes: Path, capsys: pytest.CaptureFixture[str]) -> None:
    share = _mask_share(scenes / "some.tif")
    assert 0.8 <= share < 0.9, share  # the scene the test needs: usable, not all clear
    row, err = _detect(capsys, scenes / "some.tif")
    assert row["clear_share"] == pytest.approx(share, abs=0.01)
    text = " ".join(err.split())
    assert "note: some.tif: only" in text and "cloud and cloud shadow" in text
    assert "warning" not in text and "railwatch process stores" not in text


def test_a_clear_image_says_nothing(scenes: Path, capsys: pytest.CaptureFixture[str]) -> None:
    row, err = _detect(capsys, scenes / "clear.tif")
    assert row["clear_share"] == 1.0
    assert "clear ground" not in err


def test_a_picture_without_a_map_grid_is_not_judged(
    scenes: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import cv2

    with rasterio.open(scenes / "cloudy.tif") as ds:
        rgb = np.moveaxis(ds.read(), 0, -1)
    png = tmp_path / "cloudy.png"
    cv2.imwrite(str(png), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    row, err = _detect(capsys, png, "--gsd", "0.5", "--no-scale-check")
    assert row["clear_share"] is None and row["quality_mask"] is None
    assert "clear ground" not in err


def test_a_large_image_is_judged_coarser(scenes: Path) -> None:
    image = scenes / "cloudy.tif"
    whole = whole_image_quality(image, gsd=0.5, mask_uri=quality_mask_of(image))
    coarse = whole_image_quality(image, gsd=0.5, mask_uri=quality_mask_of(image), max_pixels=20_000)
    assert whole is not None and coarse is not None
    assert whole.gsd == 0.5 and coarse.gsd == 1.5  # 400 x 400 px over 20,000: a factor 3
    assert coarse.clear == pytest.approx(whole.clear, abs=0.03)
    assert coarse.cloud == pytest.approx(whole.cloud, abs=0.03)


def test_a_quality_mask_given_as_the_image_is_refused(
    scenes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["detect", str(scenes / "cloudy.mask.tif")])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2
    assert "cloudy.mask.tif is a quality mask" in err
    assert f"({scenes / 'cloudy.tif'})" in err
    assert not (scenes / "cloudy.mask.detections.geojson").exists()


def test_the_overview_nearest_the_grid_is_read(scenes: Path, tmp_path: Path) -> None:
    from affine import Affine
    from rasterio.enums import Resampling

    from railwatch.imagery.read import SiteGrid, _overview_level

    path = tmp_path / "ovr.tif"
    shutil.copy(scenes / "cloudy.tif", path)
    with rasterio.open(path, "r+", IGNORE_COG_LAYOUT_BREAK="YES") as ds:
        ds.build_overviews([2, 4, 8], Resampling.average)
    with rasterio.open(path) as ds:
        t = ds.transform
        for factor, level in ((1, None), (1.5, None), (3, 0), (4, 1), (9, 2)):
            grid = SiteGrid(ds.crs.to_string(), t @ Affine.scale(factor), 10, 10, 0.5 * factor)
            assert _overview_level(ds, grid) == level, factor
        other = SiteGrid("EPSG:32653", t @ Affine.scale(4), 10, 10, 2.0)
        assert _overview_level(ds, other) is None
    # estimated from the pixels (a mask would decide alone), on the same 2 m grid: from the
    # copy's overview 4, and from the original file (its one overview, 2, then warped)
    small = whole_image_quality(path, gsd=0.5, max_pixels=400 * 400 // 16)
    plain = whole_image_quality(scenes / "cloudy.tif", gsd=0.5, max_pixels=400 * 400 // 16)
    assert small is not None and plain is not None and small.gsd == plain.gsd == 2.0
    assert small.clear == pytest.approx(plain.clear, abs=0.03)
    assert small.cloud == pytest.approx(plain.cloud, abs=0.05)
    assert small.cloud > 0.5  # the cloud is where it is, not shifted off the image


def test_masks_among_images_are_passed_over(
    scenes: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `detect DIR/*.tif`, as detect's own hint for a folder says, names the masks too
    code = main(
        ["detect", str(scenes / "clear.tif"), str(scenes / "clear.mask.tif"),
         str(scenes / "some.mask.tif"), "--out-dir", str(tmp_path / "out"), "--json"]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    rows = json.loads(captured.out)
    assert [Path(r["image"]).name for r in rows] == ["clear.tif"]
    err = " ".join(captured.err.split())
    assert "passed over 2 quality masks (clear.mask.tif, some.mask.tif)" in err
    assert not (tmp_path / "out" / "clear.mask.detections.geojson").exists()


def test_snow_is_said_as_snow_and_a_coarser_judgement_is_named(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from railwatch.cli.detect import _say_not_clear
    from railwatch.imagery.quality import FileQuality

    snowy = FileQuality(clear=0.17, cloud=0.0, haze=0.0, snow=0.83, mask=None, gsd=2.5)
    _say_not_clear(Path("winter.tif"), snowy, 21, 0.5)
    err = " ".join(capsys.readouterr().err.split())
    assert "snow 83%" in err and "Cars in snow may be missed, so the count, 21" in err
    assert "not seen" not in err  # snow does not hide cars as cloud does
    assert "judged at 2.5 m a pixel (a large image is judged coarser)" in err
    assert "(snow is not clear)" in err
    both = FileQuality(clear=0.5, cloud=0.3, haze=0.0, snow=0.2, mask="m.tif", gsd=0.5)
    _say_not_clear(Path("x.tif"), both, 3, 0.5)
    err = " ".join(capsys.readouterr().err.split())
    assert "Cars under cloud or haze are not seen and cars in snow may be missed" in err
    assert "judged at" not in err and "by its quality mask m.tif" in err
